#include "pkg/tsdb/wlog/checkpoint.h"

#include <dirent.h>

#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>

#include "pkg/tsdb/wlog/reader.h"
#include "pkg/tsdb/wlog/segment.h"

namespace kiln::tsdb::wlog {
namespace {

constexpr std::string_view kCheckpointPrefix = "checkpoint.";
// Batches of kept records are written in about this many bytes, as upstream does.
constexpr size_t kFlushBytes = 1 << 20;

struct CheckpointEntry {
  std::string name;
  int index;
};

// Checkpoint directories of `wal_dir` by ascending index; "checkpoint.N.tmp" is skipped.
Result<std::vector<CheckpointEntry>> ListCheckpoints(const std::string& wal_dir) {
  std::error_code ec;
  std::vector<CheckpointEntry> out;
  for (const auto& e : std::filesystem::directory_iterator(wal_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with(kCheckpointPrefix) || !e.is_directory()) continue;
    const std::string digits = name.substr(kCheckpointPrefix.size());
    if (digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    out.push_back({name, std::stoi(digits)});
  }
  if (ec) return Status::IOError("list checkpoints in " + wal_dir + ": " + ec.message());
  std::sort(out.begin(), out.end(),
            [](const CheckpointEntry& a, const CheckpointEntry& b) { return a.index < b.index; });
  return out;
}

// Filters one WAL record into `buf`; returns false for records that keep nothing.
class Filter {
 public:
  Filter(const std::function<bool(record::HeadSeriesRef)>& keep, int64_t mint,
         CheckpointStats* stats)
      : keep_(keep), mint_(mint), stats_(stats) {}

  Status Apply(std::string_view rec, std::string* buf);
  // The newest metadata of every kept series, as one record (empty when there is none).
  std::string MetadataRecord() const;

 private:
  const std::function<bool(record::HeadSeriesRef)>& keep_;
  const int64_t mint_;
  CheckpointStats* stats_;
  std::map<record::HeadSeriesRef, record::RefMetadata> latest_metadata_;
};

template <typename T, typename Pred>
std::vector<T> KeepIf(std::vector<T> in, Pred pred) {
  std::erase_if(in, [&](const T& x) { return !pred(x); });
  return in;
}

Status Filter::Apply(std::string_view rec, std::string* buf) {
  using namespace record;
  switch (GetType(rec)) {
    case Type::kSeries: {
      std::vector<RefSeries> in;
      KILN_RETURN_IF_ERROR(DecodeSeries(rec, &in));
      const size_t total = in.size();
      auto out = KeepIf(std::move(in), [&](const RefSeries& s) { return keep_(s.ref); });
      stats_->total_series += total;
      stats_->dropped_series += total - out.size();
      if (!out.empty()) EncodeSeries(out, buf);
      return Status::OK();
    }
    case Type::kSamples: {
      std::vector<RefSample> in;
      KILN_RETURN_IF_ERROR(DecodeSamples(rec, &in));
      const size_t total = in.size();
      auto out = KeepIf(std::move(in), [&](const RefSample& s) { return s.t >= mint_; });
      stats_->total_samples += total;
      stats_->dropped_samples += total - out.size();
      if (!out.empty()) EncodeSamples(out, buf);
      return Status::OK();
    }
    case Type::kHistogramSamples:
    case Type::kCustomBucketsHistogramSamples: {
      std::vector<RefHistogramSample> in;
      KILN_RETURN_IF_ERROR(DecodeHistogramSamples(rec, &in));
      const size_t total = in.size();
      auto out = KeepIf(std::move(in), [&](const RefHistogramSample& s) { return s.t >= mint_; });
      stats_->total_samples += total;
      stats_->dropped_samples += total - out.size();
      if (!out.empty()) EncodeHistogramSamples(out, GetType(rec), buf);
      return Status::OK();
    }
    case Type::kFloatHistogramSamples:
    case Type::kCustomBucketsFloatHistogramSamples: {
      std::vector<RefFloatHistogramSample> in;
      KILN_RETURN_IF_ERROR(DecodeFloatHistogramSamples(rec, &in));
      const size_t total = in.size();
      auto out =
          KeepIf(std::move(in), [&](const RefFloatHistogramSample& s) { return s.t >= mint_; });
      stats_->total_samples += total;
      stats_->dropped_samples += total - out.size();
      if (!out.empty()) EncodeFloatHistogramSamples(out, GetType(rec), buf);
      return Status::OK();
    }
    case Type::kTombstones: {
      std::vector<RefTombstone> in;
      KILN_RETURN_IF_ERROR(DecodeTombstones(rec, &in));
      const size_t total = in.size();
      auto out = KeepIf(std::move(in), [&](const RefTombstone& t) {
        for (const auto& iv : t.intervals) {
          if (iv.maxt >= mint_) return true;
        }
        return false;
      });
      stats_->total_tombstones += total;
      stats_->dropped_tombstones += total - out.size();
      if (!out.empty()) EncodeTombstones(out, buf);
      return Status::OK();
    }
    case Type::kExemplars: {
      std::vector<RefExemplar> in;
      KILN_RETURN_IF_ERROR(DecodeExemplars(rec, &in));
      const size_t total = in.size();
      auto out = KeepIf(std::move(in), [&](const RefExemplar& e) { return e.t >= mint_; });
      stats_->total_exemplars += total;
      stats_->dropped_exemplars += total - out.size();
      if (!out.empty()) EncodeExemplars(out, buf);
      return Status::OK();
    }
    case Type::kMetadata: {
      std::vector<RefMetadata> in;
      KILN_RETURN_IF_ERROR(DecodeMetadata(rec, &in));
      stats_->total_metadata += in.size();
      for (auto& m : in) {
        if (!keep_(m.ref)) {
          stats_->dropped_metadata++;
          continue;
        }
        // Only the newest metadata per series survives; older ones count as dropped.
        if (!latest_metadata_.emplace(m.ref, m).second) {
          stats_->dropped_metadata++;
          latest_metadata_[m.ref] = std::move(m);
        }
      }
      return Status::OK();
    }
    default:
      // Mmap markers (OOO WBL only) and unknown types from newer versions are not carried
      // over, as upstream does.
      return Status::OK();
  }
}

std::string Filter::MetadataRecord() const {
  std::string rec;
  if (latest_metadata_.empty()) return rec;
  std::vector<record::RefMetadata> all;
  for (const auto& [ref, m] : latest_metadata_) all.push_back(m);
  record::EncodeMetadata(all, &rec);
  return rec;
}

// Copies the kept records of `reader` into the checkpoint log `cp`.
Status CopyRecords(Reader* reader, Filter* filter, WL* cp) {
  std::string buf;
  std::vector<size_t> ends;  // end offset in buf of each batched record
  auto flush = [&]() -> Status {
    std::vector<std::string_view> recs;
    size_t begin = 0;
    for (size_t end : ends) {
      recs.push_back(std::string_view(buf).substr(begin, end - begin));
      begin = end;
    }
    Status s = recs.empty() ? Status::OK() : cp->Log(recs);
    buf.clear();
    ends.clear();
    return s;
  };
  while (reader->Next()) {
    const size_t start = buf.size();
    KILN_RETURN_IF_ERROR(filter->Apply(reader->Record(), &buf).Wrap("decode WAL record"));
    if (buf.size() == start) continue;
    ends.push_back(buf.size());
    if (buf.size() > kFlushBytes) KILN_RETURN_IF_ERROR(flush());
  }
  // Corruption cannot be repaired here: the head would not know which series were lost.
  KILN_RETURN_IF_ERROR(reader->err().Wrap("read segments"));
  return flush();
}

}  // namespace

std::string CheckpointDir(const std::string& wal_dir, int index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "checkpoint.%08d", index);
  return wal_dir + "/" + buf;
}

Result<CheckpointRef> LastCheckpoint(const std::string& wal_dir) {
  KILN_ASSIGN_OR_RETURN(auto cps, ListCheckpoints(wal_dir));
  if (cps.empty()) return Status::NotFound("no checkpoint in " + wal_dir);
  return CheckpointRef{wal_dir + "/" + cps.back().name, cps.back().index};
}

Status DeleteCheckpoints(const std::string& wal_dir, int max_index) {
  KILN_ASSIGN_OR_RETURN(auto cps, ListCheckpoints(wal_dir));
  for (const auto& cp : cps) {
    if (cp.index >= max_index) break;
    std::error_code ec;
    std::filesystem::remove_all(wal_dir + "/" + cp.name, ec);
    if (ec) return Status::IOError("delete checkpoint " + cp.name + ": " + ec.message());
  }
  return Status::OK();
}

Result<CheckpointStats> Checkpoint(const Logger& logger, WL* wl, int from, int to,
                                   const std::function<bool(record::HeadSeriesRef)>& keep,
                                   int64_t mint) {
  logger.Info("Creating checkpoint", {{"from_segment", std::to_string(from)},
                                      {"to_segment", std::to_string(to)},
                                      {"mint", std::to_string(mint)}});
  std::vector<SegmentRange> ranges;
  auto last = LastCheckpoint(wl->dir());
  if (last.ok()) {
    if (from > last->index + 1) {
      return Status::BadData("unexpected gap to last checkpoint: expected " +
                             std::to_string(last->index + 1) + ", requested " +
                             std::to_string(from));
    }
    // Segments below the checkpoint should not exist; never read them twice.
    from = last->index + 1;
    ranges.push_back({last->dir, -1, -1});
  } else if (!last.status().Is(StatusCode::kNotFound)) {
    return last.status().Wrap("find last checkpoint");
  }
  ranges.push_back({wl->dir(), from, to});
  KILN_ASSIGN_OR_RETURN(auto reader, Reader::Open(ranges));

  const std::string dir = CheckpointDir(wl->dir(), to);
  const std::string tmp = dir + ".tmp";
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  if (ec) return Status::IOError("remove stale " + tmp + ": " + ec.message());

  CheckpointStats stats;
  Status s = [&]() -> Status {
    Options options;
    options.compress = wl->compression_enabled();
    KILN_ASSIGN_OR_RETURN(auto cp, WL::Open(tmp, options, logger));
    Filter filter(keep, mint, &stats);
    KILN_RETURN_IF_ERROR(CopyRecords(reader.get(), &filter, cp.get()));
    const std::string meta = filter.MetadataRecord();
    if (!meta.empty()) KILN_RETURN_IF_ERROR(cp->Log(meta));
    KILN_RETURN_IF_ERROR(cp->Close());
    KILN_RETURN_IF_ERROR(SyncDir(tmp));
    // Replaces an existing checkpoint of the same index, as upstream's fileutil.Replace.
    std::filesystem::remove_all(dir, ec);
    std::filesystem::rename(tmp, dir, ec);
    if (ec) return Status::IOError("rename checkpoint directory: " + ec.message());
    return SyncDir(wl->dir());
  }();
  if (!s.ok()) {
    std::filesystem::remove_all(tmp, ec);
    return s.Wrap("create checkpoint");
  }
  return stats;
}

}  // namespace kiln::tsdb::wlog
