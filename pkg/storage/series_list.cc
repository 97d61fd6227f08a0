#include "pkg/storage/series_list.h"

#include <algorithm>
#include <cstdlib>

namespace kiln::storage {

chunkenc::ValueType SampleVectorIterator::Next() {
  if (pos_ + 1 >= samples_->size()) {
    pos_ = samples_->size();
    return chunkenc::ValueType::kNone;
  }
  ++pos_;
  return chunkenc::ValueType::kFloat;
}

chunkenc::ValueType SampleVectorIterator::Seek(int64_t t) {
  if (pos_ == static_cast<size_t>(-1)) pos_ = 0;
  if (pos_ >= samples_->size()) return chunkenc::ValueType::kNone;
  if ((*samples_)[pos_].t >= t) return chunkenc::ValueType::kFloat;
  auto it = std::lower_bound(samples_->begin() + static_cast<std::ptrdiff_t>(pos_),
                             samples_->end(), t,
                             [](const model::Sample& s, int64_t ts) { return s.t < ts; });
  pos_ = static_cast<size_t>(it - samples_->begin());
  return pos_ < samples_->size() ? chunkenc::ValueType::kFloat : chunkenc::ValueType::kNone;
}

const Series& ErrorSeriesSet::At() const {
  // Contract violation: At() after Next() returned false.
  std::abort();
}

}  // namespace kiln::storage
