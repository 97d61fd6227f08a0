#include "pkg/tsdb/wlog/segment_syncer.h"

#include <chrono>

namespace kiln::tsdb::wlog {

SegmentSyncer::SegmentSyncer(Metrics* metrics, Logger logger)
    : metrics_(metrics), logger_(std::move(logger)), thread_([this] { Run(); }) {}

SegmentSyncer::~SegmentSyncer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SegmentSyncer::Enqueue(std::unique_ptr<SegmentWriter> segment) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(segment));
  }
  cv_.notify_all();
}

Status SegmentSyncer::Wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
  Status s = err_;
  err_ = Status::OK();
  return s;
}

void SegmentSyncer::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    std::unique_ptr<SegmentWriter> seg = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    const auto start = std::chrono::steady_clock::now();
    Status s = seg->Sync();
    metrics_->fsync_duration.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (Status c = seg->Close(); s.ok()) s = c;
    if (!s.ok()) logger_.Error("sync previous segment", {{"err", s.ToString()}});
    lock.lock();
    if (!s.ok() && err_.ok()) err_ = s;
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace kiln::tsdb::wlog
