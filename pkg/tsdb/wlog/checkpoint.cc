#include "pkg/tsdb/wlog/checkpoint.h"

#include <dirent.h>

#include <algorithm>
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
  Status KeepLatestMetadata(std::string_view rec);

  const std::function<bool(record::HeadSeriesRef)>& keep_;
  const int64_t mint_;
  CheckpointStats* stats_;
  std::map<record::HeadSeriesRef, record::RefMetadata> latest_metadata_;
};

// Decodes one record, keeps the entries `pred` accepts, re-encodes them into *buf (nothing
// when none is kept) and counts totals and drops.
template <typename T, typename Pred, typename Encode>
Status FilterEntries(std::string_view rec, Status (*decode)(std::string_view, std::vector<T>*),
                     Pred pred, Encode encode, int* total, int* dropped, std::string* buf) {
  std::vector<T> entries;
  KILN_RETURN_IF_ERROR(decode(rec, &entries));
  const size_t n = entries.size();
  std::erase_if(entries, [&](const T& e) { return !pred(e); });
  *total += static_cast<int>(n);
  *dropped += static_cast<int>(n - entries.size());
  if (!entries.empty()) encode(entries, buf);
  return Status::OK();
}

Status Filter::Apply(std::string_view rec, std::string* buf) {
  using namespace record;
  CheckpointStats& st = *stats_;
  auto recent = [this](const auto& e) { return e.t >= mint_; };
  const Type type = GetType(rec);
  switch (type) {
    case Type::kSeries:
      return FilterEntries(
          rec, &DecodeSeries, [this](const RefSeries& s) { return keep_(s.ref); },
          [](const auto& v, std::string* b) { EncodeSeries(v, b); }, &st.total_series,
          &st.dropped_series, buf);
    case Type::kSamples:
      return FilterEntries(
          rec, &DecodeSamples, recent, [](const auto& v, std::string* b) { EncodeSamples(v, b); },
          &st.total_samples, &st.dropped_samples, buf);
    case Type::kHistogramSamples:
    case Type::kCustomBucketsHistogramSamples:
      return FilterEntries(
          rec, &DecodeHistogramSamples, recent,
          [type](const auto& v, std::string* b) { EncodeHistogramSamples(v, type, b); },
          &st.total_samples, &st.dropped_samples, buf);
    case Type::kFloatHistogramSamples:
    case Type::kCustomBucketsFloatHistogramSamples:
      return FilterEntries(
          rec, &DecodeFloatHistogramSamples, recent,
          [type](const auto& v, std::string* b) { EncodeFloatHistogramSamples(v, type, b); },
          &st.total_samples, &st.dropped_samples, buf);
    case Type::kTombstones:
      return FilterEntries(
          rec, &DecodeTombstones,
          [this](const RefTombstone& t) {
            return std::any_of(t.intervals.begin(), t.intervals.end(),
                               [this](const Interval& iv) { return iv.maxt >= mint_; });
          },
          [](const auto& v, std::string* b) { EncodeTombstones(v, b); }, &st.total_tombstones,
          &st.dropped_tombstones, buf);
    case Type::kExemplars:
      return FilterEntries(
          rec, &DecodeExemplars, recent,
          [](const auto& v, std::string* b) { EncodeExemplars(v, b); }, &st.total_exemplars,
          &st.dropped_exemplars, buf);
    case Type::kMetadata:
      return KeepLatestMetadata(rec);
    default:
      // Mmap markers (OOO WBL only) and unknown types from newer versions are not carried
      // over, as upstream does.
      return Status::OK();
  }
}

// Metadata is not copied record by record: only the newest entry per kept series survives,
// written once at the end. Older entries count as dropped.
Status Filter::KeepLatestMetadata(std::string_view rec) {
  std::vector<record::RefMetadata> in;
  KILN_RETURN_IF_ERROR(record::DecodeMetadata(rec, &in));
  stats_->total_metadata += static_cast<int>(in.size());
  for (auto& m : in) {
    if (!keep_(m.ref)) {
      stats_->dropped_metadata++;
      continue;
    }
    auto [it, added] = latest_metadata_.try_emplace(m.ref, m);
    if (!added) {
      stats_->dropped_metadata++;
      it->second = std::move(m);
    }
  }
  return Status::OK();
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

namespace {

// What a checkpoint up to `to` reads: the previous checkpoint, if any, then the segments
// after it. *from moves up to just after the previous checkpoint.
Result<std::vector<SegmentRange>> CheckpointSources(const std::string& wal_dir, int* from, int to) {
  std::vector<SegmentRange> ranges;
  auto last = LastCheckpoint(wal_dir);
  if (last.ok()) {
    if (*from > last->index + 1) {
      return Status::BadData("unexpected gap to last checkpoint: expected " +
                             std::to_string(last->index + 1) + ", requested " +
                             std::to_string(*from));
    }
    // Segments below the checkpoint should not exist; never read them twice.
    *from = last->index + 1;
    ranges.push_back({last->dir, -1, -1});
  } else if (!last.status().Is(StatusCode::kNotFound)) {
    return last.status().Wrap("find last checkpoint");
  }
  ranges.push_back({wal_dir, *from, to});
  return ranges;
}

// Writes the filtered records as a WAL in `tmp`, makes it durable and renames it to `dir`.
Status WriteCheckpoint(const Logger& logger, Reader* reader, Filter* filter, bool compress,
                       const std::string& tmp, const std::string& dir) {
  Options options;
  options.compress = compress;
  KILN_ASSIGN_OR_RETURN(auto cp, WL::Open(tmp, options, logger));
  KILN_RETURN_IF_ERROR(CopyRecords(reader, filter, cp.get()));
  const std::string meta = filter->MetadataRecord();
  if (!meta.empty()) KILN_RETURN_IF_ERROR(cp->Log(meta));
  KILN_RETURN_IF_ERROR(cp->Close());
  KILN_RETURN_IF_ERROR(SyncDir(tmp));
  // Replaces an existing checkpoint of the same index, as upstream's fileutil.Replace.
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) return Status::IOError("remove old " + dir + ": " + ec.message());
  std::filesystem::rename(tmp, dir, ec);
  if (ec) return Status::IOError("rename checkpoint directory: " + ec.message());
  return SyncDir(std::filesystem::path(dir).parent_path().string());
}

}  // namespace

Result<CheckpointStats> Checkpoint(const Logger& logger, WL* wl, int from, int to,
                                   const std::function<bool(record::HeadSeriesRef)>& keep,
                                   int64_t mint) {
  logger.Info("Creating checkpoint", {{"from_segment", std::to_string(from)},
                                      {"to_segment", std::to_string(to)},
                                      {"mint", std::to_string(mint)}});
  KILN_ASSIGN_OR_RETURN(auto ranges, CheckpointSources(wl->dir(), &from, to));
  KILN_ASSIGN_OR_RETURN(auto reader, Reader::Open(ranges));
  const std::string dir = CheckpointDir(wl->dir(), to);
  const std::string tmp = dir + ".tmp";
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  if (ec) return Status::IOError("remove stale " + tmp + ": " + ec.message());

  CheckpointStats stats;
  Filter filter(keep, mint, &stats);
  Status s = WriteCheckpoint(logger, reader.get(), &filter, wl->compression_enabled(), tmp, dir);
  if (!s.ok()) {
    std::filesystem::remove_all(tmp, ec);
    return s.Wrap("create checkpoint");
  }
  return stats;
}

}  // namespace kiln::tsdb::wlog
