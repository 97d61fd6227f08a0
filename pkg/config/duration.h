// Durations in Prometheus's configuration format (common/model.Duration): a sequence of
// `<n><unit>` with units y (365d), w, d, h, m, s, ms in that order, each at most once, e.g.
// "1h30m", "1d", "500ms"; "0" alone is allowed. Thread-compatible value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pkg/util/result.h"

namespace kiln::config {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration Millis(int64_t ms) { return Duration(ms); }
  static constexpr Duration Seconds(int64_t s) { return Duration(s * 1000); }
  static constexpr Duration Minutes(int64_t m) { return Duration(m * 60 * 1000); }

  // Fails with `not a valid duration string: "<s>"` (or `empty duration string`).
  static Result<Duration> Parse(std::string_view s);

  constexpr int64_t millis() const { return ms_; }
  double seconds() const { return static_cast<double>(ms_) / 1000.0; }
  // Prometheus's canonical form: "0s", "1m30s", "90d" (years and weeks only when exact).
  std::string ToString() const;

  friend constexpr auto operator<=>(Duration, Duration) = default;

 private:
  constexpr explicit Duration(int64_t ms) : ms_(ms) {}
  int64_t ms_ = 0;
};

}  // namespace kiln::config
