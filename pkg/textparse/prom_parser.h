// PromParser: the Prometheus text exposition format 0.0.4 (also served as 1.0.0):
// `# HELP`, `# TYPE`, other `#` comments, and `name{label="value",…} value [timestamp_ms]`
// lines; names may be quoted UTF-8 inside the braces (`{"my.metric", a="b"}`).
// Not thread-safe; see parser.h for the contract.
#pragma once

#include <string>
#include <string_view>

#include "pkg/textparse/parser.h"
#include "pkg/textparse/text_scanner.h"

namespace kiln::textparse {

class PromParser final : public Parser {
 public:
  explicit PromParser(std::string_view buf) : s_(buf) {}

  Entry Next() override;
  std::string_view Series(double* value, std::optional<model::Timestamp>* ts) const override;
  void Labels(model::LabelsBuilder* builder) const override;
  std::pair<std::string_view, std::string_view> Help() const override;
  std::pair<std::string_view, model::MetricType> Type() const override;
  std::string_view Comment() const override { return comment_; }
  Status err() const override { return s_.error(); }
  void HintNextSeries(std::string_view text) override { hint_ = text; }
  bool SeriesMatchedHint() const override { return hint_matched_; }

 private:
  Entry ParseComment();
  Entry ParseMeta(std::string_view keyword);
  Entry ParseSeries();
  Entry Invalid() {
    done_ = Entry::kInvalid;
    return done_;
  }

  internal::TextScanner s_;
  Entry done_ = Entry::kSeries;  // kEOF or kInvalid once finished
  double value_ = 0;
  std::optional<model::Timestamp> ts_;
  std::string_view meta_name_;
  std::string help_;
  model::MetricType type_ = model::MetricType::kUnknown;
  // The last TYPE line, used to normalise `le` / `quantile` of that family's series.
  std::string_view family_;
  model::MetricType family_type_ = model::MetricType::kUnknown;
  std::string_view comment_;
  std::string_view hint_;
  // The current series was taken by the hint: s_.name and s_.labels were not filled in.
  bool hint_matched_ = false;
};

}  // namespace kiln::textparse
