#include "pkg/tsdb/head_series.h"

namespace kiln::tsdb {

namespace {

using chunkenc::ValueType;

// Walks the chunk views in order, reading at most `limit` samples of each and only those
// inside [mint, maxt].
class ChunkViewsIterator final : public chunkenc::Iterator {
 public:
  ChunkViewsIterator(std::shared_ptr<const std::vector<ChunkView>> chunks,
                     std::shared_ptr<const DeletedIntervals> deleted, int64_t mint, int64_t maxt)
      : owner_(std::move(chunks)),
        chunks_(owner_.get()),
        deleted_(std::move(deleted)),
        mint_(mint),
        maxt_(maxt) {}

  ValueType Next() override {
    while (!done_) {
      if (it_ == nullptr && !OpenNext()) break;
      if (read_ >= (*chunks_)[idx_].limit || it_->Next() == ValueType::kNone) {
        if (!it_->err().ok()) {
          err_ = it_->err();
          break;
        }
        it_.reset();
        continue;
      }
      ++read_;
      cur_ = it_->At();
      if (cur_.first < mint_) continue;
      if (cur_.first > maxt_) break;
      if (!deleted_->empty() && IsDeleted(*deleted_, cur_.first)) continue;
      return ValueType::kFloat;
    }
    done_ = true;
    return ValueType::kNone;
  }

  ValueType Seek(int64_t t) override {
    if (done_) return ValueType::kNone;
    // it_ is set only while a current sample exists (outside Next).
    if (it_ != nullptr && cur_.first >= t) return ValueType::kFloat;
    // Skip whole chunks that end before t.
    if (it_ != nullptr && (*chunks_)[idx_].maxt < t) it_.reset();
    while (it_ == nullptr && next_ < chunks_->size() && (*chunks_)[next_].maxt < t) ++next_;
    while (Next() == ValueType::kFloat) {
      if (cur_.first >= t) return ValueType::kFloat;
    }
    return ValueType::kNone;
  }

  std::pair<int64_t, double> At() const override { return cur_; }
  int64_t AtT() const override { return cur_.first; }
  Status err() const override { return err_; }

 private:
  bool OpenNext() {
    if (next_ >= chunks_->size()) return false;
    idx_ = next_++;
    it_ = (*chunks_)[idx_].chunk->NewIterator();
    read_ = 0;
    return true;
  }

  const std::shared_ptr<const std::vector<ChunkView>> owner_;
  const std::vector<ChunkView>* const chunks_;
  const std::shared_ptr<const DeletedIntervals> deleted_;
  const int64_t mint_;
  const int64_t maxt_;
  size_t next_ = 0;  // next chunk to open
  size_t idx_ = 0;   // chunk it_ reads
  std::unique_ptr<chunkenc::Iterator> it_;
  int read_ = 0;  // samples read from the current chunk
  bool done_ = false;
  std::pair<int64_t, double> cur_{0, 0};
  Status err_;
};

}  // namespace

std::unique_ptr<chunkenc::Iterator> HeadSeries::Iterator() const {
  return std::make_unique<ChunkViewsIterator>(chunks_, deleted_, mint_, maxt_);
}

}  // namespace kiln::tsdb
