// Internal to pkg/textparse: the scanning shared by the Prometheus text and OpenMetrics
// parsers (series lines, label sets, escapes, Go-compatible numbers) over one contiguous
// buffer. Holds views into the buffer and reuses its vectors, so a steady-state scrape
// allocates nothing per sample. Not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/model/metadata.h"
#include "pkg/textparse/parser.h"
#include "pkg/util/utf8.h"

namespace kiln::textparse::internal {

// Go's strconv.ParseFloat restricted as Prometheus restricts it (no hex, no `_`); accepts
// NaN and [+-]Inf case-insensitively.
bool ParseGoFloat(std::string_view s, double* out);
// Go's strconv.FormatFloat(f, 'g', -1, 64) with ".0" appended to integers, as Prometheus
// formats `le` and `quantile`: 1 → "1.0", 0.25 → "0.25", 1e+21, NaN, +Inf, -Inf.
std::string FormatOpenMetricsFloat(double v);
// Go's int64(f) on amd64, which Prometheus runs on: truncation toward zero, and
// math.MinInt64 for NaN and values outside int64's range (a C++ cast leaves those
// undefined). Such timestamps then fail the append as out of bounds, as upstream.
int64_t GoFloatToInt64(double f);
// Resolves \\, \" and \n; any other escape is kept as written.
void Unescape(std::string_view in, std::string* out);

struct LabelSpan {
  std::string_view name;  // without quotes
  bool name_escaped = false;
  std::string_view value;  // without quotes
  bool value_escaped = false;
};

class TextScanner {
 public:
  explicit TextScanner(std::string_view buf) : buf_(buf) {}

  bool AtEnd() const { return pos_ >= buf_.size(); }
  char Peek() const { return AtEnd() ? '\0' : buf_[pos_]; }
  bool AtLineEnd() const { return AtEnd() || buf_[pos_] == '\n'; }
  int line() const { return line_; }
  size_t pos() const { return pos_; }
  std::string_view rest() const { return buf_.substr(pos_); }

  void Advance(size_t n = 1) { pos_ += n; }
  // Skips spaces and tabs; returns whether any were skipped.
  bool SkipBlanks();
  // Consumes "\n" (or nothing at the end of the buffer). REQUIRES: AtLineEnd().
  void EndLine();
  // The remainder of the current line (not consumed).
  std::string_view LineRest() const;
  // Consumes a run of characters other than blanks and newline.
  std::string_view Token();
  // Consumes a legacy metric name [a-zA-Z_:][a-zA-Z0-9_:]*, or a label name when !colon.
  std::string_view Name(bool colon);
  // Consumes a quoted string starting at '"'. Returns false (error set) when unterminated.
  bool Quoted(std::string_view* inner, bool* escaped);

  // Consumes `name{labels}`, `name` or `{"name", labels}`; fills the fields below.
  bool SeriesId();
  // When the input continues with `text` and then a blank, consumes `text` as the series
  // (only `series` is set; name and labels are left empty) and returns true. REQUIRES:
  // SeriesId() accepted `text` before, so it would accept and consume it here.
  bool SkipSeries(std::string_view text);
  // Consumes a `{…}` label set into `labels` (the first quoted item without `=` becomes
  // `*name` when name is non-null).
  bool LabelSet(std::vector<LabelSpan>* labels, std::string_view* name, bool* name_escaped);

  // Consumes `= "value"` after a label name into `l`.
  bool LabelValue(LabelSpan* l);

  // Records an error at the current line: `expected <what>, got "<tok>"`.
  void Expected(std::string_view what);
  void Fail(std::string msg);
  const Status& error() const { return error_; }

  std::string_view series;  // the series text as written
  std::string_view name;
  bool name_escaped = false;
  std::vector<LabelSpan> labels;

 private:
  std::string_view buf_;
  size_t pos_ = 0;
  int line_ = 1;
  Status error_;
};

// Fills `b` with __name__ and the labels; normalises `le` (histograms) / `quantile`
// (summaries) for `family_type`.
void BuildLabels(std::string_view name, bool name_escaped, const std::vector<LabelSpan>& labels,
                 model::MetricType family_type, model::LabelsBuilder* b);

}  // namespace kiln::textparse::internal
