#include "pkg/tsdb/chunkenc/chunk.h"

#include "pkg/tsdb/chunkenc/xor.h"

namespace kiln::chunkenc {

std::string_view EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kNone:
      return "none";
    case Encoding::kXOR:
      return "XOR";
    case Encoding::kHistogram:
      return "histogram";
    case Encoding::kFloatHistogram:
      return "floathistogram";
  }
  return "<unknown>";
}

namespace {

// Checks what every encoding needs before its bytes can be wrapped.
Status CheckData(Encoding encoding, std::string_view data) {
  switch (encoding) {
    case Encoding::kXOR:
      if (data.size() < 2) return Status::Corruption("xor chunk shorter than its 2-byte header");
      return Status::OK();
    case Encoding::kHistogram:
    case Encoding::kFloatHistogram:
      return Status::Unavailable(std::string(EncodingName(encoding)) +
                                 " chunks are not supported yet");
    default:
      return Status::Corruption("unknown chunk encoding " +
                                std::to_string(static_cast<int>(encoding)));
  }
}

}  // namespace

Result<std::unique_ptr<Chunk>> FromData(Encoding encoding, std::string_view data,
                                        std::shared_ptr<const void> keepalive) {
  KILN_RETURN_IF_ERROR(CheckData(encoding, data));
  return std::unique_ptr<Chunk>(XorChunk::View(data, std::move(keepalive)));
}

Result<std::unique_ptr<Chunk>> FromOwnedData(Encoding encoding, std::string data) {
  KILN_RETURN_IF_ERROR(CheckData(encoding, data));
  return std::unique_ptr<Chunk>(std::make_unique<XorChunk>(std::move(data)));
}

Result<std::unique_ptr<Chunk>> NewChunk(Encoding encoding) {
  KILN_RETURN_IF_ERROR(CheckData(encoding, std::string_view("\0\0", 2)));
  return std::unique_ptr<Chunk>(std::make_unique<XorChunk>());
}

}  // namespace kiln::chunkenc
