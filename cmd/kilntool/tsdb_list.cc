// `kilntool tsdb list [-r] [<db path>]`: the blocks of a data directory in promtool's exact
// layout (a Go tabwriter table: minimum cell width 13, padding 2), sorted by min time.
#include <ctime>
#include <ostream>

#include "cmd/kilntool/command.h"
#include "cmd/kilntool/flag_parser.h"
#include "cmd/kilntool/go_format.h"
#include "cmd/kilntool/tsdb_list.h"
#include "pkg/tsdb/db.h"

namespace kiln::tool {

namespace block = tsdb::block;

namespace {

// Go's time.Time.String() of the second `ms` falls in, in UTC.
std::string GoUtcTime(int64_t ms) {
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  return buf;
}

}  // namespace

std::vector<std::string> BlockListHeader() {
  return {"BLOCK ULID",  "MIN TIME",   "MAX TIME",   "DURATION",
          "NUM SAMPLES", "NUM CHUNKS", "NUM SERIES", "SIZE"};
}

std::vector<std::string> BlockListRow(const tsdb::block::BlockMeta& m, uint64_t size, bool human) {
  return {m.ulid,
          human ? GoUtcTime(m.min_time) : std::to_string(m.min_time),
          human ? GoUtcTime(m.max_time) : std::to_string(m.max_time),
          GoDurationMs(m.max_time - m.min_time),
          std::to_string(m.stats.num_samples),
          std::to_string(m.stats.num_chunks),
          std::to_string(m.stats.num_series),
          human ? GoBase2Bytes(size) : std::to_string(size)};
}

int RunTsdbList(const CommandContext& ctx) {
  std::vector<std::string> args = ctx.args;
  for (auto& a : args) {
    if (a == "-r") a = "--human-readable";
  }
  auto flags = ParseFlags(args, {"enable-feature"}, {"human-readable"});
  if (!flags.ok() || flags->positional.size() > 1) {
    *ctx.err << "kilntool: error: "
             << (flags.ok() ? "unexpected " + flags->positional[1] : flags.status().message())
             << "\n";
    return 2;
  }
  const std::string dir = flags->positional.empty() ? "data/" : flags->positional[0];
  std::vector<std::shared_ptr<block::Block>> blocks;
  auto metas = block::ReadBlockMetas(dir);
  Status st = metas.status();
  for (size_t i = 0; st.ok() && i < metas->size(); i++) {
    auto b = block::Block::Open((*metas)[i].dir);
    st = b.status();
    if (st.ok()) blocks.push_back(std::move(b).value());
  }
  if (!st.ok()) {
    *ctx.err << st.message() << "\n";
    return 1;
  }
  std::sort(blocks.begin(), blocks.end(),
            [](const auto& a, const auto& b) { return a->meta().min_time < b->meta().min_time; });
  const bool human = flags->Has("human-readable");
  std::vector<std::vector<std::string>> rows = {BlockListHeader()};
  for (const auto& b : blocks) rows.push_back(BlockListRow(b->meta(), b->Size(), human));
  *ctx.out << GoTabwriter(rows, 13, 2);
  return 0;
}

}  // namespace kiln::tool
