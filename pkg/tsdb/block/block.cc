#include "pkg/tsdb/block/block.h"

#include <filesystem>

#include "pkg/tsdb/block/block_querier.h"
#include "pkg/tsdb/index/postings_for_matchers.h"

namespace kiln::tsdb::block {

Result<std::shared_ptr<Block>> Block::Open(const std::string& dir) {
  std::shared_ptr<Block> b(new Block());
  b->dir_ = dir;
  KILN_ASSIGN_OR_RETURN(b->meta_, ReadMeta(dir));
  auto ix = index::IndexReader::Open(dir + "/index");
  if (!ix.ok()) return ix.status().Wrap("open index of block " + dir);
  b->index_ = std::move(ix).value();
  auto cr = chunks::ChunkReader::Open(dir + "/chunks");
  if (!cr.ok()) return cr.status().Wrap("open chunks of block " + dir);
  b->chunks_ = std::move(cr).value();
  KILN_ASSIGN_OR_RETURN(Tombstones t, Tombstones::ReadDir(dir));
  b->tombstones_ = std::make_shared<const Tombstones>(std::move(t));
  std::error_code ec;
  b->size_ = b->index_->Size() + b->chunks_->Size();
  for (const char* f : {kTombstonesFilename, kMetaFilename}) {
    const auto n = std::filesystem::file_size(dir + "/" + f, ec);
    if (!ec) b->size_ += n;
  }
  return b;
}

BlockMeta Block::meta() const {
  std::lock_guard<std::mutex> l(mu_);
  return meta_;
}

std::shared_ptr<const Tombstones> Block::tombstones() const {
  std::lock_guard<std::mutex> l(mu_);
  return tombstones_;
}

Result<std::unique_ptr<storage::Querier>> Block::NewQuerier(int64_t mint, int64_t maxt) {
  return std::unique_ptr<storage::Querier>(
      std::make_unique<BlockQuerier>(shared_from_this(), tombstones(), mint, maxt));
}

Status Block::Delete(int64_t mint, int64_t maxt, const std::vector<model::Matcher>& matchers) {
  auto p = index::PostingsForMatchers(*index_, matchers);
  std::lock_guard<std::mutex> l(mu_);
  Tombstones next = *tombstones_;
  model::Labels lbls;
  std::vector<chunks::ChunkMeta> metas;
  while (p->Next()) {
    KILN_RETURN_IF_ERROR(index_->Series(p->At(), &lbls, &metas));
    for (const auto& m : metas) {
      // Only series with data in the range get a tombstone, as upstream.
      if (m.min_time <= maxt && mint <= m.max_time) {
        // Clamped to the series' data, as upstream.
        next.Add(p->At(),
                 {std::max(mint, metas.front().min_time), std::min(maxt, metas.back().max_time)});
        break;
      }
    }
  }
  KILN_RETURN_IF_ERROR(p->err());
  KILN_RETURN_IF_ERROR(next.WriteDir(dir_));
  BlockMeta meta = meta_;
  meta.stats.num_tombstones = next.NumIntervals();
  KILN_RETURN_IF_ERROR(WriteMeta(dir_, meta));
  meta_ = std::move(meta);
  tombstones_ = std::make_shared<const Tombstones>(std::move(next));
  return Status::OK();
}

}  // namespace kiln::tsdb::block
