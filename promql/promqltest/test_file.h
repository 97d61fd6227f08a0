// Reader for Prometheus's PromQL test-script format (.test files): load / load_with_nhcb /
// clear / eval commands with their expectations, as described in upstream's
// promql/promqltest/README.md. Parsing only; running is done by Runner.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/util/result.h"

namespace kiln::promql::promqltest {

// One position of an expanded value sequence: a float, an omitted position (`_`), or a
// native histogram literal (`{{…}}`), which Kiln does not evaluate yet and only counts.
struct SequenceValue {
  bool omitted = false;
  bool histogram = false;
  double value = 0;
};

struct SeriesDesc {
  model::Labels metric;
  std::vector<SequenceValue> values;
  bool has_histogram = false;
};

struct LoadCmd {
  int line = 0;  // 1-based
  int64_t interval_ms = 0;
  bool with_nhcb = false;
  bool has_start_timestamps = false;  // `@st` lines were present (ignored by Kiln)
  std::vector<SeriesDesc> series;
};

struct ClearCmd {
  int line = 0;
};

// An `expect warn|info|fail` line: exact message, regex, or (neither) anything.
struct ExpectAnnotation {
  std::optional<std::string> message;
  std::optional<std::string> regex;  // RE2 syntax, unanchored
};

struct EvalCmd {
  int line = 0;
  std::string expr;
  bool is_range = false;
  int64_t start = 0;  // ms; the evaluation time for instant queries
  int64_t end = 0;
  int64_t step = 0;

  bool fail = false;
  bool ordered = false;
  bool legacy_warn = false;  // eval_warn: at least one warning
  bool legacy_info = false;  // eval_info: at least one info
  std::vector<ExpectAnnotation> expect_fail;
  std::vector<ExpectAnnotation> expect_warn;
  std::vector<ExpectAnnotation> expect_info;
  bool expect_no_warn = false;
  bool expect_no_info = false;

  // Result expectations.
  bool expect_scalar = false;
  double scalar = 0;
  std::vector<SeriesDesc> series;    // in file order (positions for `ordered`)
  bool expect_range_vector = false;  // an instant query returning a matrix
  std::optional<std::string> expect_string;
  bool exclude_from_range_query = false;

  bool IsFail() const { return fail || !expect_fail.empty(); }
};

using Command = std::variant<LoadCmd, ClearCmd, EvalCmd>;

struct TestFile {
  std::string name;
  std::vector<Command> commands;
};

// Parses a whole .test file. Errors carry the 1-based line number.
Result<TestFile> ParseTestFile(std::string_view name, std::string_view content);

// Parses one series description: `metric{l="v"} 1+2x3 _ stale`.
Result<SeriesDesc> ParseSeriesDesc(std::string_view line);

// Prometheus duration ("1h30m", "5m", "0"), in milliseconds.
Result<int64_t> ParseDuration(std::string_view s);

// Go's strconv.ParseFloat/ParseInt(s, 0, 64) as used for expected scalars.
std::optional<double> ParseNumber(std::string_view s);

// Go's strconv.Unquote for "…", '…' and `…` literals.
Result<std::string> GoUnquote(std::string_view s);

}  // namespace kiln::promql::promqltest
