#include "pkg/tsdb/block/compactor.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <set>

#include "pkg/tsdb/block/block.h"
#include "pkg/tsdb/block/block_writer.h"
#include "pkg/tsdb/block/merge.h"
#include "pkg/tsdb/block/ulid.h"

namespace kiln::tsdb::block {
namespace {

namespace fs = std::filesystem;

// Groups of consecutive blocks lying wholly within one aligned window [t0, t0+tr).
std::vector<std::vector<DirMeta>> SplitByRange(const std::vector<DirMeta>& ds, int64_t tr) {
  std::vector<std::vector<DirMeta>> out;
  for (size_t i = 0; i < ds.size();) {
    const int64_t mint = ds[i].meta.min_time;
    // Floor division, also for negative times.
    const int64_t t0 = (mint >= 0 ? mint / tr : -((-mint + tr - 1) / tr)) * tr;
    if (ds[i].meta.max_time > t0 + tr) {
      i++;
      continue;
    }
    std::vector<DirMeta> group;
    for (; i < ds.size(); i++) {
      if (ds[i].meta.min_time < t0 || ds[i].meta.max_time > t0 + tr) break;
      group.push_back(ds[i]);
    }
    if (!group.empty()) out.push_back(std::move(group));
  }
  return out;
}

// The first run of blocks overlapping each other (sorted by min time), if any.
std::vector<std::string> SelectOverlapping(const std::vector<DirMeta>& ds) {
  if (ds.size() < 2) return {};
  std::vector<std::string> group;
  int64_t global_max = ds[0].meta.max_time;
  for (size_t i = 1; i < ds.size(); i++) {
    if (ds[i].meta.min_time < global_max) {
      if (group.empty()) group.push_back(ds[i - 1].dir);
      group.push_back(ds[i].dir);
    } else if (!group.empty()) {
      break;
    }
    global_max = std::max(global_max, ds[i].meta.max_time);
  }
  return group;
}

}  // namespace

std::vector<int64_t> ExponentialBlockRanges(int64_t base, int steps, int64_t factor) {
  std::vector<int64_t> r;
  for (int i = 0; i < steps; i++, base *= factor) r.push_back(base);
  return r;
}

Result<std::vector<DirMeta>> ReadBlockMetas(const std::string& dir) {
  std::vector<DirMeta> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory() || !UlidTime(name)) continue;
    KILN_ASSIGN_OR_RETURN(BlockMeta m, ReadMeta(e.path().string()));
    out.push_back({e.path().string(), std::move(m)});
  }
  if (ec) return Status::IOError("list " + dir + ": " + ec.message());
  return out;
}

Result<std::vector<std::string>> LeveledCompactor::Plan(const std::string& dir) const {
  KILN_ASSIGN_OR_RETURN(auto metas, ReadBlockMetas(dir));
  return PlanMetas(std::move(metas));
}

std::vector<std::string> LeveledCompactor::PlanMetas(std::vector<DirMeta> ds) const {
  std::sort(ds.begin(), ds.end(),
            [](const DirMeta& a, const DirMeta& b) { return a.meta.min_time < b.meta.min_time; });
  if (auto overlapping = SelectOverlapping(ds); !overlapping.empty()) return overlapping;
  if (ds.empty()) return {};
  // The newest block stays out: it gives a full block length of time to back it up alone.
  ds.pop_back();
  std::vector<std::string> res;
  for (const auto& d : SelectDirs(ds)) res.push_back(d.dir);
  if (!res.empty()) return res;
  for (auto it = ds.rbegin(); it != ds.rend(); ++it) {
    const BlockMeta& m = it->meta;
    if (m.max_time - m.min_time < ranges_[ranges_.size() / 2]) break;
    if (static_cast<double>(m.stats.num_tombstones) / static_cast<double>(m.stats.num_series + 1) >
        0.05) {
      return {it->dir};
    }
  }
  return {};
}

std::vector<DirMeta> LeveledCompactor::SelectDirs(const std::vector<DirMeta>& ds) const {
  if (ranges_.size() < 2 || ds.empty()) return {};
  const int64_t high_time = ds.back().meta.min_time;
  for (size_t r = 1; r < ranges_.size(); r++) {
    for (const auto& part : SplitByRange(ds, ranges_[r])) {
      if (std::any_of(part.begin(), part.end(),
                      [](const DirMeta& d) { return d.meta.compaction.failed; })) {
        continue;
      }
      const int64_t mint = part.front().meta.min_time;
      const int64_t maxt = part.back().meta.max_time;
      // A full window, or one wholly before the newest block: nothing more will join it.
      if ((maxt - mint == ranges_[r] || maxt <= high_time) && part.size() > 1) return part;
    }
  }
  return {};
}

Result<BlockMeta> LeveledCompactor::Compact(const std::string& dest,
                                            const std::vector<std::string>& dirs) const {
  std::vector<std::shared_ptr<Block>> blocks;
  BlockWriteOptions opts;
  opts.level = 0;
  opts.chunk_range = ranges_.front();
  std::set<std::string> sources;
  int64_t mint = std::numeric_limits<int64_t>::max();
  int64_t maxt = std::numeric_limits<int64_t>::min();
  for (const auto& d : dirs) {
    KILN_ASSIGN_OR_RETURN(auto b, Block::Open(d));
    const BlockMeta m = b->meta();
    opts.level = std::max(opts.level, m.compaction.level + 1);
    sources.insert(m.compaction.sources.begin(), m.compaction.sources.end());
    opts.parents.push_back({m.ulid, m.min_time, m.max_time});
    mint = std::min(mint, m.min_time);
    maxt = std::max(maxt, m.max_time);
    blocks.push_back(std::move(b));
  }
  opts.sources.assign(sources.begin(), sources.end());
  KILN_ASSIGN_OR_RETURN(
      auto all, model::Matcher::Make(model::MatchType::kRegexMatch, model::kMetricName, ".*"));
  std::vector<std::unique_ptr<storage::Querier>> queriers;
  for (auto& b : blocks) {
    KILN_ASSIGN_OR_RETURN(auto q, b->NewQuerier(mint, maxt - 1));
    queriers.push_back(std::move(q));
  }
  MergeQuerier merged(std::move(queriers));
  auto set = merged.Select(true, nullptr, {all});
  auto meta = WriteBlock(dest, set.get(), mint, maxt, opts);
  if (!meta.ok()) return meta.status().Wrap("compact " + std::to_string(dirs.size()) + " blocks");
  return meta;
}

}  // namespace kiln::tsdb::block
