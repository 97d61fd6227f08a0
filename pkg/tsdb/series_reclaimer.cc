#include "pkg/tsdb/series_reclaimer.h"

#include <algorithm>
#include <limits>

namespace kiln::tsdb {

uint64_t SeriesReclaimer::Enter(Kind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  Users& users = kind == Kind::kReader ? readers_ : writers_;
  if (!users.empty() && users.back().first == epoch_) {
    ++users.back().second;
  } else {
    users.push_back({epoch_, 1});
  }
  return epoch_;
}

void SeriesReclaimer::Exit(Kind kind, uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  Users& users = kind == Kind::kReader ? readers_ : writers_;
  auto it = std::lower_bound(users.begin(), users.end(), std::make_pair(epoch, size_t{0}));
  if (it != users.end() && it->first == epoch && it->second > 0) --it->second;
  size_t done = 0;
  while (done < users.size() && users[done].second == 0) ++done;
  if (done > 0) users.erase(users.begin(), users.begin() + static_cast<std::ptrdiff_t>(done));
  if (kind == Kind::kReader) readers_cv_.notify_all();
  FreeLocked();
}

uint64_t SeriesReclaimer::Oldest(const Users& users) {
  return users.empty() ? std::numeric_limits<uint64_t>::max() : users.front().first;
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
  readers_cv_.wait(lock, [&] { return Oldest(readers_) >= epoch; });
}

size_t SeriesReclaimer::PendingFrees() const {
  std::lock_guard<std::mutex> lock(mu_);
  return retired_.size();
}

void SeriesReclaimer::FreeLocked() {
  const uint64_t oldest = std::min(Oldest(readers_), Oldest(writers_));
  size_t n = 0;
  while (n < retired_.size() && retired_[n].epoch < oldest) ++n;
  if (n > 0) retired_.erase(retired_.begin(), retired_.begin() + static_cast<std::ptrdiff_t>(n));
}

}  // namespace kiln::tsdb
