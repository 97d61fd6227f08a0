// PromQL result values: scalars, strings, instant vectors and range matrices, as the engine
// returns them and the HTTP API renders them. Plain value types (thread-compatible).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pkg/model/labels.h"

namespace kiln::promql {

// A native histogram sample with float counts. The engine carries these through its value
// types but does not evaluate them yet (see promqltest/skip.txt); the fields mirror
// Prometheus's FloatHistogram so the API can render them.
struct FloatHistogram {
  struct Span {
    int32_t offset = 0;
    uint32_t length = 0;
  };
  int32_t schema = 0;
  double zero_threshold = 0;
  double zero_count = 0;
  double count = 0;
  double sum = 0;
  std::vector<Span> positive_spans;
  std::vector<Span> negative_spans;
  std::vector<double> positive_buckets;
  std::vector<double> negative_buckets;
  std::vector<double> custom_values;  // upper bounds when schema is -53 (custom buckets)
};

struct FPoint {
  int64_t t = 0;  // ms
  double f = 0;
};

struct HPoint {
  int64_t t = 0;
  std::shared_ptr<const FloatHistogram> h;
};

// One element of an instant vector. `drop_name` implements delayed __name__ removal: an
// operation that would drop the metric name only marks the sample, and the engine removes
// the name when the query finishes (so later label matching still sees it).
struct Sample {
  model::Labels metric;
  int64_t t = 0;
  double f = 0;
  std::shared_ptr<const FloatHistogram> h;  // non-null for histogram samples
  bool drop_name = false;
};

using Vector = std::vector<Sample>;

struct Series {
  model::Labels metric;
  std::vector<FPoint> floats;
  std::vector<HPoint> histograms;
  bool drop_name = false;
};

using Matrix = std::vector<Series>;

struct Scalar {
  int64_t t = 0;
  double v = 0;
};

struct String {
  int64_t t = 0;
  std::string v;
};

using Value = std::variant<Scalar, String, Vector, Matrix>;

enum class ValueKind { kScalar, kString, kVector, kMatrix };
inline ValueKind KindOf(const Value& v) { return static_cast<ValueKind>(v.index()); }

// Formats a float as Go's strconv.FormatFloat(f, 'f', -1, 64) does for results and labels
// ("1", "0.5", "+Inf", "NaN").
std::string FormatFloat(double f);
// Formats like Go's %g (shortest digits, exponent from 1e+06): used in annotations.
std::string FormatFloatG(double f);
// Formats like Go's %v for a float64 (exponent from 1e+21): used in error messages.
std::string FormatFloatV(double f);

// Go's strconv.ParseFloat(s, 64): decimal or hex floats, Inf/Infinity/NaN in any case.
std::optional<double> ParseGoFloat(std::string_view s);

// Sorts a matrix by labels (Prometheus returns range results sorted).
void SortMatrix(Matrix* m);

}  // namespace kiln::promql
