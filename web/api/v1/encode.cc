#include "web/api/v1/encode.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "pkg/util/float_format.h"

namespace kiln::web::api::v1 {

namespace {

// Upstream's bucket boundary codes: 0 (lower, upper], 1 [lower, upper), 2 (lower, upper),
// 3 [lower, upper].
enum Boundaries { kOpenLeft = 0, kOpenRight = 1, kClosedBoth = 3 };

// Upper bounds of FormatTimestamp's and FormatSampleValue's output.
constexpr size_t kMaxTimestampChars = 32;    // "-9223372036854775.808"
constexpr size_t kMaxSampleValueChars = 48;  // quotes + the longest 'f' or 'e' form below

char* AppendLiteral(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// Upstream's jsonutil.MarshalTimestamp: whole seconds, then "." and the milliseconds as three
// digits when they are not zero (1.500, not 1.5). Writes at most kMaxTimestampChars.
char* FormatTimestamp(int64_t ms, char* p) {
  // Unsigned, so that the most negative timestamp has a magnitude too.
  uint64_t mag = static_cast<uint64_t>(ms);
  if (ms < 0) {
    *p++ = '-';
    mag = ~mag + 1;
  }
  p = std::to_chars(p, p + 24, mag / 1000).ptr;
  const auto frac = static_cast<unsigned>(mag % 1000);
  if (frac != 0) {
    *p++ = '.';
    *p++ = static_cast<char>('0' + frac / 100);
    *p++ = static_cast<char>('0' + frac / 10 % 10);
    *p++ = static_cast<char>('0' + frac % 10);
  }
  return p;
}

// Upstream's jsonutil.MarshalFloat as a quoted JSON string: Go's strconv 'f' form with the
// shortest digits that round-trip, 'e' form for |v| < 1e-6 and |v| >= 1e21. Writes at most
// kMaxSampleValueChars.
char* FormatSampleValue(double v, char* p) {
  *p++ = '"';
  const double a = std::fabs(v);
  if (std::isnan(v)) {
    p = AppendLiteral(p, "NaN");
  } else if (std::isinf(v)) {
    p = AppendLiteral(p, v > 0 ? "+Inf" : "-Inf");
  } else if (a == 0 || (a >= 1e-6 && a < 0x1p53)) {
    // Below 2^53 the shortest fixed form that round-trips (what to_chars writes) has Go's
    // digits. Above, Go pads its shortest digits with zeros where to_chars prints the exact
    // integer, so those go through FormatFloatF. At most 1 + 16 + 1 + 22 characters here.
    p = std::to_chars(p, p + 42, v, std::chars_format::fixed).ptr;
  } else {
    const std::string s = a >= 1e21 || a < 1e-6 ? FormatFloatE(v) : FormatFloatF(v);
    p = AppendLiteral(p, s);  // at most 24 ("-1.2345678901234567e-308"; 'f' stays below 1e21)
  }
  *p++ = '"';
  return p;
}

void WriteBucket(JsonWriter& w, int boundaries, double lower, double upper, double count) {
  w.BeginArray().Int(boundaries);
  WriteSampleValue(w, lower);
  WriteSampleValue(w, upper);
  WriteSampleValue(w, count);
  w.EndArray();
}

// The upper bound of bucket `idx` in an exponential schema: 2^(idx * 2^-schema).
double ExponentialBound(int32_t idx, int32_t schema) {
  return std::exp2(static_cast<double>(idx) * std::exp2(-static_cast<double>(schema)));
}

// Calls fn(index, count) for each bucket of a span/bucket list.
template <typename F>
void ForEachBucket(const std::vector<promql::FloatHistogram::Span>& spans,
                   const std::vector<double>& buckets, F&& fn) {
  size_t b = 0;
  int32_t idx = 0;
  for (const auto& span : spans) {
    idx += span.offset;
    for (uint32_t k = 0; k < span.length && b < buckets.size(); ++k, ++idx, ++b) {
      fn(idx, buckets[b]);
    }
  }
}

void WriteSample(JsonWriter& w, const promql::Sample& s) {
  w.BeginObject().Key("metric");
  WriteLabels(w, s.metric);
  if (s.h != nullptr) {
    w.Key("histogram").BeginArray();
    WriteTimestamp(w, s.t);
    WriteHistogram(w, *s.h);
    w.EndArray();
  } else {
    w.Key("value");
    WriteFloatPoint(w, s.t, s.f);
  }
  w.EndObject();
}

void WriteSeries(JsonWriter& w, const promql::Series& s) {
  w.BeginObject().Key("metric");
  WriteLabels(w, s.metric);
  // Upstream leaves out "values" / "histograms" when the series has none of that kind.
  if (!s.floats.empty()) {
    w.Key("values").BeginArray();
    for (const auto& p : s.floats) WriteFloatPoint(w, p.t, p.f);
    w.EndArray();
  }
  if (!s.histograms.empty()) {
    w.Key("histograms").BeginArray();
    for (const auto& p : s.histograms) {
      w.BeginArray();
      WriteTimestamp(w, p.t);
      WriteHistogram(w, *p.h);
      w.EndArray();
    }
    w.EndArray();
  }
  w.EndObject();
}

}  // namespace

void WriteTimestamp(JsonWriter& w, int64_t ms) {
  char buf[kMaxTimestampChars];
  w.Raw(std::string_view(buf, static_cast<size_t>(FormatTimestamp(ms, buf) - buf)));
}

void WriteSampleValue(JsonWriter& w, double v) {
  char buf[kMaxSampleValueChars];
  w.Raw(std::string_view(buf, static_cast<size_t>(FormatSampleValue(v, buf) - buf)));
}

void WriteLabels(JsonWriter& w, const model::Labels& ls) {
  w.BeginObject();
  for (const auto& l : ls) w.Key(l.name).String(l.value);
  w.EndObject();
}

void WriteFloatPoint(JsonWriter& w, int64_t ms, double v) {
  // The hot path of every query answer: one Raw() per point instead of five writer calls.
  char buf[kMaxTimestampChars + kMaxSampleValueChars + 3];
  char* p = buf;
  *p++ = '[';
  p = FormatTimestamp(ms, p);
  *p++ = ',';
  p = FormatSampleValue(v, p);
  *p++ = ']';
  w.Raw(std::string_view(buf, static_cast<size_t>(p - buf)));
}

void WriteHistogram(JsonWriter& w, const promql::FloatHistogram& h) {
  w.BeginObject().Key("count");
  WriteSampleValue(w, h.count);
  w.Key("sum");
  WriteSampleValue(w, h.sum);
  bool open = false;
  auto bucket = [&](int boundaries, double lower, double upper, double count) {
    if (count == 0) return;  // upstream lists only populated buckets
    if (!open) w.Key("buckets").BeginArray();
    open = true;
    WriteBucket(w, boundaries, lower, upper, count);
  };
  const bool custom = h.schema == -53;
  auto bounds = [&](int32_t idx, double* lower, double* upper) {
    if (custom) {
      *lower = idx == 0 ? -INFINITY : h.custom_values[idx - 1];
      *upper = static_cast<size_t>(idx) < h.custom_values.size() ? h.custom_values[idx] : INFINITY;
    } else {
      *lower = ExponentialBound(idx - 1, h.schema);
      *upper = ExponentialBound(idx, h.schema);
    }
  };
  // Negative buckets from the most negative, then the zero bucket, then positive ones.
  std::vector<std::pair<int32_t, double>> neg;
  ForEachBucket(h.negative_spans, h.negative_buckets,
                [&](int32_t idx, double c) { neg.emplace_back(idx, c); });
  for (auto it = neg.rbegin(); it != neg.rend(); ++it) {
    double lower, upper;
    bounds(it->first, &lower, &upper);
    bucket(kOpenRight, -upper, -lower, it->second);
  }
  if (!custom) bucket(kClosedBoth, -h.zero_threshold, h.zero_threshold, h.zero_count);
  ForEachBucket(h.positive_spans, h.positive_buckets, [&](int32_t idx, double c) {
    double lower, upper;
    bounds(idx, &lower, &upper);
    bucket(kOpenLeft, lower, upper, c);
  });
  if (open) w.EndArray();
  w.EndObject();
}

const char* ResultTypeName(const promql::Value& v) {
  switch (promql::KindOf(v)) {
    case promql::ValueKind::kScalar:
      return "scalar";
    case promql::ValueKind::kString:
      return "string";
    case promql::ValueKind::kVector:
      return "vector";
    case promql::ValueKind::kMatrix:
      return "matrix";
  }
  return "";
}

void WriteResult(JsonWriter& w, const promql::Value& v) {
  if (const auto* s = std::get_if<promql::Scalar>(&v)) {
    WriteFloatPoint(w, s->t, s->v);
  } else if (const auto* str = std::get_if<promql::String>(&v)) {
    w.BeginArray();
    WriteTimestamp(w, str->t);
    w.String(str->v);
    w.EndArray();
  } else if (const auto* vec = std::get_if<promql::Vector>(&v)) {
    w.BeginArray();
    for (const auto& s : *vec) WriteSample(w, s);
    w.EndArray();
  } else {
    w.BeginArray();
    for (const auto& s : std::get<promql::Matrix>(v)) WriteSeries(w, s);
    w.EndArray();
  }
}

void WriteQueryStats(JsonWriter& w, const QueryStats& s, bool per_step) {
  w.BeginObject().Key("timings").BeginObject();
  w.Key("evalTotalTime").Number(s.eval_total);
  w.Key("resultSortTime").Number(s.result_sort);
  w.Key("queryPreparationTime").Number(s.query_preparation);
  w.Key("innerEvalTime").Number(s.inner_eval);
  w.Key("execQueueTime").Number(s.exec_queue);
  w.Key("execTotalTime").Number(s.exec_total);
  w.EndObject().Key("samples").BeginObject();
  if (per_step) {
    w.Key("totalQueryableSamplesPerStep").BeginArray();
    for (const auto& [t, n] : s.samples_per_step) {
      w.BeginArray().Number(static_cast<double>(t) / 1000).Int(n).EndArray();
    }
    w.EndArray();
  }
  w.Key("totalQueryableSamples").Int(s.total_queryable_samples);
  w.Key("peakSamples").Int(s.peak_samples);
  w.EndObject().EndObject();
}

}  // namespace kiln::web::api::v1
