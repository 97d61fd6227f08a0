#include "pkg/tsdb/db.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "pkg/tsdb/block/block_writer.h"
#include "pkg/tsdb/block/merge.h"
#include "pkg/tsdb/block/ulid.h"
#include "pkg/tsdb/chunks/file_util.h"

namespace kiln::tsdb {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxBlockDurationCap = 31LL * 24 * 3600 * 1000;
constexpr auto kCompactionInterval = std::chrono::minutes(1);

// Upstream's defaults: ranges ×3 from the minimum, up to the maximum block duration.
std::vector<int64_t> BlockRanges(const DBOptions& o) {
  int64_t max = o.max_block_duration;
  if (max == 0) {
    max = o.retention_duration > 0 ? std::min(o.retention_duration / 10, kMaxBlockDurationCap)
                                   : kMaxBlockDurationCap;
    max = std::max(max, o.min_block_duration);
  }
  std::vector<int64_t> out;
  for (int64_t r : block::ExponentialBlockRanges(o.min_block_duration, 10, 3)) {
    if (r > max) break;
    out.push_back(r);
  }
  if (out.empty()) out.push_back(o.min_block_duration);
  return out;
}

// End of the aligned range of length `r` containing `t`.
int64_t RangeEnd(int64_t t, int64_t r) {
  const int64_t start = (t >= 0 ? t / r : -((-t + r - 1) / r)) * r;
  return start + r;
}

Result<model::Matcher> MatchAll() {
  return model::Matcher::Make(model::MatchType::kRegexMatch, model::kMetricName, ".*");
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2)) n += it->file_size(ec2);
  }
  return n;
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status HardLinkTree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return Status::IOError("create " + to.string() + ": " + ec.message());
  for (const auto& e : fs::directory_iterator(from, ec)) {
    const fs::path dst = to / e.path().filename();
    if (e.is_directory()) {
      KILN_RETURN_IF_ERROR(HardLinkTree(e.path(), dst));
    } else if (::link(e.path().c_str(), dst.c_str()) != 0) {
      return Status::FromErrno("link " + e.path().string(), errno);
    }
  }
  if (ec) return Status::IOError("list " + from.string() + ": " + ec.message());
  return Status::OK();
}

}  // namespace

// Wraps the head's appender to wake the compaction loop after a commit that makes the head
// compactable, as upstream's dbAppender does, so a busy head is not held for up to a minute.
class DB::CompactionTriggeringAppender final : public storage::Appender {
 public:
  CompactionTriggeringAppender(DB* db, std::unique_ptr<storage::Appender> app)
      : db_(db), app_(std::move(app)) {}

  Result<storage::SeriesRef> Append(storage::SeriesRef ref, const model::Labels& labels, int64_t t,
                                    double v) override {
    return app_->Append(ref, labels, t, v);
  }
  Status AppendCached(storage::SeriesSlot* slot, const model::Labels& labels, int64_t t,
                      double v) override {
    return app_->AppendCached(slot, labels, t, v);
  }
  Result<storage::SeriesRef> UpdateMetadata(storage::SeriesRef ref, const model::Labels& labels,
                                            const model::Metadata& meta) override {
    return app_->UpdateMetadata(ref, labels, meta);
  }
  Status Commit() override {
    KILN_RETURN_IF_ERROR(app_->Commit());
    if (db_->HeadCompactable()) db_->TriggerCompaction();
    return Status::OK();
  }
  Status Rollback() override { return app_->Rollback(); }

 private:
  DB* const db_;
  const std::unique_ptr<storage::Appender> app_;
};

bool DB::HeadCompactable() const {
  const int64_t hmin = head_->MinTime();
  const int64_t hmax = head_->MaxTime();
  // Upstream compacts once the head spans 1.5 block ranges, keeping half a range for late
  // samples.
  return hmax >= hmin && hmax - hmin > options_.min_block_duration / 2 * 3;
}

void DB::TriggerCompaction() {
  {
    std::lock_guard<std::mutex> l(loop_mu_);
    if (compaction_requested_) return;
    compaction_requested_ = true;
  }
  loop_cv_.notify_all();
}

Result<std::unique_ptr<DB>> DB::Open(const std::string& dir, DBOptions options) {
  if (!options.read_only) KILN_RETURN_IF_ERROR(chunks::MakeDirs(dir));
  std::unique_ptr<DB> db(new DB(dir, options, BlockRanges(options)));
  db->metrics_.clean_start.Set(-1);
  if (!options.read_only) {
    if (!options.no_lockfile) KILN_RETURN_IF_ERROR(db->Lock());
    KILN_RETURN_IF_ERROR(db->RemoveLeftovers());
  }
  {
    std::lock_guard<std::mutex> l(db->cmtx_);
    KILN_RETURN_IF_ERROR(db->ReloadLocked());
  }
  HeadOptions ho = options.head;
  ho.dir = dir;
  ho.read_only = options.read_only;
  ho.logger = options.logger;
  // WAL samples older than the newest block's end are in that block (upstream's
  // Head.Init(minValidTime)): the WAL is truncated lazily and a crash can come between
  // writing a block and truncating the head.
  for (const auto& b : db->Blocks()) {
    ho.min_valid_time = std::max(ho.min_valid_time, b->meta().max_time);
  }
  auto head = Head::Open(ho);
  if (!head.ok()) return head.status().Wrap("open head");
  db->head_ = std::move(head).value();
  db->metrics_.retention_limit_bytes.Set(static_cast<double>(options.max_bytes));
  db->metrics_.retention_limit_seconds.Set(static_cast<double>(options.retention_duration) /
                                           1000.0);
  db->UpdateGauges(db->Blocks());
  if (!options.read_only && options.background_compaction) {
    db->loop_ = std::thread([d = db.get()] { d->CompactionLoop(); });
  }
  return db;
}

DB::~DB() {
  Status s = Close();
  if (!s.ok()) options_.logger.Error("close DB", {{"err", s.ToString()}});
}

Status DB::Close() {
  {
    std::lock_guard<std::mutex> l(loop_mu_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  std::lock_guard<std::mutex> l(cmtx_);
  if (closed_) return Status::OK();
  closed_ = true;
  Status s = head_ ? head_->Close() : Status::OK();
  if (lock_fd_ >= 0) {
    // As upstream: remove the file while still holding the lock, then release it.
    const std::string path = dir_ + "/lock";
    if (::unlink(path.c_str()) != 0 && s.ok()) s = Status::FromErrno("remove " + path, errno);
    ::close(lock_fd_);  // releases the flock
    lock_fd_ = -1;
  }
  return s;
}

Status DB::Lock() {
  const std::string path = dir_ + "/lock";
  // Close removes the file, so finding one means the last run did not shut down cleanly.
  std::error_code ec;
  const bool replaced = fs::exists(path, ec);
  if (replaced) {
    options_.logger.Warn("A lockfile from a previous execution already existed. It was replaced",
                         {{"file", path}});
  }
  metrics_.clean_start.Set(replaced ? 0 : 1);
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) return Status::FromErrno("open " + path, errno);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    return Status::FromErrno("lock DB directory " + dir_, e);
  }
  return Status::OK();
}

Status DB::RemoveLeftovers() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (EndsWith(name, block::kTmpForCreationSuffix) ||
        EndsWith(name, block::kTmpForDeletionSuffix)) {
      options_.logger.Info("Found and deleted leftover tmp block dir", {{"dir", name}});
      fs::remove_all(e.path(), ec);
      if (ec) return Status::IOError("remove " + e.path().string() + ": " + ec.message());
    }
  }
  if (ec) return Status::IOError("list " + dir_ + ": " + ec.message());
  return Status::OK();
}

std::unique_ptr<storage::Appender> DB::NewAppender() {
  if (options_.read_only || !options_.background_compaction) return head_->NewAppender();
  return std::make_unique<CompactionTriggeringAppender>(this, head_->NewAppender());
}

Result<std::unique_ptr<storage::Querier>> DB::NewQuerier(int64_t mint, int64_t maxt) {
  std::vector<std::unique_ptr<storage::Querier>> qs;
  for (const auto& b : Blocks()) {
    const block::BlockMeta m = b->meta();
    if (!m.Overlaps(mint, maxt)) continue;
    KILN_ASSIGN_OR_RETURN(auto q, b->NewQuerier(mint, maxt));
    qs.push_back(std::move(q));
  }
  // The head may still hold data of the newest block until it is truncated; the merge
  // shows such samples once.
  if (maxt >= head_->MinTime() && head_->MaxTime() >= mint) {
    KILN_ASSIGN_OR_RETURN(auto q, head_->NewQuerier(mint, maxt));
    qs.push_back(std::move(q));
  }
  return std::unique_ptr<storage::Querier>(std::make_unique<block::MergeQuerier>(std::move(qs)));
}

std::vector<std::shared_ptr<block::Block>> DB::Blocks() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return blocks_;
}

void DB::CompactionLoop() {
  std::unique_lock<std::mutex> l(loop_mu_);
  for (;;) {
    loop_cv_.wait_for(l, kCompactionInterval,
                      [this] { return stopping_ || compaction_requested_; });
    if (stopping_) return;
    compaction_requested_ = false;
    l.unlock();
    if (Status s = Compact(); !s.ok()) {
      options_.logger.Error("compaction failed", {{"err", s.ToString()}});
    }
    l.lock();
  }
}

Status DB::Compact() {
  if (options_.read_only) return Status::Unavailable("compact: DB is read-only");
  std::lock_guard<std::mutex> l(cmtx_);
  if (closed_) return Status::Unavailable("compact: DB is closed");
  metrics_.compactions_triggered.Increment();
  Status st = CompactHead();
  if (st.ok()) st = CompactBlocks();
  if (st.ok()) st = ReloadLocked();
  UpdateGauges(Blocks());
  return st;
}

Status DB::CompactHead() {
  const int64_t range = options_.min_block_duration;
  KILN_ASSIGN_OR_RETURN(auto all, MatchAll());
  int64_t truncated_to = std::numeric_limits<int64_t>::min();
  for (;;) {
    if (!HeadCompactable()) {
      // One WAL checkpoint per cycle, after all the blocks, as upstream.
      if (truncated_to == std::numeric_limits<int64_t>::min()) return Status::OK();
      return head_->TruncateWal(truncated_to).Wrap("truncate WAL");
    }
    const int64_t hmin = head_->MinTime();
    const int64_t maxt = RangeEnd(hmin, range);
    const auto start = std::chrono::steady_clock::now();
    {
      KILN_ASSIGN_OR_RETURN(auto q, head_->NewQuerier(hmin, maxt - 1));
      auto set = q->Select(true, nullptr, {all});
      block::BlockWriteOptions wo;
      wo.chunk_range = range;
      auto meta = block::WriteBlock(dir_, set.get(), hmin, maxt, wo);
      if (!meta.ok()) {
        metrics_.compactions_failed.Increment();
        return meta.status().Wrap("persist head block");
      }
      metrics_.compactions.Increment();
      metrics_.compaction_duration.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      options_.logger.Info("write block", {{"mint", std::to_string(hmin)},
                                           {"maxt", std::to_string(maxt)},
                                           {"ulid", meta.value().ulid}});
    }  // the querier goes before Truncate, which waits for open ones
    // Queries see the block from now on; only then may the head forget the data.
    KILN_RETURN_IF_ERROR(ReloadLocked());
    KILN_RETURN_IF_ERROR(head_->TruncateMemory(maxt).Wrap("truncate head"));
    truncated_to = maxt;
  }
}

Status DB::CompactBlocks() {
  std::vector<std::string> last;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(auto plan, compactor_.Plan(dir_));
    if (plan.empty()) return Status::OK();
    if (plan == last) return Status::Internal("compaction made no progress on " + plan.front());
    const auto start = std::chrono::steady_clock::now();
    auto compacted = compactor_.Compact(dir_, plan);
    if (!compacted.ok()) {
      metrics_.compactions_failed.Increment();
      return compacted.status();
    }
    const block::BlockMeta meta = std::move(compacted).value();
    metrics_.compactions.Increment();
    metrics_.compaction_duration.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    options_.logger.Info("compact blocks",
                         {{"count", std::to_string(plan.size())}, {"ulid", meta.ulid}});
    if (meta.ulid.empty()) {
      // Nothing survived the tombstones: the sources simply go.
      for (const auto& d : plan) KILN_RETURN_IF_ERROR(DeleteBlockDir(d));
    }
    KILN_RETURN_IF_ERROR(ReloadLocked());
    last = std::move(plan);
  }
}

Status DB::Reload() {
  std::lock_guard<std::mutex> l(cmtx_);
  return ReloadLocked();
}

Status DB::ReloadLocked() {
  metrics_.reloads.Increment();
  auto metas_or = block::ReadBlockMetas(dir_);
  if (!metas_or.ok()) {
    metrics_.reloads_failed.Increment();
    return metas_or.status();
  }
  auto metas = std::move(metas_or).value();
  // Blocks merged into another one, or marked deletable, go (also after a crash that
  // happened between writing a compacted block and deleting its parents).
  std::set<std::string> deletable;
  for (const auto& m : metas) {
    for (const auto& p : m.meta.compaction.parents) deletable.insert(p.ulid);
    if (m.meta.compaction.deletable) deletable.insert(m.meta.ulid);
  }
  std::map<std::string, std::shared_ptr<block::Block>> existing;
  for (auto& b : Blocks()) existing[b->meta().ulid] = b;
  std::vector<std::shared_ptr<block::Block>> loaded;
  for (const auto& m : metas) {
    if (deletable.count(m.meta.ulid) != 0) continue;
    if (auto it = existing.find(m.meta.ulid); it != existing.end()) {
      loaded.push_back(it->second);
      continue;
    }
    auto b = block::Block::Open(m.dir);
    if (!b.ok()) {
      metrics_.reloads_failed.Increment();
      return b.status().Wrap("open block " + m.dir);
    }
    loaded.push_back(std::move(b).value());
  }
  std::vector<std::shared_ptr<block::Block>> kept;
  if (options_.read_only) {
    kept = std::move(loaded);
  } else {
    // Newest first: retention keeps a prefix.
    std::sort(loaded.begin(), loaded.end(),
              [](const auto& a, const auto& b) { return a->meta().max_time > b->meta().max_time; });
    uint64_t bytes = HeadBytes();
    for (size_t i = 0; i < loaded.size(); i++) {
      const block::BlockMeta m = loaded[i]->meta();
      bytes += loaded[i]->Size();
      const bool too_old = options_.retention_duration > 0 && i > 0 &&
                           loaded[0]->meta().max_time - m.max_time > options_.retention_duration;
      const bool too_big =
          options_.max_bytes > 0 && bytes > static_cast<uint64_t>(options_.max_bytes);
      if (too_old || too_big) {
        for (size_t j = i; j < loaded.size(); j++) deletable.insert(loaded[j]->meta().ulid);
        (too_old ? metrics_.time_retentions : metrics_.size_retentions).Increment();
        break;
      }
      kept.push_back(loaded[i]);
    }
  }
  std::sort(kept.begin(), kept.end(),
            [](const auto& a, const auto& b) { return a->meta().min_time < b->meta().min_time; });
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    blocks_ = kept;
  }
  UpdateGauges(kept);
  if (options_.read_only) return Status::OK();
  for (const auto& m : metas) {
    if (deletable.count(m.meta.ulid) != 0) KILN_RETURN_IF_ERROR(DeleteBlockDir(m.dir));
  }
  return Status::OK();
}

Status DB::DeleteBlockDir(const std::string& dir) {
  const std::string tmp = dir + block::kTmpForDeletionSuffix;
  if (std::rename(dir.c_str(), tmp.c_str()) != 0) {
    return Status::FromErrno("rename " + dir, errno);
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (ec) return Status::IOError("remove " + tmp + ": " + ec.message());
  return Status::OK();
}

void DB::UpdateGauges(const std::vector<std::shared_ptr<block::Block>>& blocks) {
  metrics_.blocks_loaded.Set(static_cast<double>(blocks.size()));
  uint64_t bytes = 0;
  for (const auto& b : blocks) bytes += b->Size();
  metrics_.blocks_bytes.Set(static_cast<double>(bytes));
  // Upstream: the first block's min time, else the head's.
  int64_t lowest = std::numeric_limits<int64_t>::max();
  if (!blocks.empty()) {
    lowest = blocks.front()->meta().min_time;
  } else if (head_ != nullptr) {
    lowest = head_->MinTime();
  }
  metrics_.lowest_timestamp.Set(static_cast<double>(lowest));
  metrics_.lowest_timestamp_seconds.Set(static_cast<double>(lowest / 1000));
}

uint64_t DB::HeadBytes() const { return DirBytes(dir_ + "/wal") + DirBytes(dir_ + "/chunks_head"); }

Status DB::Delete(int64_t mint, int64_t maxt, const std::vector<model::Matcher>& matchers) {
  std::lock_guard<std::mutex> l(cmtx_);
  for (const auto& b : Blocks()) {
    if (b->meta().Overlaps(mint, maxt)) KILN_RETURN_IF_ERROR(b->Delete(mint, maxt, matchers));
  }
  if (!head_ || options_.read_only) return Status::OK();
  return head_->Delete(mint, maxt, matchers).Wrap("delete from head");
}

Status DB::CleanTombstones() {
  std::lock_guard<std::mutex> l(cmtx_);
  const auto start = std::chrono::steady_clock::now();
  Status st = CleanTombstonesLocked();
  metrics_.tombstone_cleanup.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return st;
}

Status DB::CleanTombstonesLocked() {
  for (const auto& b : Blocks()) {
    if (b->tombstones()->empty()) continue;
    KILN_ASSIGN_OR_RETURN(auto meta, compactor_.Compact(dir_, {b->dir()}));
    if (meta.ulid.empty()) KILN_RETURN_IF_ERROR(DeleteBlockDir(b->dir()));
  }
  return ReloadLocked();
}

Status DB::Snapshot(const std::string& dir, bool with_head) {
  std::lock_guard<std::mutex> l(cmtx_);
  KILN_RETURN_IF_ERROR(chunks::MakeDirs(dir));
  for (const auto& b : Blocks()) {
    KILN_RETURN_IF_ERROR(HardLinkTree(b->dir(), fs::path(dir) / b->meta().ulid));
  }
  if (!with_head) return Status::OK();
  const int64_t hmin = head_->MinTime();
  const int64_t hmax = head_->MaxTime();
  if (hmax < hmin) return Status::OK();
  KILN_ASSIGN_OR_RETURN(auto all, MatchAll());
  KILN_ASSIGN_OR_RETURN(auto q, head_->NewQuerier(hmin, hmax));
  auto set = q->Select(true, nullptr, {all});
  block::BlockWriteOptions wo;
  wo.chunk_range = options_.min_block_duration;
  return block::WriteBlock(dir, set.get(), hmin, hmax + 1, wo).status();
}

}  // namespace kiln::tsdb
