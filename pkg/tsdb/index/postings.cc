#include "pkg/tsdb/index/postings.h"

#include <algorithm>
#include <functional>

#include "pkg/util/coding.h"

namespace kiln::tsdb::index {

namespace {

class EmptyPostingsImpl final : public Postings {
 public:
  explicit EmptyPostingsImpl(Status s = Status::OK()) : status_(std::move(s)) {}
  bool Next() override { return false; }
  bool Seek(uint64_t) override { return false; }
  uint64_t At() const override { return 0; }
  Status err() const override { return status_; }

 private:
  Status status_;
};

// Iterates a sorted random-access range through `get(i)`.
template <typename Get>
class RangePostings final : public Postings {
 public:
  RangePostings(size_t n, Get get) : n_(n), get_(std::move(get)) {}
  bool Next() override {
    pos_ = started_ ? std::min(pos_ + 1, n_) : 0;
    started_ = true;
    if (pos_ >= n_) return false;
    cur_ = get_(pos_);
    return true;
  }
  bool Seek(uint64_t v) override {
    if (started_) {
      if (pos_ >= n_) return false;
      if (cur_ >= v) return true;
    }
    size_t lo = started_ ? pos_ + 1 : 0;
    started_ = true;
    // Galloping search: cheap when the target is near, logarithmic when far.
    size_t step = 1;
    size_t hi = lo;
    while (hi < n_ && get_(hi) < v) {
      lo = hi + 1;
      hi += step;
      step *= 2;
    }
    hi = std::min(hi, n_);
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (get_(mid) < v) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    pos_ = lo;
    if (pos_ >= n_) return false;
    cur_ = get_(pos_);
    return true;
  }
  uint64_t At() const override { return cur_; }
  Status err() const override { return Status::OK(); }

 private:
  size_t n_;
  Get get_;
  size_t pos_ = 0;
  bool started_ = false;
  uint64_t cur_ = 0;
};

template <typename Get>
std::unique_ptr<Postings> MakeRange(size_t n, Get get) {
  return std::make_unique<RangePostings<Get>>(n, std::move(get));
}

Status FirstError(const std::vector<std::unique_ptr<Postings>>& its) {
  for (const auto& p : its) {
    Status s = p->err();
    if (!s.ok()) return s;
  }
  return Status::OK();
}

class IntersectPostings final : public Postings {
 public:
  explicit IntersectPostings(std::vector<std::unique_ptr<Postings>> its) : its_(std::move(its)) {}
  bool Next() override {
    if (done_ || !its_[0]->Next()) return Finish();
    return Align(its_[0]->At());
  }
  bool Seek(uint64_t v) override {
    if (done_) return false;
    if (started_ && cur_ >= v) return true;
    if (!its_[0]->Seek(v)) return Finish();
    return Align(its_[0]->At());
  }
  uint64_t At() const override { return cur_; }
  Status err() const override { return FirstError(its_); }

 private:
  // Seeks every input to `target`, raising it until all agree.
  bool Align(uint64_t target) {
    started_ = true;
    for (size_t agreed = 0, i = 0; agreed < its_.size(); i = (i + 1) % its_.size()) {
      if (!its_[i]->Seek(target)) return Finish();
      if (its_[i]->At() == target) {
        agreed++;
      } else {
        target = its_[i]->At();
        agreed = 1;
      }
    }
    cur_ = target;
    return true;
  }
  bool Finish() {
    done_ = true;
    return false;
  }

  std::vector<std::unique_ptr<Postings>> its_;
  uint64_t cur_ = 0;
  bool started_ = false;
  bool done_ = false;
};

// A k-way merge over a min-heap of the inputs' current references.
class MergePostings final : public Postings {
 public:
  explicit MergePostings(std::vector<std::unique_ptr<Postings>> its) : its_(std::move(its)) {}
  bool Next() override {
    if (!started_) {
      started_ = true;
      for (size_t i = 0; i < its_.size(); i++) {
        if (its_[i]->Next()) heap_.push_back(i);
      }
      std::make_heap(heap_.begin(), heap_.end(), Greater());
      return Pick();
    }
    // Advance every input sitting on the current reference.
    while (!heap_.empty() && its_[heap_.front()]->At() == cur_) {
      std::pop_heap(heap_.begin(), heap_.end(), Greater());
      if (its_[heap_.back()]->Next()) {
        std::push_heap(heap_.begin(), heap_.end(), Greater());
      } else {
        heap_.pop_back();
      }
    }
    return Pick();
  }
  bool Seek(uint64_t v) override {
    if (!started_) {
      started_ = true;
      for (size_t i = 0; i < its_.size(); i++) {
        if (its_[i]->Seek(v)) heap_.push_back(i);
      }
      std::make_heap(heap_.begin(), heap_.end(), Greater());
      return Pick();
    }
    if (valid_ && cur_ >= v) return true;
    while (!heap_.empty() && its_[heap_.front()]->At() < v) {
      std::pop_heap(heap_.begin(), heap_.end(), Greater());
      if (its_[heap_.back()]->Seek(v)) {
        std::push_heap(heap_.begin(), heap_.end(), Greater());
      } else {
        heap_.pop_back();
      }
    }
    return Pick();
  }
  uint64_t At() const override { return cur_; }
  Status err() const override { return FirstError(its_); }

 private:
  // Heap order: the input with the smallest current reference on top.
  struct GreaterAt {
    const MergePostings* m;
    bool operator()(size_t a, size_t b) const { return m->its_[a]->At() > m->its_[b]->At(); }
  };
  GreaterAt Greater() const { return GreaterAt{this}; }
  bool Pick() {
    valid_ = !heap_.empty();
    if (valid_) cur_ = its_[heap_.front()]->At();
    return valid_;
  }

  std::vector<std::unique_ptr<Postings>> its_;
  std::vector<size_t> heap_;  // indices into its_ of inputs that are positioned
  uint64_t cur_ = 0;
  bool started_ = false;
  bool valid_ = false;
};

class WithoutPostings final : public Postings {
 public:
  WithoutPostings(std::unique_ptr<Postings> full, std::unique_ptr<Postings> drop)
      : full_(std::move(full)), drop_(std::move(drop)) {}
  bool Next() override { return full_->Next() && SkipDropped(); }
  bool Seek(uint64_t v) override { return full_->Seek(v) && SkipDropped(); }
  uint64_t At() const override { return full_->At(); }
  Status err() const override {
    Status s = full_->err();
    return s.ok() ? drop_->err() : s;
  }

 private:
  // Moves `full_` forward past references that `drop_` contains.
  bool SkipDropped() {
    for (;;) {
      const uint64_t v = full_->At();
      if (drop_ok_) drop_ok_ = drop_->Seek(v);
      if (!drop_ok_ || drop_->At() != v) return true;
      if (!full_->Next()) return false;
    }
  }

  std::unique_ptr<Postings> full_;
  std::unique_ptr<Postings> drop_;
  bool drop_ok_ = true;  // false once drop_ is exhausted
};

}  // namespace

std::unique_ptr<Postings> EmptyPostings() { return std::make_unique<EmptyPostingsImpl>(); }

std::unique_ptr<Postings> ErrorPostings(Status status) {
  return std::make_unique<EmptyPostingsImpl>(std::move(status));
}

std::unique_ptr<Postings> NewListPostings(std::vector<uint64_t> refs) {
  auto owned = std::make_shared<const std::vector<uint64_t>>(std::move(refs));
  const size_t n = owned->size();
  return MakeRange(n, [owned](size_t i) { return (*owned)[i]; });
}

std::unique_ptr<Postings> NewSpanPostings(std::span<const uint64_t> refs) {
  return MakeRange(refs.size(), [refs](size_t i) { return refs[i]; });
}

std::unique_ptr<Postings> NewBigEndianPostings(std::string_view data) {
  return MakeRange(data.size() / 4,
                   [data](size_t i) { return uint64_t{DecodeBE32(data.data() + 4 * i)}; });
}

std::unique_ptr<Postings> Intersect(std::vector<std::unique_ptr<Postings>> its) {
  if (its.empty()) return EmptyPostings();
  if (its.size() == 1) return std::move(its[0]);
  return std::make_unique<IntersectPostings>(std::move(its));
}

std::unique_ptr<Postings> Merge(std::vector<std::unique_ptr<Postings>> its) {
  if (its.empty()) return EmptyPostings();
  if (its.size() == 1) return std::move(its[0]);
  return std::make_unique<MergePostings>(std::move(its));
}

std::unique_ptr<Postings> Without(std::unique_ptr<Postings> full, std::unique_ptr<Postings> drop) {
  return std::make_unique<WithoutPostings>(std::move(full), std::move(drop));
}

Result<std::vector<uint64_t>> ExpandPostings(Postings* p) {
  std::vector<uint64_t> out;
  while (p->Next()) out.push_back(p->At());
  Status s = p->err();
  if (!s.ok()) return s;
  return out;
}

}  // namespace kiln::tsdb::index
