// OpenMetricsParser: OpenMetrics 1.0 text (application/openmetrics-text): `# HELP`, `# TYPE`
// (counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown), `# UNIT`,
// series with float-second timestamps (returned in ms), exemplars after ` # `, and the
// mandatory final `# EOF`. Other comments and blank lines are errors, as the spec requires.
// Not thread-safe; see parser.h for the contract.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pkg/textparse/parser.h"
#include "pkg/textparse/text_scanner.h"

namespace kiln::textparse {

class OpenMetricsParser final : public Parser {
 public:
  explicit OpenMetricsParser(std::string_view buf, const ParserOptions& options = {})
      : s_(buf), options_(options) {}

  Entry Next() override;
  std::string_view Series(double* value, std::optional<model::Timestamp>* ts) const override;
  void Labels(model::LabelsBuilder* builder) const override;
  bool GetExemplar(Exemplar* e) override;
  std::optional<model::Timestamp> CreatedTimestamp() override;
  std::pair<std::string_view, std::string_view> Help() const override;
  std::pair<std::string_view, model::MetricType> Type() const override;
  std::pair<std::string_view, std::string_view> Unit() const override;
  Status err() const override { return s_.error(); }

 private:
  Entry NextEntry();
  Entry ParseDescriptor();
  Entry ParseSeries();
  bool ParseTimestamp(std::string_view tok, model::Timestamp* out);
  bool ParseExemplar();
  bool IsCreatedSeries() const;
  model::MetricType SeriesFamilyType() const;
  Entry Invalid() {
    done_ = Entry::kInvalid;
    return done_;
  }

  internal::TextScanner s_;
  ParserOptions options_;
  Entry done_ = Entry::kSeries;  // kEOF or kInvalid once finished
  double value_ = 0;
  std::optional<model::Timestamp> ts_;
  std::string_view meta_name_;
  std::string meta_text_;
  model::MetricType type_ = model::MetricType::kUnknown;
  std::string_view family_;  // name in the last TYPE line
  model::MetricType family_type_ = model::MetricType::kUnknown;
  bool has_exemplar_ = false;
  std::vector<internal::LabelSpan> exemplar_labels_;
  double exemplar_value_ = 0;
  std::optional<model::Timestamp> exemplar_ts_;
};

}  // namespace kiln::textparse
