// The sample iterator every chunk encoding and every storage layer returns.
//
// Usage: while (it->Next() != ValueType::kNone) { auto [t, v] = it->At(); … }
//        then check it->err() once (sticky error pattern).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <utility>

#include "pkg/util/status.h"

namespace kiln::chunkenc {

enum class ValueType { kNone, kFloat, kHistogram, kFloatHistogram };

class Iterator {
 public:
  virtual ~Iterator() = default;
  // Advances; returns the type of the new sample, or kNone at the end or on error.
  virtual ValueType Next() = 0;
  // Advances to the first sample with timestamp >= t (staying put if already there).
  // Returns kNone if there is none. Never moves backwards.
  virtual ValueType Seek(int64_t t) = 0;
  // REQUIRES: the last Next/Seek returned kFloat.
  virtual std::pair<int64_t, double> At() const = 0;
  // Timestamp of the current sample, whatever its type.
  virtual int64_t AtT() const = 0;
  virtual Status err() const = 0;
};

}  // namespace kiln::chunkenc
