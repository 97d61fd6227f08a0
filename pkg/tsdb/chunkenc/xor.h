// The Gorilla-style XOR chunk for float samples, byte-identical to Prometheus's XORChunk.
//
// Layout (upstream tsdb/docs/format/chunks.md, "XOR chunk data"): a 2-byte big-endian sample
// count, then a bit stream: first timestamp as varint and first value as 64 raw bits, the
// second timestamp as a uvarint delta, later timestamps as delta-of-delta in 1/16/20/24/68-bit
// buckets, and every later value as the XOR with its predecessor, reusing the previous
// leading/trailing zero window when the new XOR fits in it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "pkg/tsdb/chunkenc/chunk.h"

namespace kiln::chunkenc {

// Thread-safety: see Chunk.
class XorChunk final : public Chunk {
 public:
  // An empty chunk.
  XorChunk();
  // A chunk owning `data`. REQUIRES: data.size() >= 2 (checked by FromOwnedData).
  explicit XorChunk(std::string data);
  // A chunk viewing `data`, optionally kept alive by `keepalive` (see FromData).
  // REQUIRES: data.size() >= 2.
  static std::unique_ptr<XorChunk> View(std::string_view data,
                                        std::shared_ptr<const void> keepalive = nullptr);
  // Not copyable or movable: view_ may point into owned_.
  XorChunk(const XorChunk&) = delete;
  XorChunk& operator=(const XorChunk&) = delete;

  Encoding encoding() const override { return Encoding::kXOR; }
  std::string_view Bytes() const override { return view_; }
  int NumSamples() const override;
  Result<std::unique_ptr<Appender>> NewAppender() override;
  std::unique_ptr<Iterator> NewIterator(std::unique_ptr<Iterator> reuse = nullptr) const override;
  void Compact() override;

 private:
  struct ViewTag {};
  XorChunk(ViewTag, std::string_view data, std::shared_ptr<const void> keepalive)
      : view_(data), is_view_(true), keepalive_(std::move(keepalive)) {}

  friend class XorAppender;
  // The bytes when owned, followed by zeroed slack the appender grows into; empty for a view.
  std::string owned_;
  std::string_view view_;  // always exactly the chunk's bytes (a prefix of owned_ when owned)
  bool is_view_ = false;   // view_ borrows memory; the first NewAppender copies it
  std::shared_ptr<const void> keepalive_;  // owner of borrowed memory, shared with iterators
};

}  // namespace kiln::chunkenc
