// `kilntool tsdb dump` / `dump-openmetrics`: every sample of a data directory in promtool's exact
// output format, one `<labels> <value> <timestamp ms>` line per sample, series sorted by labels,
// values formatted as Go's %g.
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <ostream>

#include "cmd/kilntool/command.h"
#include "cmd/kilntool/flag_parser.h"
#include "pkg/tsdb/db.h"
#include "pkg/util/float_format.h"
#include "promql/parser/parser.h"

namespace kiln::tool {
namespace {

constexpr const char* kDefaultMatch = "{__name__=~'(?s:.*)'}";

Result<int64_t> ParseTime(const std::string& flag, const std::string& s) {
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
    return Status::BadData("invalid value \"" + s + "\" for flag --" + flag);
  }
  return v;
}

// promtool's `dump-openmetrics` series prefix: the metric name, then the other labels
// Go-quoted without spaces ("{}" when there are none).
std::string OpenMetricsPrefix(const model::Labels& labels) {
  std::string out(labels.MetricName());
  out += '{';
  bool first = true;
  for (const auto& l : labels) {
    if (l.name == model::kMetricName) continue;
    if (!first) out += ',';
    first = false;
    out.append(l.name);
    out += '=';
    model::AppendGoQuoted(&out, l.value);
  }
  out += '}';
  return out;
}

// Go's %.3f of ms / 1000: seconds with exactly three decimals.
std::string SecondsFixed3(int64_t ms) {
  char buf[48];
  snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ms) / 1000);
  return buf;
}

Status Dump(const std::string& dir, int64_t mint, int64_t maxt,
            const std::vector<model::Matcher>& matchers, bool openmetrics, std::ostream& out) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::NotFound("open " + dir + ": no such directory");
  }
  // Blocks and the head together, read-only: nothing is locked, written or deleted.
  tsdb::DBOptions opts;
  opts.read_only = true;
  opts.background_compaction = false;
  opts.head.stripe_size = 1024;
  opts.head.logger = Logger(LogLevel::kWarn);
  opts.logger = Logger(LogLevel::kWarn);
  KILN_ASSIGN_OR_RETURN(auto db, tsdb::DB::Open(dir, opts));
  KILN_ASSIGN_OR_RETURN(auto querier, db->NewQuerier(mint, maxt));
  auto set = querier->Select(/*sorted=*/true, nullptr, matchers);
  std::string line;
  while (set->Next()) {
    const storage::Series& s = set->At();
    const std::string labels = openmetrics ? OpenMetricsPrefix(s.labels()) : s.labels().ToString();
    auto it = s.Iterator();
    while (it->Next() == chunkenc::ValueType::kFloat) {
      auto [t, v] = it->At();
      line = labels;
      line += ' ';
      line += FormatFloatG(v);
      line += ' ';
      line += openmetrics ? SecondsFixed3(t) : std::to_string(t);
      line += '\n';
      out << line;
    }
    KILN_RETURN_IF_ERROR(it->err());
  }
  KILN_RETURN_IF_ERROR(set->err());
  if (openmetrics) out << "# EOF\n";
  set.reset();
  querier.reset();
  return db->Close();
}

int DumpCommand(const CommandContext& ctx, bool openmetrics) {
  auto flags = ParseFlags(ctx.args, {"min-time", "max-time", "match", "enable-feature"}, {});
  if (!flags.ok()) {
    *ctx.err << "kilntool: error: " << flags.status().message() << "\n";
    return 2;
  }
  auto mint = ParseTime(
      "min-time", flags->Get("min-time", std::to_string(std::numeric_limits<int64_t>::min())));
  auto maxt = ParseTime(
      "max-time", flags->Get("max-time", std::to_string(std::numeric_limits<int64_t>::max())));
  if (!mint.ok() || !maxt.ok()) {
    *ctx.err << "kilntool: error: " << (!mint.ok() ? mint.status() : maxt.status()).message()
             << "\n";
    return 2;
  }
  if (flags->positional.size() > 1) {
    *ctx.err << "kilntool: error: unexpected " << flags->positional[1] << "\n";
    return 2;
  }
  const std::string dir = flags->positional.empty() ? "data/" : flags->positional[0];
  auto matchers = promql::parser::ParseMetricSelector(flags->Get("match", kDefaultMatch));
  if (!matchers.ok()) {
    *ctx.err << "kilntool: error: invalid --match: " << matchers.status().message() << "\n";
    return 2;
  }
  Status st = Dump(dir, *mint, *maxt, *matchers, openmetrics, *ctx.out);
  if (!st.ok()) {
    *ctx.err << st.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int RunTsdbDump(const CommandContext& ctx) { return DumpCommand(ctx, false); }

int RunTsdbDumpOpenMetrics(const CommandContext& ctx) { return DumpCommand(ctx, true); }

}  // namespace kiln::tool
