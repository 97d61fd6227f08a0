#include "promql/annotations.h"

#include "pkg/model/labels.h"
#include "promql/value.h"

namespace kiln::promql {

namespace {

constexpr std::string_view kWarn = "PromQL warning: ";
constexpr std::string_view kInfo = "PromQL info: ";

std::string Quote(std::string_view s) {
  std::string out;
  model::AppendGoQuoted(&out, s);
  return out;
}

// Upstream appends ` for metric name "x"` only when the name is known.
std::string ForMetricName(std::string_view metric) {
  if (metric.empty()) return "";
  return " for metric name " + Quote(metric);
}

}  // namespace

std::string PositionString(std::string_view query, int pos) {
  int line = 1;
  int col = pos + 1;
  for (int i = 0; i < pos && i < static_cast<int>(query.size()); ++i) {
    if (query[i] == '\n') {
      ++line;
      col = pos - i;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

void Annotations::Add(Kind kind, std::string text, int pos) {
  for (const Entry& e : entries_) {
    if (e.kind == kind && e.pos == pos && e.text == text) return;
  }
  entries_.push_back(Entry{kind, std::move(text), pos});
}

void Annotations::Merge(const Annotations& other) {
  for (const Entry& e : other.entries_) Add(e.kind, e.text, e.pos);
}

std::vector<std::string> Annotations::Render(Kind kind, std::string_view query) const {
  std::vector<std::string> out;
  for (const Entry& e : entries_) {
    if (e.kind != kind) continue;
    std::string s = e.text;
    if (e.pos >= 0) s += " (" + PositionString(query, e.pos) + ")";
    bool dup = false;
    for (const auto& o : out) dup = dup || o == s;
    if (!dup) out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> Annotations::Warnings(std::string_view query) const {
  return Render(Kind::kWarning, query);
}

std::vector<std::string> Annotations::Infos(std::string_view query) const {
  return Render(Kind::kInfo, query);
}

void Annotations::InvalidQuantile(double q, int pos) {
  Add(Kind::kWarning,
      std::string(kWarn) + "quantile value should be between 0 and 1, got " + FormatFloatG(q), pos);
}

void Annotations::InvalidRatio(double ratio, double capped, int pos) {
  Add(Kind::kWarning,
      std::string(kWarn) + "ratio value should be between -1 and 1, got " + FormatFloatG(ratio) +
          ", capping to " + FormatFloatG(capped),
      pos);
}

void Annotations::BadBucketLabel(std::string_view metric, std::string_view le, int pos) {
  Add(Kind::kWarning,
      std::string(kWarn) + "bucket label \"le\" is missing or has a malformed value of " +
          Quote(le) + ForMetricName(metric),
      pos);
}

void Annotations::MixedFloatsHistograms(std::string_view metric, int pos) {
  Add(Kind::kWarning,
      std::string(kWarn) + "encountered a mix of histograms and floats for metric name " +
          Quote(metric),
      pos);
}

void Annotations::MixedFloatsHistogramsAgg(int pos) {
  Add(Kind::kWarning,
      std::string(kWarn) + "encountered a mix of histograms and floats for aggregation", pos);
}

void Annotations::MixedClassicNativeHistograms(std::string_view metric, int pos) {
  Add(Kind::kWarning,
      std::string(kWarn) + "vector contains a mix of classic and native histograms" +
          ForMetricName(metric),
      pos);
}

void Annotations::PossibleNonCounter(std::string_view metric, int pos) {
  Add(Kind::kInfo,
      std::string(kInfo) +
          "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: " +
          Quote(metric),
      pos);
}

void Annotations::PossibleNonCounterLabel(std::string_view metric, std::string_view type_label,
                                          int pos) {
  Add(Kind::kInfo,
      std::string(kInfo) +
          "metric might not be a counter, __type__ label is not set to \"counter\" or "
          "\"histogram\", got " +
          Quote(type_label) + ": " + Quote(metric),
      pos);
}

void Annotations::HistogramQuantileForcedMonotonicity(std::string_view metric, int pos) {
  Add(Kind::kInfo,
      std::string(kInfo) +
          "input to histogram_quantile needed to be fixed for monotonicity (see "
          "https://prometheus.io/docs/prometheus/latest/querying/functions/"
          "#histogram_quantile)" +
          ForMetricName(metric),
      pos);
}

void Annotations::IncompatibleTypesInBinOp(std::string_view lhs, std::string_view op,
                                           std::string_view rhs, int pos) {
  Add(Kind::kInfo,
      std::string(kInfo) + "incompatible sample types encountered for binary operator " +
          Quote(op) + ": " + std::string(lhs) + " " + std::string(op) + " " + std::string(rhs),
      pos);
}

void Annotations::HistogramIgnoredInAggregation(std::string_view aggr, int pos) {
  Add(Kind::kInfo,
      std::string(kInfo) + "ignored histogram in " + std::string(aggr) + " aggregation", pos);
}

void Annotations::HistogramIgnoredInMixedRange(std::string_view metric, int pos) {
  Add(Kind::kInfo,
      std::string(kInfo) +
          "ignored histograms in a range containing both floats and histograms for metric "
          "name " +
          Quote(metric),
      pos);
}

void Annotations::SortIneffectiveInRangeQuery(int pos) {
  Add(Kind::kWarning,
      std::string(kWarn) +
          "sort is ineffective for range queries since results are always ordered by labels",
      pos);
}

}  // namespace kiln::promql
