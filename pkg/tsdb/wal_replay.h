// WalReplayer: rebuilds a Head from its WAL on start (upstream Head.Init / loadWAL).
//
// Reads the last checkpoint, then every segment after it, in order. Series records create
// series with their WAL refs (a second record for the same labels maps its ref to the first
// series, as upstream's multiRef does); samples go to their series, skipping unknown refs and
// samples that are not appendable; metadata replaces the series' metadata. Other record
// types are skipped. Samples are applied without isolation tags: nothing reads the head yet.
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
#include "pkg/tsdb/wlog/reader.h"

namespace kiln::tsdb {

class WalReplayer {
 public:
  explicit WalReplayer(Head* head) : head_(head) {}

  // Replays the WAL in `wal_dir` into the head.
  Status Run(const std::string& wal_dir);

 private:
  // Reads every record of `reader`; the reader's error is left for the caller.
  Status ReadAll(wlog::Reader* reader);
  Status Apply(std::string_view rec);
  void ApplySeries();
  void ApplySamples();
  void ApplyMetadata();
  MemSeries* Lookup(record::HeadSeriesRef ref) const;

  Head* const head_;
  std::unordered_map<record::HeadSeriesRef, MemSeries*> multi_ref_;  // duplicate series refs
  std::vector<record::RefSeries> series_;
  std::vector<record::RefSample> samples_;
  std::vector<record::RefMetadata> metadata_;
  int64_t mint_ = std::numeric_limits<int64_t>::max();
  int64_t maxt_ = std::numeric_limits<int64_t>::min();
  uint64_t unknown_refs_ = 0;
  uint64_t samples_applied_ = 0;
  uint64_t chunks_ = 0;
};

}  // namespace kiln::tsdb
