// Checkpoints: a compacted copy of the WAL's first segments (upstream tsdb/wlog/checkpoint.go).
//
// Checkpoint(wl, from, to, keep, mint) reads the last checkpoint (if any) and segments
// from..to, keeps series records for which keep(ref) holds, samples / exemplars with
// t >= mint (float and histogram samples alike), tombstones with an interval ending at or after
// mint, and the latest metadata of each kept series, and writes them as a WAL in <wal
// dir>/checkpoint.<to, 8 digits>. It is built in a ".tmp" directory, fsynced and renamed, so a
// crash leaves either the old state or the complete checkpoint. The caller then truncates the WAL
// below to+1 and deletes older checkpoints.
//
// Thread-safety: the functions are thread-safe as long as no two checkpoints of the same
// WAL run at once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "pkg/tsdb/record/record.h"
#include "pkg/tsdb/wlog/wlog.h"
#include "pkg/util/logger.h"
#include "pkg/util/result.h"

namespace kiln::tsdb::wlog {

struct CheckpointStats {
  int dropped_series = 0;
  int dropped_samples = 0;
  int dropped_tombstones = 0;
  int dropped_exemplars = 0;
  int dropped_metadata = 0;
  int total_series = 0;
  int total_samples = 0;
  int total_tombstones = 0;
  int total_exemplars = 0;
  int total_metadata = 0;
};

struct CheckpointRef {
  std::string dir;  // full path of the checkpoint directory
  int index = -1;   // the last WAL segment it covers
};

// <wal_dir>/checkpoint.<index as 8 digits>.
std::string CheckpointDir(const std::string& wal_dir, int index);
// The checkpoint with the highest index; kNotFound when there is none.
Result<CheckpointRef> LastCheckpoint(const std::string& wal_dir);
// Deletes every checkpoint with an index below `max_index`.
Status DeleteCheckpoints(const std::string& wal_dir, int max_index);

// kCorruption when a segment in the range is damaged (a checkpoint is never built from a
// repaired guess); kBadData when `from` leaves a gap after the last checkpoint.
Result<CheckpointStats> Checkpoint(const Logger& logger, WL* wl, int from, int to,
                                   const std::function<bool(record::HeadSeriesRef)>& keep,
                                   int64_t mint);

}  // namespace kiln::tsdb::wlog
