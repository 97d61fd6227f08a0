#include "pkg/tsdb/chunks/chunk_writer.h"

#include "pkg/util/coding.h"
#include "pkg/util/crc32c.h"

namespace kiln::tsdb::chunks {

namespace {
constexpr size_t kSegmentHeaderSize = 8;
constexpr size_t kMaxChunkOverhead = 10 + 1 + 4;  // uvarint length, encoding, CRC
constexpr size_t kFlushThreshold = 1 << 20;
}  // namespace

Result<std::unique_ptr<ChunkWriter>> ChunkWriter::Open(const std::string& dir,
                                                       uint64_t segment_size) {
  KILN_RETURN_IF_ERROR(MakeDirs(dir));
  return std::unique_ptr<ChunkWriter>(new ChunkWriter(dir, segment_size));
}

ChunkWriter::~ChunkWriter() { Close(); }

Status ChunkWriter::WriteChunks(std::span<ChunkMeta> metas) {
  if (closed_) return Status::Internal("chunk writer closed");
  for (ChunkMeta& m : metas) {
    const std::string_view data = m.chunk->Bytes();
    const uint64_t need = data.size() + kMaxChunkOverhead;
    if (segments_ == 0 || (size_ > kSegmentHeaderSize && size_ + need > segment_size_)) {
      KILN_RETURN_IF_ERROR(Cut());
    }
    m.ref = NewBlockChunkRef(segments_ - 1, size_);
    const size_t start = buffer_.size();
    PutUvarint(&buffer_, data.size());
    const size_t crc_from = buffer_.size();
    buffer_.push_back(static_cast<char>(m.chunk->encoding()));
    buffer_.append(data);
    PutBE32(&buffer_, Crc32c(buffer_.data() + crc_from, buffer_.size() - crc_from));
    size_ += buffer_.size() - start;
    if (buffer_.size() >= kFlushThreshold) KILN_RETURN_IF_ERROR(FlushBuffer());
  }
  return Status::OK();
}

Status ChunkWriter::Cut() {
  KILN_RETURN_IF_ERROR(FinishSegment());
  const std::string path = SegmentPath(dir_, segments_ + 1);
  KILN_ASSIGN_OR_RETURN(fd_, CreateFile(path));
  segments_++;
  PutBE32(&buffer_, kBlockChunksMagic);
  buffer_.push_back(1);  // version
  buffer_.append(3, '\0');
  size_ = kSegmentHeaderSize;
  return Status::OK();
}

Status ChunkWriter::FlushBuffer() {
  KILN_RETURN_IF_ERROR(WriteAll(fd_.get(), buffer_, SegmentPath(dir_, segments_)));
  buffer_.clear();
  return Status::OK();
}

Status ChunkWriter::FinishSegment() {
  if (!fd_.valid()) return Status::OK();
  KILN_RETURN_IF_ERROR(FlushBuffer());
  KILN_RETURN_IF_ERROR(SyncFd(fd_.get(), SegmentPath(dir_, segments_)));
  return fd_.Close();
}

Status ChunkWriter::Close() {
  if (closed_) return Status::OK();
  closed_ = true;
  KILN_RETURN_IF_ERROR(FinishSegment());
  return SyncDir(dir_);
}

}  // namespace kiln::tsdb::chunks
