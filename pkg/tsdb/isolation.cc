#include "pkg/tsdb/isolation.h"

#include <algorithm>

namespace kiln::tsdb {

bool IsolationState::Visible(uint64_t append_id) const {
  if (append_id > max_append_id) return false;
  return !std::binary_search(incomplete.begin(), incomplete.end(), append_id);
}

uint64_t Isolation::BeginAppend(uint64_t* low_watermark) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t id = ++last_id_;
  open_appends_.push_back(id);
  *low_watermark = LowWatermarkLocked();
  return id;
}

void Isolation::EndAppend(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::lower_bound(open_appends_.begin(), open_appends_.end(), id);
  if (it != open_appends_.end() && *it == id) open_appends_.erase(it);
}

IsolationState Isolation::OpenRead() {
  std::lock_guard<std::mutex> lock(mu_);
  IsolationState s;
  s.max_append_id = last_id_;
  s.incomplete = open_appends_;
  // Everything below the oldest incomplete append (or everything handed out so far) is
  // visible to this reader, so tags below that must survive while it is open.
  s.low_watermark = open_appends_.empty() ? last_id_ + 1 : open_appends_.front();
  reader_lows_.insert(s.low_watermark);
  return s;
}

void Isolation::CloseRead(const IsolationState& state) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = reader_lows_.find(state.low_watermark);
  if (it != reader_lows_.end()) reader_lows_.erase(it);
}

uint64_t Isolation::LowWatermark() const {
  std::lock_guard<std::mutex> lock(mu_);
  return LowWatermarkLocked();
}

size_t Isolation::OpenAppends() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_appends_.size();
}

uint64_t Isolation::LowWatermarkLocked() const {
  uint64_t lw = last_id_ + 1;
  if (!open_appends_.empty()) lw = std::min(lw, open_appends_.front());
  if (!reader_lows_.empty()) lw = std::min(lw, *reader_lows_.begin());
  return lw;
}

}  // namespace kiln::tsdb
