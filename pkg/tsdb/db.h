// DB: the whole local TSDB of a data directory: persisted blocks plus the head (with its
// WAL), as upstream's tsdb.DB.
//
// Open takes the directory lock (<dir>/lock, flock), removes leftover *.tmp-for-creation and
// *.tmp-for-deletion directories of interrupted writes and deletions, loads every block,
// and opens the head (replaying the WAL). A background thread then runs Compact every
// minute, and at once after a commit that leaves the head compactable: the head is written to a
// block of min_block_duration once it spans 1.5× that and then truncated at the block's end
// (memory, series and WAL, see Head::Truncate), blocks are merged level by level
// (LeveledCompactor), and blocks past the time or size retention are deleted whole. On open, WAL
// samples below the newest block's end are not replayed (they were compacted before a crash or
// before the WAL was truncated).
//
// Thread-safe. Appenders and queriers may be used concurrently with compaction; blocks a
// querier uses stay readable until it is destroyed, even when compaction deletes them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "pkg/model/matcher.h"
#include "pkg/storage/appender.h"
#include "pkg/storage/querier.h"
#include "pkg/tsdb/block/block.h"
#include "pkg/tsdb/block/compactor.h"
#include "pkg/tsdb/db_metrics.h"
#include "pkg/tsdb/head.h"
#include "pkg/util/logger.h"

namespace kiln::tsdb {

struct DBOptions {
  // Head settings; its dir is set to the DB directory by Open. Its registry receives the
  // DB's metrics too.
  HeadOptions head;
  // --storage.tsdb.retention.time in ms; 0 disables time retention.
  int64_t retention_duration = 15LL * 24 * 3600 * 1000;
  // --storage.tsdb.retention.size in bytes (blocks, WAL and head chunks); 0 disables.
  int64_t max_bytes = 0;
  // --storage.tsdb.min-block-duration / max-block-duration (ms). max 0 means upstream's
  // default: 10% of the retention time, at most 31 days.
  int64_t min_block_duration = 2LL * 3600 * 1000;
  int64_t max_block_duration = 0;
  // --storage.tsdb.no-lockfile.
  bool no_lockfile = false;
  // Read-only (kilntool): no lock, no cleanup, no compaction, the head replays without
  // writing.
  bool read_only = false;
  // Runs Compact every minute in a background thread.
  bool background_compaction = true;
  Logger logger;
};

class DB final : public storage::Appendable, public storage::Queryable {
 public:
  static Result<std::unique_ptr<DB>> Open(const std::string& dir, DBOptions options);
  ~DB() override;
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;

  // Appends go to the head.
  std::unique_ptr<storage::Appender> NewAppender() override;
  // Merges the blocks and the head overlapping [mint, maxt].
  Result<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint, int64_t maxt) override;

  // One compaction cycle (see the class comment) followed by a reload applying retention.
  // REQUIRES: not read-only.
  Status Compact();
  // Re-reads the block directory: opens new blocks, deletes blocks that are parents of
  // others, marked deletable, or beyond retention.
  Status Reload();

  // Tombstones samples of series matching `matchers` in [mint, maxt] in every block and in
  // the head (logged to the WAL; head compaction leaves them out).
  Status Delete(int64_t mint, int64_t maxt, const std::vector<model::Matcher>& matchers);
  // Rewrites every block that has tombstones without the deleted samples.
  Status CleanTombstones();
  // Hard-links every block into `dir`; with `with_head`, also writes the head's data there
  // as a block.
  Status Snapshot(const std::string& dir, bool with_head);

  std::vector<std::shared_ptr<block::Block>> Blocks() const;
  Head* head() const { return head_.get(); }
  const std::string& dir() const { return dir_; }
  const std::vector<int64_t>& block_ranges() const { return compactor_.ranges(); }

  // Stops the compaction loop and closes the head. Idempotent.
  Status Close();

 private:
  DB(std::string dir, DBOptions options, std::vector<int64_t> ranges)
      : dir_(std::move(dir)),
        options_(std::move(options)),
        compactor_(std::move(ranges)),
        metrics_(options_.head.registry) {}

  Status Lock();
  Status RemoveLeftovers();
  Status CompactHead();
  Status CompactBlocks();
  Status ReloadLocked();
  Status CleanTombstonesLocked();
  // Removes a block directory crash-safely: rename to *.tmp-for-deletion, then delete.
  Status DeleteBlockDir(const std::string& dir);
  uint64_t HeadBytes() const;
  // Sets the gauges that follow the block list and the head's bounds.
  void UpdateGauges(const std::vector<std::shared_ptr<block::Block>>& blocks);
  void CompactionLoop();
  class CompactionTriggeringAppender;
  // Whether the head spans enough to write a block (upstream Head.compactable).
  bool HeadCompactable() const;
  // Wakes the compaction loop.
  void TriggerCompaction();

  const std::string dir_;
  const DBOptions options_;
  const block::LeveledCompactor compactor_;
  int lock_fd_ = -1;
  DBMetrics metrics_;
  std::unique_ptr<Head> head_;

  // Serialises Compact, Reload, Delete, CleanTombstones and Snapshot.
  std::mutex cmtx_;
  mutable std::shared_mutex mu_;
  std::vector<std::shared_ptr<block::Block>> blocks_;  // guarded by mu_; sorted by min time

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;              // guarded by loop_mu_
  bool compaction_requested_ = false;  // guarded by loop_mu_
  std::thread loop_;
  bool closed_ = false;  // guarded by cmtx_
};

}  // namespace kiln::tsdb
