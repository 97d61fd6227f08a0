// `kilntool tsdb create-blocks-from openmetrics <input file> [<output directory>]`: backfills
// blocks from an OpenMetrics file as promtool does: samples (which must carry timestamps)
// are cut into windows of the block duration aligned to multiples of it, each window
// becomes one block spanning its data, and the new blocks are listed like `tsdb list`.
#include <map>
#include <ostream>

#include "cmd/kilntool/command.h"
#include "cmd/kilntool/flag_parser.h"
#include "cmd/kilntool/go_format.h"
#include "cmd/kilntool/tsdb_list.h"
#include "pkg/storage/series_list.h"
#include "pkg/textparse/openmetrics_parser.h"
#include "pkg/tsdb/block/block.h"
#include "pkg/tsdb/block/block_writer.h"
#include "pkg/tsdb/block/compactor.h"
#include "pkg/tsdb/block/file_io.h"
#include "pkg/tsdb/chunks/file_util.h"

namespace kiln::tool {

namespace block = tsdb::block;

namespace {

constexpr int64_t kDefaultBlockDuration = 2 * 3600 * 1000;

using Window = std::map<model::Labels, std::vector<model::Sample>>;

// Prometheus durations as the flag takes them: "<n><unit>" with ms, s, m, h, d, w, y.
Result<int64_t> ParseDurationMs(const std::string& s) {
  static const std::pair<const char*, int64_t> kUnits[] = {
      {"ms", 1},         {"s", 1000},        {"m", 60000},        {"h", 3600000},
      {"d", 86400000LL}, {"w", 604800000LL}, {"y", 31536000000LL}};
  size_t i = 0;
  while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) i++;
  const std::string unit = s.substr(i);
  for (const auto& [u, mult] : kUnits) {
    if (i > 0 && unit == u) return std::stoll(s.substr(0, i)) * mult;
  }
  return Status::BadData("not a valid duration string: \"" + s + "\"");
}

// The largest of the default block ranges (×3 from 2h) not above `max`, as promtool picks.
int64_t CompatibleBlockDuration(int64_t max) {
  int64_t d = kDefaultBlockDuration;
  for (int64_t r : block::ExponentialBlockRanges(kDefaultBlockDuration, 10, 3)) {
    if (r <= max) d = r;
  }
  return d;
}

int64_t FloorTo(int64_t t, int64_t r) { return (t >= 0 ? t / r : -((-t + r - 1) / r)) * r; }

// Parses the whole input into windows keyed by their start.
Status ReadWindows(std::string_view input, int64_t duration, std::map<int64_t, Window>* out) {
  textparse::OpenMetricsParser p(input);
  model::LabelsBuilder b;
  for (;;) {
    const textparse::Entry e = p.Next();
    if (e == textparse::Entry::kEOF) return Status::OK();
    if (e == textparse::Entry::kInvalid) return p.err().Wrap("parse");
    if (e != textparse::Entry::kSeries) continue;
    double v = 0;
    std::optional<model::Timestamp> ts;
    const std::string_view series = p.Series(&v, &ts);
    if (!ts)
      return Status::BadData("expected timestamp for series " + std::string(series) + ", got none");
    b.Reset(model::Labels());
    p.Labels(&b);
    auto& samples = (*out)[FloorTo(*ts, duration)][b.Build()];
    if (!samples.empty() && samples.back().t > *ts) {
      return Status::OutOfOrder("add sample for series " + std::string(series) +
                                ": out of order sample");
    }
    // A repeated timestamp keeps the first value, as promtool's appender drops the rest.
    if (!samples.empty() && samples.back().t == *ts) continue;
    samples.push_back({*ts, v});
  }
}

Result<std::shared_ptr<block::Block>> WriteWindow(const std::string& out_dir, const Window& w,
                                                  int64_t duration) {
  int64_t mint = std::numeric_limits<int64_t>::max(), maxt = std::numeric_limits<int64_t>::min();
  std::vector<std::unique_ptr<storage::Series>> series;
  for (const auto& [l, s] : w) {
    mint = std::min(mint, s.front().t);
    maxt = std::max(maxt, s.back().t);
    series.push_back(std::make_unique<storage::VectorSeries>(l, s));
  }
  storage::VectorSeriesSet set(std::move(series));
  // The block spans its data, as promtool's block writer does.
  block::BlockWriteOptions opts;
  opts.chunk_range = duration;
  KILN_ASSIGN_OR_RETURN(auto meta, block::WriteBlock(out_dir, &set, mint, maxt + 1, opts));
  return block::Block::Open(out_dir + "/" + meta.ulid);
}

}  // namespace

int RunTsdbCreateBlocksFromOpenMetrics(const CommandContext& ctx) {
  std::vector<std::string> args = ctx.args;
  for (auto& a : args) {
    if (a == "-r") a = "--human-readable";
    if (a == "-q") a = "--quiet";
  }
  auto flags =
      ParseFlags(args, {"max-block-duration", "enable-feature"}, {"human-readable", "quiet"});
  if (!flags.ok() || flags->positional.empty() || flags->positional.size() > 2) {
    *ctx.err << "kilntool: error: "
             << (!flags.ok() ? flags.status().message()
                 : flags->positional.empty()
                     ? std::string("required argument 'input file' not provided")
                     : "unexpected " + flags->positional[2])
             << "\n";
    return 2;
  }
  int64_t duration = kDefaultBlockDuration;
  if (flags->Has("max-block-duration")) {
    auto d = ParseDurationMs(flags->Get("max-block-duration", ""));
    if (!d.ok()) {
      *ctx.err << "kilntool: error: " << d.status().message() << "\n";
      return 2;
    }
    duration = CompatibleBlockDuration(*d);
  }
  const std::string out_dir = flags->positional.size() > 1 ? flags->positional[1] : "data/";
  std::vector<std::vector<std::string>> rows = {BlockListHeader()};
  Status st = [&]() -> Status {
    KILN_ASSIGN_OR_RETURN(std::string input, block::ReadWholeFile(flags->positional[0]));
    std::map<int64_t, Window> windows;
    KILN_RETURN_IF_ERROR(ReadWindows(input, duration, &windows));
    KILN_RETURN_IF_ERROR(tsdb::chunks::MakeDirs(out_dir));
    for (const auto& [start, w] : windows) {
      KILN_ASSIGN_OR_RETURN(auto b, WriteWindow(out_dir, w, duration));
      rows.push_back(BlockListRow(b->meta(), b->Size(), flags->Has("human-readable")));
    }
    return Status::OK();
  }();
  if (!st.ok()) {
    *ctx.err << "create blocks: " << st.message() << "\n";
    return 1;
  }
  if (!flags->Has("quiet")) *ctx.out << GoTabwriter(rows, 13, 2);
  return 0;
}

}  // namespace kiln::tool
