// Sample values and timestamps as Prometheus represents them.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

namespace kiln::model {

// Milliseconds since the Unix epoch.
using Timestamp = int64_t;

inline constexpr Timestamp kMinTime = std::numeric_limits<int64_t>::min();
inline constexpr Timestamp kMaxTime = std::numeric_limits<int64_t>::max();

// The NaN Prometheus writes as a staleness marker, distinct from an ordinary NaN
// (0x7ff8000000000001) by its bit pattern.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ull;
inline constexpr uint64_t kNormalNaNBits = 0x7ff8000000000001ull;

inline double StaleNaN() {
  double d;
  std::memcpy(&d, &kStaleNaNBits, sizeof d);
  return d;
}

inline bool IsStaleNaN(double v) {
  uint64_t u;
  std::memcpy(&u, &v, sizeof u);
  return u == kStaleNaNBits;
}

struct Sample {
  Timestamp t;
  double v;
};

}  // namespace kiln::model
