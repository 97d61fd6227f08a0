#include "promql/query_gate.h"

namespace kiln::promql {

std::optional<QueryGate::Slot> QueryGate::Acquire(Clock::time_point deadline) {
  std::unique_lock<std::mutex> l(mu_);
  if (max_ <= 0) {
    ++active_;
    return Slot(this);
  }
  // Fast path: a free slot and nobody queued ahead.
  if (queue_.empty() && active_ < max_) {
    ++active_;
    return Slot(this);
  }
  const uint64_t ticket = next_ticket_++;
  auto me = queue_.insert(queue_.end(), ticket);
  const bool got =
      cv_.wait_until(l, deadline, [&] { return queue_.front() == ticket && active_ < max_; });
  queue_.erase(me);
  if (!got) {
    // Leaving the queue may put a waiter that can run at its front.
    cv_.notify_all();
    return std::nullopt;
  }
  ++active_;
  // The next in line may also fit when more than one slot is free.
  cv_.notify_all();
  return Slot(this);
}

void QueryGate::Release() {
  {
    std::lock_guard<std::mutex> l(mu_);
    --active_;
  }
  cv_.notify_all();
}

int QueryGate::active() const {
  std::lock_guard<std::mutex> l(mu_);
  return active_;
}

int QueryGate::waiting() const {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int>(queue_.size());
}

}  // namespace kiln::promql
