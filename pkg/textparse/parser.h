// Streaming parsers for the exposition formats a scrape can return: Prometheus text 0.0.4,
// OpenMetrics 1.0 and protobuf-delimited io.prometheus.client.MetricFamily.
//
// Usage: call Next() until it returns kEOF or kInvalid (then err() says why, with the line).
// After kSeries, Series() gives the raw series text (a stable key for a scrape cache: equal
// text ⇒ equal labels), the value and the optional timestamp, all without allocating; Labels()
// builds the label set and is meant for cache misses. The string_views returned point into
// the scrape buffer or the parser and stay valid until the next call to Next().
//
// A Parser is not thread-safe; use one per scrape.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pkg/model/labels.h"
#include "pkg/model/metadata.h"
#include "pkg/model/value.h"
#include "pkg/util/result.h"

namespace kiln::textparse {

enum class Entry { kInvalid, kType, kHelp, kSeries, kComment, kUnit, kEOF };

struct Exemplar {
  model::Labels labels;
  double value = 0;
  std::optional<model::Timestamp> timestamp;
};

class Parser {
 public:
  virtual ~Parser() = default;

  // Advances to the next entry. After kEOF or kInvalid every further call returns the same.
  virtual Entry Next() = 0;

  // REQUIRES: Next() returned kSeries. Returns the series as written (name and labels).
  virtual std::string_view Series(double* value, std::optional<model::Timestamp>* ts) const = 0;
  // REQUIRES: Next() returned kSeries. Replaces `builder`'s contents with the series' labels,
  // including __name__ (escapes resolved; `le`/`quantile` of classic histograms and summaries
  // normalised to Prometheus's float format, e.g. "1" → "1.0", as Prometheus 3 does).
  virtual void Labels(model::LabelsBuilder* builder) const = 0;
  // REQUIRES: Next() returned kSeries. Fills `e` and returns true when the sample carries an
  // exemplar (OpenMetrics, protobuf).
  virtual bool GetExemplar(Exemplar* e) { return false; }
  // REQUIRES: Next() returned kSeries. The series' created timestamp in ms when the format
  // exposes one (OpenMetrics `_created` series, protobuf created_timestamp).
  virtual std::optional<model::Timestamp> CreatedTimestamp() { return std::nullopt; }

  // REQUIRES: Next() returned kHelp. Metric name and help text (escapes resolved).
  virtual std::pair<std::string_view, std::string_view> Help() const = 0;
  // REQUIRES: Next() returned kType.
  virtual std::pair<std::string_view, model::MetricType> Type() const = 0;
  // REQUIRES: Next() returned kUnit.
  virtual std::pair<std::string_view, std::string_view> Unit() const { return {}; }
  // REQUIRES: Next() returned kComment. The whole comment line.
  virtual std::string_view Comment() const { return {}; }

  // A speed-up for callers that cache series by their text (a scrape cache): `text` is the
  // series the caller expects next, e.g. the one at the same position in the previous
  // scrape. When the next series line starts with exactly that text, Next() takes it
  // without scanning its labels again (they are known to be well-formed) and
  // SeriesMatchedHint() is true until the following Next(). The hint is used by the next
  // series line only. REQUIRES: `text` is empty or was returned by Series() of a parser of
  // the same format. Parsers without a fast path ignore hints.
  virtual void HintNextSeries(std::string_view text) {}
  virtual bool SeriesMatchedHint() const { return false; }

  // Why Next() returned kInvalid; OK otherwise.
  virtual Status err() const = 0;
};

struct ParserOptions {
  // OpenMetrics: do not return `<family>_created` series of counters, summaries and
  // histograms (their value is available through CreatedTimestamp() of the family's series).
  bool skip_created_series = false;
};

// Chooses a parser from the Content-Type of a scrape response, as Prometheus does:
// application/openmetrics-text → OpenMetrics, application/vnd.google.protobuf → protobuf,
// text/plain → Prometheus text. A blank, malformed or unknown type uses `fallback_protocol`
// (a scrape_protocols name such as "PrometheusText0.0.4") and fails when that is empty.
// `buf` must outlive the parser.
Result<std::unique_ptr<Parser>> NewParser(std::string_view buf, std::string_view content_type,
                                          std::string_view fallback_protocol,
                                          const ParserOptions& options = {});

}  // namespace kiln::textparse
