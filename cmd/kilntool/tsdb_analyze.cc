// `kilntool tsdb analyze [--limit=20] [<db path>] [<block id>]`: promtool's cardinality and
// churn report for one block (the newest by default). Same sections and figures as promtool;
// where promtool's order among equal figures is random (Go map order), ties are by key here.
#include <algorithm>
#include <map>
#include <ostream>

#include "cmd/kilntool/command.h"
#include "cmd/kilntool/flag_parser.h"
#include "cmd/kilntool/go_format.h"
#include "pkg/tsdb/block/block.h"
#include "pkg/tsdb/block/compactor.h"

namespace kiln::tool {
namespace {

namespace block = tsdb::block;
using Infos = std::vector<std::pair<std::string, uint64_t>>;

// promtool prints up to limit+1 entries (it checks the limit after printing).
void PrintInfos(Infos infos, size_t limit, std::ostream& out) {
  std::stable_sort(infos.begin(), infos.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  for (size_t i = 0; i < infos.size() && i <= limit; i++) {
    out << infos[i].second << " " << infos[i].first << "\n";
  }
}

Infos Scaled(const std::map<std::string, uint64_t>& m, int64_t range) {
  Infos out;
  for (const auto& [k, v] : m) {
    out.emplace_back(k, static_cast<uint64_t>(static_cast<double>(v) / static_cast<double>(range)));
  }
  return out;
}

Status Analyze(const block::Block& b, size_t limit, std::ostream& out) {
  const block::BlockMeta meta = b.meta();
  const auto& ix = b.index();
  const int64_t range = meta.max_time - meta.min_time;
  const std::vector<std::string> names = ix.LabelNames();
  out << "Block ID: " << meta.ulid << "\nDuration: " << GoDurationMs(range)
      << "\nSeries: " << meta.stats.num_series << "\nLabel names: " << names.size() << "\n";
  std::map<std::string, uint64_t> names_uncovered, pairs_uncovered, pairs_count;
  uint64_t entries = 0;
  auto p = ix.AllPostings();
  model::Labels lbls;
  std::vector<tsdb::chunks::ChunkMeta> chks;
  while (p->Next()) {
    KILN_RETURN_IF_ERROR(ix.Series(p->At(), &lbls, &chks));
    if (chks.empty()) continue;
    // The part of the block's range this series does not cover (wraps as upstream's uint64).
    const uint64_t uncovered = static_cast<uint64_t>(range) -
                               static_cast<uint64_t>(chks.back().max_time - chks.front().min_time);
    for (const auto& l : lbls) {
      const std::string key = std::string(l.name) + "=" + std::string(l.value);
      names_uncovered[std::string(l.name)] += uncovered;
      pairs_uncovered[key] += uncovered;
      pairs_count[key]++;
      entries++;
    }
  }
  KILN_RETURN_IF_ERROR(p->err());
  out << "Postings (unique label pairs): " << pairs_uncovered.size()
      << "\nPostings entries (total label pairs): " << entries << "\n";
  out << "\nLabel pairs most involved in churning:\n";
  PrintInfos(Scaled(pairs_uncovered, range), limit, out);
  out << "\nLabel names most involved in churning:\n";
  PrintInfos(Scaled(names_uncovered, range), limit, out);
  out << "\nMost common label pairs:\n";
  PrintInfos(Infos(pairs_count.begin(), pairs_count.end()), limit, out);
  Infos lengths, cardinality, metrics;
  for (const auto& n : names) {
    const auto values = ix.LabelValues(n);
    uint64_t len = 0;
    for (const auto& v : values) len += v.size();
    lengths.emplace_back(n, len);
    cardinality.emplace_back(n, values.size());
  }
  out << "\nLabel names with highest cumulative label value length:\n";
  PrintInfos(lengths, limit, out);
  out << "\nHighest cardinality labels:\n";
  PrintInfos(cardinality, limit, out);
  for (const auto& v : ix.LabelValues(model::kMetricName)) {
    const std::string_view vals[] = {v};
    auto mp = ix.PostingsFor(model::kMetricName, vals);
    uint64_t n = 0;
    while (mp->Next()) n++;
    KILN_RETURN_IF_ERROR(mp->err());
    metrics.emplace_back(v, n);
  }
  out << "\nHighest cardinality metric names:\n";
  PrintInfos(metrics, limit, out);
  return Status::OK();
}

}  // namespace

int RunTsdbAnalyze(const CommandContext& ctx) {
  auto flags = ParseFlags(ctx.args, {"limit", "enable-feature"}, {});
  if (!flags.ok() || flags->positional.size() > 2) {
    *ctx.err << "kilntool: error: "
             << (flags.ok() ? "unexpected " + flags->positional[2] : flags.status().message())
             << "\n";
    return 2;
  }
  const size_t limit = std::stoul(flags->Get("limit", "20"));
  const std::string dir = flags->positional.empty() ? "data/" : flags->positional[0];
  auto metas = block::ReadBlockMetas(dir);
  if (!metas.ok() || metas->empty()) {
    *ctx.err << (metas.ok() ? "no blocks found" : metas.status().message()) << "\n";
    return 1;
  }
  std::sort(metas->begin(), metas->end(),
            [](const auto& a, const auto& b) { return a.meta.min_time < b.meta.min_time; });
  std::string path = metas->back().dir;
  if (flags->positional.size() > 1) {
    auto it = std::find_if(metas->begin(), metas->end(),
                           [&](const auto& m) { return m.meta.ulid == flags->positional[1]; });
    if (it == metas->end()) {
      *ctx.err << "block " << flags->positional[1] << " not found\n";
      return 1;
    }
    path = it->dir;
  }
  auto b = block::Block::Open(path);
  Status st = b.ok() ? Analyze(*b.value(), limit, *ctx.out) : b.status();
  if (!st.ok()) {
    *ctx.err << st.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace kiln::tool
