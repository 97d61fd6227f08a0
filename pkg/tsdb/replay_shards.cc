#include "pkg/tsdb/replay_shards.h"

#include <algorithm>

namespace kiln::tsdb {

ReplayShards::ReplayShards(size_t n, const ChunkOptions& opts) : opts_(opts) {
  n = std::max<size_t>(n, 1);
  for (size_t i = 0; i < n; ++i) {
    shards_.push_back(std::make_unique<Shard>());
    Shard* s = shards_.back().get();
    s->thread = std::thread([this, s] { Run(s); });
  }
}

ReplayShards::~ReplayShards() {
  if (!finished_) Finish();
}

void ReplayShards::Add(MemSeries* s, int64_t t, double v) {
  shards_[s->ref() % shards_.size()]->pending.push_back({s, t, v});
}

void ReplayShards::Flush() {
  for (auto& shard : shards_) {
    if (shard->pending.empty()) continue;
    std::unique_lock<std::mutex> lock(shard->mu);
    shard->cv.wait(lock, [&] { return shard->queue.size() < kMaxQueued; });
    shard->queue.push_back(std::move(shard->pending));
    shard->pending = {};
    shard->cv.notify_all();
  }
}

ReplayShards::Totals ReplayShards::Finish() {
  Flush();
  Totals all;
  for (auto& shard : shards_) {
    {
      std::lock_guard<std::mutex> lock(shard->mu);
      shard->done = true;
      shard->cv.notify_all();
    }
    shard->thread.join();
    all.mint = std::min(all.mint, shard->totals.mint);
    all.maxt = std::max(all.maxt, shard->totals.maxt);
    all.samples += shard->totals.samples;
    all.chunks += shard->totals.chunks;
  }
  finished_ = true;
  return all;
}

void ReplayShards::Run(Shard* shard) {
  Totals& tot = shard->totals;
  for (;;) {
    std::vector<Sample> batch;
    {
      std::unique_lock<std::mutex> lock(shard->mu);
      shard->cv.wait(lock, [&] { return shard->done || !shard->queue.empty(); });
      if (shard->queue.empty()) return;  // done and drained
      batch = std::move(shard->queue.front());
      shard->queue.pop_front();
      shard->cv.notify_all();
    }
    for (const Sample& smp : batch) {
      std::lock_guard<SpinLock> lock(smp.series->mutex());
      bool created = false;
      if (smp.series->Append(smp.t, smp.v, 0, opts_, &created)) {
        ++tot.samples;
        tot.mint = std::min(tot.mint, smp.t);
        tot.maxt = std::max(tot.maxt, smp.t);
      }
      tot.chunks += created ? 1 : 0;
    }
  }
}

}  // namespace kiln::tsdb
