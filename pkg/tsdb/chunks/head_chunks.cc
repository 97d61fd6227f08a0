#include "pkg/tsdb/chunks/head_chunks.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "pkg/util/coding.h"
#include "pkg/util/crc32c.h"

namespace kiln::tsdb::chunks {

namespace {

constexpr size_t kFileHeaderSize = 8;  // magic, version, 3 bytes padding
constexpr uint8_t kFormatV1 = 1;
constexpr size_t kRefAndTimesSize = 24;    // series ref, mint, maxt
constexpr size_t kMaxRecordOverhead = 42;  // 24 + encoding + 10-byte uvarint + 4 CRC + slack

// One chunk record parsed out of a file.
struct Record {
  uint64_t series_ref;
  int64_t min_time;
  int64_t max_time;
  chunkenc::Encoding encoding;  // out-of-order flag removed
  bool out_of_order;
  std::string_view data;
  size_t size;  // bytes the whole record takes
};

// Parses the record at the start of `b`. Corruption if it is torn or fails its CRC.
Status ParseRecord(std::string_view b, Record* r) {
  Decoder d(b);
  r->series_ref = d.BE64();
  r->min_time = static_cast<int64_t>(d.BE64());
  r->max_time = static_cast<int64_t>(d.BE64());
  const uint8_t enc = d.Byte();
  r->encoding = static_cast<chunkenc::Encoding>(enc & ~kOutOfOrderMask);
  r->out_of_order = (enc & kOutOfOrderMask) != 0;
  r->data = d.UvarintBytes();
  const size_t covered = static_cast<size_t>(d.position() - b.data());
  const uint32_t crc = d.BE32();
  if (d.err()) return Status::Corruption("head chunk record torn");
  if (crc != Crc32c(b.data(), covered)) return Status::Corruption("head chunk checksum mismatch");
  r->size = covered + 4;
  return Status::OK();
}

bool AllZero(std::string_view b) {
  return std::all_of(b.begin(), b.end(), [](char c) { return c == 0; });
}

Status CheckHeader(std::string_view b, const std::string& path) {
  if (b.size() < kFileHeaderSize) return Status::Corruption(path + ": head chunk file too short");
  if (DecodeBE32(b.data()) != kHeadChunksMagic) {
    return Status::Corruption(path + ": invalid head chunk file magic");
  }
  if (static_cast<uint8_t>(b[4]) != kFormatV1) {
    return Status::Corruption(path + ": unsupported head chunk file version");
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<ChunkDiskMapper>> ChunkDiskMapper::Open(const std::string& dir,
                                                               size_t write_buffer_size) {
  KILN_RETURN_IF_ERROR(MakeDirs(dir));
  std::unique_ptr<ChunkDiskMapper> m(new ChunkDiskMapper(dir, write_buffer_size));
  KILN_RETURN_IF_ERROR(m->OpenFiles().Wrap("open head chunks " + dir));
  return m;
}

ChunkDiskMapper::~ChunkDiskMapper() { Close(); }

Status ChunkDiskMapper::OpenFiles() {
  KILN_ASSIGN_OR_RETURN(auto segments, ListSegments(dir_));
  if (!segments.empty()) {
    const auto& [seq, path] = segments.back();
    KILN_ASSIGN_OR_RETURN(auto last, MmapFile::Open(path));
    if (last->data().empty()) {
      if (::unlink(path.c_str()) != 0) return Status::FromErrno("remove empty " + path, errno);
      segments.pop_back();
    }
  }
  for (size_t i = 0; i < segments.size(); i++) {
    const auto& [seq, path] = segments[i];
    if (i > 0 && seq != segments[i - 1].first + 1) {
      return Status::Corruption("head chunk files out of sequence at " + path);
    }
    KILN_ASSIGN_OR_RETURN(auto map, MmapFile::Open(path));
    KILN_RETURN_IF_ERROR(CheckHeader(map->data(), path));
    files_[seq] = File{std::move(map), INT64_MIN};
  }
  return Status::OK();
}

Result<ChunkDiskMapperRef> ChunkDiskMapper::WriteChunk(uint64_t series_ref, int64_t mint,
                                                       int64_t maxt, const chunkenc::Chunk& chunk,
                                                       bool out_of_order) {
  std::lock_guard lock(mu_);
  if (closed_) return Status::Unavailable("head chunk mapper closed");
  const std::string_view data = chunk.Bytes();
  if (cur_seq_ == 0 || cur_size_ + data.size() + kMaxRecordOverhead > kMaxHeadChunkFileSize) {
    KILN_RETURN_IF_ERROR(CutLocked());
  }
  if (!buffer_.empty() && buffer_.size() + data.size() + kMaxRecordOverhead > write_buffer_size_) {
    KILN_RETURN_IF_ERROR(FlushLocked());
  }
  const ChunkDiskMapperRef ref = NewChunkDiskMapperRef(cur_seq_, cur_size_);
  const size_t start = buffer_.size();
  PutBE64(&buffer_, series_ref);
  PutBE64(&buffer_, static_cast<uint64_t>(mint));
  PutBE64(&buffer_, static_cast<uint64_t>(maxt));
  buffer_.push_back(static_cast<char>(static_cast<uint8_t>(chunk.encoding()) |
                                      (out_of_order ? kOutOfOrderMask : 0)));
  PutUvarint(&buffer_, data.size());
  buffer_.append(data);
  PutBE32(&buffer_, Crc32c(buffer_.data() + start, buffer_.size() - start));
  cur_size_ += buffer_.size() - start;
  cur_max_time_ = std::max(cur_max_time_, maxt);
  if (buffer_.size() >= write_buffer_size_) KILN_RETURN_IF_ERROR(FlushLocked());
  return ref;
}

Result<std::unique_ptr<chunkenc::Chunk>> ChunkDiskMapper::Chunk(ChunkDiskMapperRef ref) {
  const uint64_t seq = ref >> 32;
  const uint64_t off = ref & 0xffffffffu;
  std::shared_ptr<const MmapFile> map;
  std::string_view region;
  {
    // Only locating the bytes needs the lock: flushed bytes never change and the mapping is
    // kept alive by `map`, so the CRC check and decoding run unlocked.
    std::lock_guard lock(mu_);
    if (closed_) return Status::Unavailable("head chunk mapper closed");
    auto it = files_.find(seq);
    if (it == files_.end()) {
      return Status::NotFound("head chunk file " + std::to_string(seq) + " does not exist");
    }
    if (seq == cur_seq_ && off >= cur_flushed_) {
      if (off - cur_flushed_ >= buffer_.size()) return Status::NotFound("head chunk ref past end");
      Record r;
      KILN_RETURN_IF_ERROR(ParseRecord(std::string_view(buffer_).substr(off - cur_flushed_), &r)
                               .Wrap(SegmentPath(dir_, seq)));
      return chunkenc::FromOwnedData(r.encoding, std::string(r.data));
    }
    const size_t limit = seq == cur_seq_ ? cur_flushed_ : it->second.map->data().size();
    if (off < kFileHeaderSize || off >= limit) return Status::NotFound("head chunk ref past end");
    map = it->second.map;
    region = std::string_view(map->base() + off, limit - off);
  }
  Record r;
  KILN_RETURN_IF_ERROR(ParseRecord(region, &r).Wrap(SegmentPath(dir_, seq)));
  return ChunkFromMapping(std::move(map), r.encoding, r.data);
}

Result<HeadChunkRepair> ChunkDiskMapper::IterateAllChunks(
    const std::function<Status(const HeadChunkInfo&)>& fn) {
  std::lock_guard lock(mu_);
  HeadChunkRepair repair;
  for (auto& [seq, file] : files_) {
    bool stop = false;
    KILN_ASSIGN_OR_RETURN(const uint64_t bad_offset, ReplayFile(seq, &file, fn, &stop));
    if (stop) {
      KILN_RETURN_IF_ERROR(DropFrom(seq, bad_offset, &repair));
      break;
    }
  }
  return repair;
}

// Returns the offset of the first bad record and sets *stop, or 0 when the file was clean.
Result<uint64_t> ChunkDiskMapper::ReplayFile(uint64_t seq, File* file,
                                             const std::function<Status(const HeadChunkInfo&)>& fn,
                                             bool* stop) {
  const std::string_view b = file->map->data();
  size_t off = kFileHeaderSize;
  while (off < b.size()) {
    if (AllZero(b.substr(off))) break;  // preallocated or zero-filled tail
    Record r;
    if (!ParseRecord(b.substr(off), &r).ok()) {
      *stop = true;
      return off;
    }
    HeadChunkInfo info{r.series_ref,
                       NewChunkDiskMapperRef(seq, off),
                       r.min_time,
                       r.max_time,
                       r.data.size() >= 2 ? DecodeBE16(r.data.data()) : uint16_t{0},
                       r.encoding,
                       r.out_of_order};
    KILN_RETURN_IF_ERROR(fn(info));
    file->max_time = std::max(file->max_time, r.max_time);
    off += r.size;
  }
  return uint64_t{0};
}

Status ChunkDiskMapper::DropFrom(uint64_t seq, uint64_t offset, HeadChunkRepair* repair) {
  File& file = files_[seq];
  const std::string path = SegmentPath(dir_, seq);
  repair->bytes_dropped += file.map->data().size() - offset;
  KILN_RETURN_IF_ERROR(TruncateFile(path, offset));
  KILN_ASSIGN_OR_RETURN(file.map, MmapFile::Open(path));
  for (auto it = files_.upper_bound(seq); it != files_.end();) {
    repair->bytes_dropped += it->second.map->data().size();
    repair->files_removed++;
    const std::string later = SegmentPath(dir_, it->first);
    if (::unlink(later.c_str()) != 0) return Status::FromErrno("remove " + later, errno);
    it = files_.erase(it);
  }
  return SyncDir(dir_);
}

Status ChunkDiskMapper::Truncate(int64_t mint) {
  std::lock_guard lock(mu_);
  if (closed_) return Status::Unavailable("head chunk mapper closed");
  // As upstream: finish a current file holding chunks, so that it can go in a later call.
  if (cur_seq_ != 0 && cur_size_ > kFileHeaderSize) KILN_RETURN_IF_ERROR(FinishCurrentLocked());
  // Only a prefix of files is removed, so the remaining sequence stays contiguous.
  bool removed = false;
  for (auto it = files_.begin(); it != files_.end() && it->first != cur_seq_;) {
    if (it->second.max_time == INT64_MIN || it->second.max_time >= mint) break;
    const std::string path = SegmentPath(dir_, it->first);
    if (::unlink(path.c_str()) != 0) return Status::FromErrno("remove " + path, errno);
    it = files_.erase(it);
    removed = true;
  }
  return removed ? SyncDir(dir_) : Status::OK();
}

Status ChunkDiskMapper::CutLocked() {
  KILN_RETURN_IF_ERROR(FinishCurrentLocked());
  const uint64_t seq = files_.empty() ? 1 : files_.rbegin()->first + 1;
  const std::string path = SegmentPath(dir_, seq);
  KILN_ASSIGN_OR_RETURN(UniqueFd fd, CreateFile(path));
  std::string header;
  PutBE32(&header, kHeadChunksMagic);
  header.push_back(static_cast<char>(kFormatV1));
  header.append(3, '\0');
  KILN_RETURN_IF_ERROR(WriteAll(fd.get(), header, path));
  KILN_ASSIGN_OR_RETURN(auto map, MmapFile::Open(path, kMaxHeadChunkFileSize));
  files_[seq] = File{std::move(map), INT64_MIN};
  cur_seq_ = seq;
  cur_fd_ = std::move(fd);
  cur_size_ = cur_flushed_ = header.size();
  cur_max_time_ = INT64_MIN;
  return SyncDir(dir_);
}

Status ChunkDiskMapper::FlushLocked() {
  if (buffer_.empty()) return Status::OK();
  KILN_RETURN_IF_ERROR(WriteAll(cur_fd_.get(), buffer_, SegmentPath(dir_, cur_seq_)));
  cur_flushed_ += buffer_.size();
  buffer_.clear();
  return Status::OK();
}

// Flushes, syncs and closes the current file and remaps it at its final size.
Status ChunkDiskMapper::FinishCurrentLocked() {
  if (cur_seq_ == 0) return Status::OK();
  const std::string path = SegmentPath(dir_, cur_seq_);
  KILN_RETURN_IF_ERROR(FlushLocked());
  KILN_RETURN_IF_ERROR(SyncFd(cur_fd_.get(), path));
  KILN_RETURN_IF_ERROR(cur_fd_.Close());
  KILN_ASSIGN_OR_RETURN(auto map, MmapFile::Open(path));
  files_[cur_seq_] = File{std::move(map), cur_max_time_};
  cur_seq_ = 0;
  return Status::OK();
}

Status ChunkDiskMapper::Flush() {
  std::lock_guard lock(mu_);
  if (closed_) return Status::Unavailable("head chunk mapper closed");
  return FlushLocked();
}

Status ChunkDiskMapper::Sync() {
  std::lock_guard lock(mu_);
  if (closed_) return Status::Unavailable("head chunk mapper closed");
  KILN_RETURN_IF_ERROR(FlushLocked());
  return cur_seq_ == 0 ? Status::OK() : SyncFd(cur_fd_.get(), SegmentPath(dir_, cur_seq_));
}

Status ChunkDiskMapper::CutNewFile() {
  std::lock_guard lock(mu_);
  if (closed_) return Status::Unavailable("head chunk mapper closed");
  return CutLocked();
}

Status ChunkDiskMapper::Close() {
  std::lock_guard lock(mu_);
  if (closed_) return Status::OK();
  closed_ = true;
  Status s = FinishCurrentLocked();
  files_.clear();
  return s;
}

std::vector<uint64_t> ChunkDiskMapper::FileSequences() const {
  std::lock_guard lock(mu_);
  std::vector<uint64_t> out;
  for (const auto& [seq, file] : files_) out.push_back(seq);
  return out;
}

}  // namespace kiln::tsdb::chunks
