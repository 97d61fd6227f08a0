// SpinLock: a one-byte mutex for per-series locking.
//
// The head holds one lock per series, and millions of series live in memory, so the 40 bytes
// of a std::mutex would dominate a small series. Critical sections are a few hundred
// nanoseconds (appending a sample, copying a chunk), so a short spin followed by a futex
// wait (C++20 atomic wait) is enough. Satisfies Lockable (usable with std::lock_guard).
// Thread-safe.
#pragma once

#include <atomic>

namespace kiln::tsdb {

class SpinLock {
 public:
  SpinLock() = default;
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  void lock() {
    for (int spins = 0; locked_.exchange(true, std::memory_order_acquire); ++spins) {
      if (spins >= kSpinsBeforeWait) locked_.wait(true, std::memory_order_relaxed);
    }
  }
  bool try_lock() { return !locked_.exchange(true, std::memory_order_acquire); }
  void unlock() {
    locked_.store(false, std::memory_order_release);
    locked_.notify_one();
  }

 private:
  static constexpr int kSpinsBeforeWait = 64;
  std::atomic<bool> locked_{false};
};

}  // namespace kiln::tsdb
