#include "pkg/tsdb/series_reclaimer.h"

#include <algorithm>
#include <limits>

namespace kiln::tsdb {

uint64_t SeriesReclaimer::Enter(Kind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  (kind == Kind::kReader ? readers_ : writers_).insert(epoch_);
  return epoch_;
}

void SeriesReclaimer::Exit(Kind kind, uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& users = kind == Kind::kReader ? readers_ : writers_;
  auto it = users.find(epoch);
  if (it != users.end()) users.erase(it);
  if (kind == Kind::kReader) readers_cv_.notify_all();
  FreeLocked();
}

void SeriesReclaimer::Retire(std::vector<std::unique_ptr<MemSeries>> series) {
  std::lock_guard<std::mutex> lock(mu_);
  // Users registered so far have epochs <= epoch_ and may hold these series; users entering
  // after the increment cannot find them any more.
  for (auto& s : series) retired_.push_back({epoch_, std::move(s)});
  ++epoch_;
  FreeLocked();
}

void SeriesReclaimer::WaitForCurrentReaders() {
  std::unique_lock<std::mutex> lock(mu_);
  // Readers registering from now on get a later epoch than everyone waited for.
  const uint64_t epoch = ++epoch_;
  readers_cv_.wait(lock, [&] { return readers_.empty() || *readers_.begin() >= epoch; });
}

size_t SeriesReclaimer::PendingFrees() const {
  std::lock_guard<std::mutex> lock(mu_);
  return retired_.size();
}

void SeriesReclaimer::FreeLocked() {
  uint64_t oldest = std::numeric_limits<uint64_t>::max();
  if (!readers_.empty()) oldest = std::min(oldest, *readers_.begin());
  if (!writers_.empty()) oldest = std::min(oldest, *writers_.begin());
  size_t n = 0;
  while (n < retired_.size() && retired_[n].epoch < oldest) ++n;
  if (n > 0) retired_.erase(retired_.begin(), retired_.begin() + static_cast<std::ptrdiff_t>(n));
}

}  // namespace kiln::tsdb
