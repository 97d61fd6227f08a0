// WalReplayer: rebuilds a Head from its WAL on start (upstream Head.Init / loadWAL).
//
// Reads the last checkpoint, then every segment after it, in order. Series records create
// series with their WAL refs (a second record for the same labels maps its ref to the first
// series, as upstream's multiRef does); samples go to their series, skipping unknown refs,
// samples below the head's min valid time and samples that are not appendable; metadata
// replaces the series' metadata; tombstones mark deleted intervals. Other record types are
// skipped. Samples are applied without isolation tags (nothing reads the head
// yet) by ReplayShards workers, while this thread decodes.
//
// A damaged segment is repaired through WL::Repair (everything before the damage is kept)
// and logged; a damaged checkpoint fails the replay, as it cannot be repaired.
//
// Not thread-safe; used once, by Head::Open, before the head is shared.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "pkg/tsdb/head.h"
#include "pkg/tsdb/record/record.h"
#include "pkg/tsdb/replay_shards.h"
#include "pkg/tsdb/wlog/reader.h"

namespace kiln::tsdb {

class WalReplayer {
 public:
  explicit WalReplayer(Head* head);
  ~WalReplayer();

  // Replays the WAL in `wal_dir` into the head.
  Status Run(const std::string& wal_dir);

 private:
  Status Replay(const std::string& wal_dir);
  // Reads every record of `reader`; the reader's error is left for the caller.
  Status ReadAll(wlog::Reader* reader);
  Status Apply(std::string_view rec);
  void ApplySeries();
  void ApplySamples();
  void ApplyMetadata();
  void ApplyTombstones();
  MemSeries* Lookup(record::HeadSeriesRef ref) const;

  Head* const head_;
  std::unordered_map<record::HeadSeriesRef, MemSeries*> multi_ref_;  // duplicate series refs
  // Series by ref for refs below kDenseRefs: replay looks a series up for every sample, and
  // head refs are dense, so an array beats the locked registry several times over.
  static constexpr record::HeadSeriesRef kDenseRefs = 1 << 24;
  std::vector<MemSeries*> dense_;
  std::vector<record::RefSeries> series_;
  std::vector<record::RefSample> samples_;
  std::vector<record::RefMetadata> metadata_;
  std::vector<record::RefTombstone> tombstones_;
  std::unique_ptr<ReplayShards> shards_;  // set while Run is replaying
  uint64_t unknown_refs_ = 0;
};

}  // namespace kiln::tsdb
