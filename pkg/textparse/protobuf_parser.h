// ProtobufParser: varint-length-delimited io.prometheus.client.MetricFamily messages
// (application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
// encoding=delimited). Each family yields HELP, TYPE, UNIT (when set) and its series; classic
// summaries and histograms are expanded as Prometheus does: `_count`, `_sum`, then one series
// per quantile / bucket (`le` and `quantile` formatted like "0.5", "1.0", "+Inf"), adding the
// `+Inf` bucket when absent. Native-histogram buckets are not decoded (such histograms yield
// `_count`, `_sum` and `+Inf` only). Not thread-safe; see parser.h for the contract.
#pragma once

#include <string>
#include <string_view>

#include "pkg/textparse/metrics.pb.h"
#include "pkg/textparse/parser.h"

namespace kiln::textparse {

class ProtobufParser final : public Parser {
 public:
  explicit ProtobufParser(std::string_view buf) : buf_(buf) {}

  Entry Next() override;
  std::string_view Series(double* value, std::optional<model::Timestamp>* ts) const override;
  void Labels(model::LabelsBuilder* builder) const override;
  bool GetExemplar(Exemplar* e) override;
  std::optional<model::Timestamp> CreatedTimestamp() override;
  std::pair<std::string_view, std::string_view> Help() const override;
  std::pair<std::string_view, model::MetricType> Type() const override;
  std::pair<std::string_view, std::string_view> Unit() const override;
  Status err() const override { return err_; }

 private:
  enum class Step { kFamily, kHelp, kType, kUnit, kSeries };
  bool ReadFamily();
  // Positions on the next series of the current family; false when the family is done.
  bool NextSeries();
  // Number of series metric `m` expands to.
  int SeriesCount(const io::prometheus::client::Metric& m) const;
  void Describe(const io::prometheus::client::Metric& m, int sub);
  void DescribeSummary(const io::prometheus::client::Summary& s, int sub);
  void DescribeHistogram(const io::prometheus::client::Histogram& h, int sub);
  const io::prometheus::client::Exemplar* CurrentExemplar() const;
  Entry Fail(std::string msg);

  std::string_view buf_;
  size_t pos_ = 0;
  Entry done_ = Entry::kSeries;  // kEOF or kInvalid once finished
  Status err_;
  io::prometheus::client::MetricFamily mf_;
  Step step_ = Step::kFamily;
  int metric_ = 0;
  int sub_ = -1;  // index of the expanded series within metric_
  // The current series, rebuilt per sample in reused buffers.
  std::string name_;
  std::string extra_name_;  // "le", "quantile" or ""
  std::string extra_value_;
  std::string series_;
  double value_ = 0;
  int bucket_ = -1;  // index into histogram.bucket for bucket series, else -1
};

}  // namespace kiln::textparse
