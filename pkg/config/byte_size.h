// Byte sizes in Prometheus's configuration format (alecthomas/units.Base2Bytes): an integer
// followed by B, KB, MB, GB, TB, PB, EB or their KiB… spellings, all powers of 1024
// ("10MB" = 10485760); "0" alone means unset / no limit. Thread-compatible value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pkg/util/result.h"

namespace kiln::config {

struct ByteSize {
  int64_t bytes = 0;

  // Fails with `units: unknown unit … in …` style messages for bad input.
  static Result<ByteSize> Parse(std::string_view s);
  // The largest exact binary unit: "10MiB", "512KiB", "7B"; "0B" for zero.
  std::string ToString() const;
  friend bool operator==(ByteSize, ByteSize) = default;
};

}  // namespace kiln::config
