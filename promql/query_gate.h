// QueryGate: at most N queries evaluate at once (--query.max-concurrency). Excess queries
// wait in arrival order until a slot frees or their deadline passes, as queries wait in
// Prometheus's active query tracker; the wait counts against the query's timeout.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>

namespace kiln::promql {

class QueryGate {
 public:
  using Clock = std::chrono::steady_clock;

  // A held slot; released when destroyed.
  class Slot {
   public:
    Slot(Slot&& o) noexcept : gate_(o.gate_) { o.gate_ = nullptr; }
    Slot& operator=(Slot&& o) noexcept {
      if (this != &o) {
        if (gate_ != nullptr) gate_->Release();
        gate_ = o.gate_;
        o.gate_ = nullptr;
      }
      return *this;
    }
    Slot(const Slot&) = delete;
    ~Slot() {
      if (gate_ != nullptr) gate_->Release();
    }

   private:
    friend class QueryGate;
    explicit Slot(QueryGate* gate) : gate_(gate) {}
    QueryGate* gate_;
  };

  // `max_concurrent` <= 0 means no limit.
  explicit QueryGate(int max_concurrent) : max_(max_concurrent) {}
  QueryGate(const QueryGate&) = delete;
  QueryGate& operator=(const QueryGate&) = delete;

  // Waits for a slot until `deadline`; nullopt when the deadline passed first.
  std::optional<Slot> Acquire(Clock::time_point deadline);

  int max_concurrent() const { return max_; }
  // Queries holding a slot / waiting for one, for metrics and tests.
  int active() const;
  int waiting() const;

 private:
  void Release();

  const int max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int active_ = 0;             // guarded by mu_
  std::list<uint64_t> queue_;  // tickets of waiting queries, oldest first; guarded by mu_
  uint64_t next_ticket_ = 0;   // guarded by mu_
};

}  // namespace kiln::promql
