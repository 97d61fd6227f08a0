#include "pkg/tsdb/chunks/chunk_reader.h"

#include "pkg/tsdb/chunks/chunk_writer.h"
#include "pkg/tsdb/chunks/file_util.h"
#include "pkg/util/coding.h"
#include "pkg/util/crc32c.h"

namespace kiln::tsdb::chunks {

Result<std::unique_ptr<ChunkReader>> ChunkReader::Open(const std::string& dir) {
  KILN_ASSIGN_OR_RETURN(auto listed, ListSegments(dir));
  std::vector<std::shared_ptr<const MmapFile>> segments;
  for (const auto& [seq, path] : listed) {
    KILN_ASSIGN_OR_RETURN(auto map, MmapFile::Open(path));
    const std::string_view b = map->data();
    if (b.size() < 8 || DecodeBE32(b.data()) != kBlockChunksMagic) {
      return Status::Corruption(path + ": invalid chunk segment magic");
    }
    if (b[4] != 1) return Status::Corruption(path + ": unsupported chunk segment version");
    segments.push_back(std::move(map));
  }
  return std::unique_ptr<ChunkReader>(new ChunkReader(std::move(segments)));
}

Result<std::unique_ptr<chunkenc::Chunk>> ChunkReader::Chunk(ChunkRef ref) const {
  const uint64_t seg = BlockChunkSegment(ref);
  const uint64_t off = BlockChunkOffset(ref);
  if (seg >= segments_.size()) {
    return Status::Corruption("chunk ref " + std::to_string(ref) + ": no segment " +
                              std::to_string(seg));
  }
  const std::string_view b = segments_[seg]->data();
  if (off < 8 || off >= b.size()) {
    return Status::Corruption("chunk ref " + std::to_string(ref) + ": offset out of bounds");
  }
  Decoder d(b.substr(off));
  const uint64_t len = d.Uvarint();
  const std::string_view enc_and_data = d.Bytes(len + 1);
  const uint32_t crc = d.BE32();
  if (d.err()) return Status::Corruption("chunk ref " + std::to_string(ref) + ": torn chunk");
  if (crc != Crc32c(enc_and_data)) {
    return Status::Corruption("chunk ref " + std::to_string(ref) + ": checksum mismatch");
  }
  return ChunkFromMapping(segments_[seg], static_cast<chunkenc::Encoding>(enc_and_data[0]),
                          enc_and_data.substr(1));
}

uint64_t ChunkReader::Size() const {
  uint64_t n = 0;
  for (const auto& s : segments_) n += s->data().size();
  return n;
}

}  // namespace kiln::tsdb::chunks
