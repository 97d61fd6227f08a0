#include "pkg/tsdb/block/block_writer.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>

#include "pkg/tsdb/block/tombstones.h"
#include "pkg/tsdb/block/ulid.h"
#include "pkg/tsdb/chunkenc/chunk.h"
#include "pkg/tsdb/chunks/chunk_writer.h"
#include "pkg/tsdb/chunks/file_util.h"
#include "pkg/tsdb/index/index_writer.h"

namespace kiln::tsdb::block {
namespace {

namespace fs = std::filesystem;

struct PendingSeries {
  model::Labels labels;
  std::vector<chunks::ChunkMeta> metas;  // refs set, chunk data released
};

// End of the aligned range of length `r` containing `t`.
int64_t RangeEnd(int64_t t, int64_t r) { return (t >= 0 ? t / r : -((-t + r - 1) / r)) * r + r; }

// Where a chunk that started at `start` and reached `cur` after a quarter of its samples
// should end so that the rest of the range is split into chunks of similar size (upstream's
// computeChunkEndTime).
int64_t ChunkEndTime(int64_t start, int64_t cur, int64_t max) {
  const int64_t n = (max - start) / ((cur - start + 1) * 4);
  return n <= 1 ? max : start + (max - start) / n;
}

// Re-encodes the samples of `it` in [mint, maxt) into XOR chunks cut as the head cuts them:
// at chunk range boundaries, spread evenly aiming at kSamplesPerChunk, at most twice that.
Result<std::vector<chunks::ChunkMeta>> EncodeChunks(chunkenc::Iterator* it, int64_t mint,
                                                    int64_t maxt, int64_t chunk_range,
                                                    uint64_t* samples) {
  std::vector<chunks::ChunkMeta> metas;
  std::unique_ptr<chunkenc::Appender> app;
  int in_chunk = 0;
  int64_t next_at = 0;
  for (auto vt = it->Seek(mint); vt != chunkenc::ValueType::kNone; vt = it->Next()) {
    if (vt != chunkenc::ValueType::kFloat) {
      return Status::Unavailable("writing native histogram samples to blocks is not supported");
    }
    const auto [t, v] = it->At();
    if (t >= maxt) break;
    if (t < mint) continue;
    if (app && in_chunk == kSamplesPerChunk / 4) {
      next_at = ChunkEndTime(metas.back().min_time, metas.back().max_time, next_at);
    }
    if (!app || t >= next_at || in_chunk >= 2 * kSamplesPerChunk) {
      KILN_ASSIGN_OR_RETURN(std::unique_ptr<chunkenc::Chunk> c,
                            chunkenc::NewChunk(chunkenc::Encoding::kXOR));
      metas.push_back({0, t, t, std::shared_ptr<chunkenc::Chunk>(std::move(c))});
      KILN_ASSIGN_OR_RETURN(app, metas.back().chunk->NewAppender());
      in_chunk = 0;
      next_at = RangeEnd(t, chunk_range);
    }
    app->Append(t, v);
    metas.back().max_time = t;
    in_chunk++;
    (*samples)++;
  }
  KILN_RETURN_IF_ERROR(it->err());
  app.reset();
  for (auto& m : metas) m.chunk->Compact();
  return metas;
}

Status WriteIndex(const std::string& path, const std::vector<PendingSeries>& series,
                  const std::set<std::string, std::less<>>& symbols) {
  KILN_ASSIGN_OR_RETURN(auto iw, index::IndexWriter::Open(path));
  for (const auto& s : symbols) KILN_RETURN_IF_ERROR(iw->AddSymbol(s));
  for (const auto& s : series) KILN_RETURN_IF_ERROR(iw->AddSeries(s.labels, s.metas));
  return iw->Close();
}

Result<BlockMeta> WriteInto(const std::string& tmp, storage::SeriesSet* set, int64_t mint,
                            int64_t maxt, const BlockWriteOptions& options) {
  KILN_ASSIGN_OR_RETURN(auto cw, chunks::ChunkWriter::Open(tmp + "/chunks", options.segment_size));
  BlockMeta meta;
  std::vector<PendingSeries> series;
  std::set<std::string, std::less<>> symbols{""};
  while (set->Next()) {
    const storage::Series& s = set->At();
    auto it = s.Iterator();
    KILN_ASSIGN_OR_RETURN(auto metas, EncodeChunks(it.get(), mint, maxt, options.chunk_range,
                                                   &meta.stats.num_samples));
    if (metas.empty()) continue;
    KILN_RETURN_IF_ERROR(cw->WriteChunks(metas));
    for (auto& m : metas) m.chunk.reset();
    for (const auto& l : s.labels()) {
      if (symbols.find(l.name) == symbols.end()) symbols.emplace(l.name);
      if (symbols.find(l.value) == symbols.end()) symbols.emplace(l.value);
    }
    meta.stats.num_chunks += metas.size();
    series.push_back({s.labels(), std::move(metas)});
  }
  KILN_RETURN_IF_ERROR(set->err());
  KILN_RETURN_IF_ERROR(cw->Close());
  meta.stats.num_series = series.size();
  if (series.empty()) return meta;
  KILN_RETURN_IF_ERROR(WriteIndex(tmp + "/index", series, symbols));
  meta.min_time = mint;
  meta.max_time = maxt;
  meta.compaction.level = options.level;
  meta.compaction.sources = options.sources;
  meta.compaction.parents = options.parents;
  KILN_RETURN_IF_ERROR(Tombstones().WriteDir(tmp));
  return meta;
}

}  // namespace

Result<BlockMeta> WriteBlock(const std::string& parent_dir, storage::SeriesSet* set, int64_t mint,
                             int64_t maxt, const BlockWriteOptions& options) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const std::string ulid = NewUlid(now);
  const std::string final_dir = parent_dir + "/" + ulid;
  const std::string tmp = final_dir + kTmpForCreationSuffix;
  std::error_code ec;
  fs::remove_all(tmp, ec);
  KILN_RETURN_IF_ERROR(chunks::MakeDirs(tmp));
  auto meta = WriteInto(tmp, set, mint, maxt, options);
  Status s = meta.status();
  if (s.ok() && meta.value().stats.num_series > 0) {
    meta.value().ulid = ulid;
    if (meta.value().compaction.sources.empty()) meta.value().compaction.sources = {ulid};
    s = WriteMeta(tmp, meta.value());
    if (s.ok()) s = chunks::SyncDir(tmp);
    if (s.ok() && std::rename(tmp.c_str(), final_dir.c_str()) != 0) {
      s = Status::FromErrno("rename " + tmp, errno);
    }
    if (s.ok()) s = chunks::SyncDir(parent_dir);
    if (s.ok()) return meta;
  }
  fs::remove_all(tmp, ec);
  if (!s.ok()) return s.Wrap("write block " + ulid);
  return meta;
}

}  // namespace kiln::tsdb::block
