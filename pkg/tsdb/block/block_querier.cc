#include "pkg/tsdb/block/block_querier.h"

#include <set>

#include "pkg/tsdb/block/block.h"
#include "pkg/tsdb/index/postings_for_matchers.h"

namespace kiln::tsdb::block {
namespace {

using chunkenc::ValueType;

// What a block series' samples need: its chunks' places, the range and deleted intervals.
struct SeriesChunks {
  std::shared_ptr<const Block> block;
  std::vector<chunks::ChunkMeta> metas;  // overlapping the range, sorted by time
  int64_t mint = 0;
  int64_t maxt = 0;
  Intervals deleted;
};

// Iterates the samples of a series' chunks within [mint, maxt], skipping deleted ones.
class BlockSeriesIterator final : public chunkenc::Iterator {
 public:
  explicit BlockSeriesIterator(std::shared_ptr<const SeriesChunks> sc) : sc_(std::move(sc)) {}

  ValueType Next() override {
    while (!done_) {
      if (!it_ && !LoadNextChunk()) break;
      cur_ = it_->Next();
      if (cur_ == ValueType::kNone) {
        if (Status s = it_->err(); !s.ok()) return Fail(s);
        it_.reset();
        continue;
      }
      const int64_t t = it_->AtT();
      if (t < sc_->mint || IsDeleted(sc_->deleted, t)) continue;
      if (t > sc_->maxt) break;
      return cur_;
    }
    done_ = true;
    return cur_ = ValueType::kNone;
  }

  ValueType Seek(int64_t t) override {
    if (done_) return ValueType::kNone;
    if (it_ && cur_ != ValueType::kNone && it_->AtT() >= t) return cur_;
    // Chunks ending before t need not be decoded at all.
    if (it_ && sc_->metas[next_ - 1].max_time < t) it_.reset();
    while (!it_ && next_ < sc_->metas.size() && sc_->metas[next_].max_time < t) next_++;
    for (;;) {
      if (Next() == ValueType::kNone) return ValueType::kNone;
      if (it_->AtT() >= t) return cur_;
    }
  }

  std::pair<int64_t, double> At() const override { return it_->At(); }
  int64_t AtT() const override { return it_->AtT(); }
  Status err() const override { return err_; }

 private:
  bool LoadNextChunk() {
    if (next_ >= sc_->metas.size()) return false;
    auto c = sc_->block->chunk_reader().Chunk(sc_->metas[next_++].ref);
    if (!c.ok()) {
      Fail(c.status());
      return false;
    }
    chunk_ = std::move(c).value();
    it_ = chunk_->NewIterator();
    return true;
  }

  ValueType Fail(Status s) {
    err_ = std::move(s);
    done_ = true;
    it_.reset();
    return cur_ = ValueType::kNone;
  }

  std::shared_ptr<const SeriesChunks> sc_;
  size_t next_ = 0;  // next meta to load
  std::unique_ptr<chunkenc::Chunk> chunk_;
  std::unique_ptr<chunkenc::Iterator> it_;  // over chunk_, null between chunks
  ValueType cur_ = ValueType::kNone;
  bool done_ = false;
  Status err_;
};

class BlockSeries final : public storage::Series {
 public:
  BlockSeries(model::Labels labels, std::shared_ptr<const SeriesChunks> sc)
      : labels_(std::move(labels)), sc_(std::move(sc)) {}
  const model::Labels& labels() const override { return labels_; }
  std::unique_ptr<chunkenc::Iterator> Iterator() const override {
    return std::make_unique<BlockSeriesIterator>(sc_);
  }

 private:
  model::Labels labels_;
  std::shared_ptr<const SeriesChunks> sc_;
};

// Walks postings, decoding each series and keeping those with chunks in range.
class BlockSeriesSet final : public storage::SeriesSet {
 public:
  BlockSeriesSet(std::shared_ptr<const Block> block, std::shared_ptr<const Tombstones> stones,
                 std::unique_ptr<index::Postings> postings, int64_t mint, int64_t maxt)
      : block_(std::move(block)),
        stones_(std::move(stones)),
        postings_(std::move(postings)),
        mint_(mint),
        maxt_(maxt) {}

  bool Next() override {
    while (err_.ok() && postings_->Next()) {
      auto sc = std::make_shared<SeriesChunks>();
      model::Labels lbls;
      std::vector<chunks::ChunkMeta> metas;
      err_ = block_->index().Series(postings_->At(), &lbls, &metas);
      if (!err_.ok()) return false;
      for (auto& m : metas) {
        if (m.min_time <= maxt_ && mint_ <= m.max_time) sc->metas.push_back(std::move(m));
      }
      if (const Intervals* ivs = stones_->Get(postings_->At())) sc->deleted = *ivs;
      if (sc->metas.empty() || FullyDeleted(*sc)) continue;
      sc->block = block_;
      sc->mint = mint_;
      sc->maxt = maxt_;
      cur_ = std::make_unique<BlockSeries>(std::move(lbls), std::move(sc));
      return true;
    }
    if (err_.ok()) err_ = postings_->err();
    return false;
  }
  const storage::Series& At() const override { return *cur_; }
  Status err() const override { return err_; }

 private:
  // Whether one deleted interval covers every chunk in range (then the series is dropped,
  // as upstream does, instead of yielding an empty series).
  bool FullyDeleted(const SeriesChunks& sc) const {
    const int64_t lo = std::max(mint_, sc.metas.front().min_time);
    const int64_t hi = std::min(maxt_, sc.metas.back().max_time);
    for (const Interval& iv : sc.deleted) {
      if (iv.mint <= lo && hi <= iv.maxt) return true;
    }
    return false;
  }

  std::shared_ptr<const Block> block_;
  std::shared_ptr<const Tombstones> stones_;
  std::unique_ptr<index::Postings> postings_;
  const int64_t mint_, maxt_;
  std::unique_ptr<BlockSeries> cur_;
  Status err_;
};

}  // namespace

std::unique_ptr<storage::SeriesSet> BlockQuerier::Select(
    bool /*sorted: index order already is label order*/, const storage::SelectHints* hints,
    const std::vector<model::Matcher>& matchers) {
  int64_t mint = mint_, maxt = maxt_;
  if (hints != nullptr && (hints->start != 0 || hints->end != 0)) {
    mint = std::max(mint, hints->start);
    maxt = std::min(maxt, hints->end);
  }
  return std::make_unique<BlockSeriesSet>(
      block_, tombstones_, index::PostingsForMatchers(block_->index(), matchers), mint, maxt);
}

Result<std::vector<std::string>> BlockQuerier::LabelValues(
    const std::string& name, const storage::LabelHints& hints,
    const std::vector<model::Matcher>& matchers) {
  std::vector<std::string> out;
  if (matchers.empty()) {
    out = block_->index().LabelValues(name);
  } else {
    std::set<std::string, std::less<>> values;
    auto p = index::PostingsForMatchers(block_->index(), matchers);
    model::Labels lbls;
    std::vector<chunks::ChunkMeta> metas;
    while (p->Next()) {
      KILN_RETURN_IF_ERROR(block_->index().Series(p->At(), &lbls, &metas));
      const std::string_view v = lbls.Get(name);
      if (!v.empty() && values.find(v) == values.end()) values.emplace(v);
    }
    KILN_RETURN_IF_ERROR(p->err());
    out.assign(values.begin(), values.end());
  }
  if (hints.limit > 0 && out.size() > static_cast<size_t>(hints.limit)) out.resize(hints.limit);
  return out;
}

Result<std::vector<std::string>> BlockQuerier::LabelNames(
    const storage::LabelHints& hints, const std::vector<model::Matcher>& matchers) {
  std::vector<std::string> out;
  if (matchers.empty()) {
    out = block_->index().LabelNames();
  } else {
    std::set<std::string, std::less<>> names;
    auto p = index::PostingsForMatchers(block_->index(), matchers);
    model::Labels lbls;
    std::vector<chunks::ChunkMeta> metas;
    while (p->Next()) {
      KILN_RETURN_IF_ERROR(block_->index().Series(p->At(), &lbls, &metas));
      for (const auto& l : lbls) {
        if (names.find(l.name) == names.end()) names.emplace(l.name);
      }
    }
    KILN_RETURN_IF_ERROR(p->err());
    out.assign(names.begin(), names.end());
  }
  if (hints.limit > 0 && out.size() > static_cast<size_t>(hints.limit)) out.resize(hints.limit);
  return out;
}

}  // namespace kiln::tsdb::block
