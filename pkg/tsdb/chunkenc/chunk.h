// The Chunk interface: a compressed run of samples of one series, in one of Prometheus's
// encodings. The encoding numbers and byte layouts are Prometheus's (upstream
// tsdb/docs/format/chunks.md), so chunk bytes move unchanged between Kiln and Prometheus.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "pkg/tsdb/chunkenc/iterator.h"
#include "pkg/util/result.h"

namespace kiln::chunkenc {

// On-disk encoding byte, numbered as upstream's chunkenc.Encoding.
enum class Encoding : uint8_t {
  kNone = 0,
  kXOR = 1,
  kHistogram = 2,
  kFloatHistogram = 3,
};

// "XOR", "histogram", "floathistogram" or "<unknown>", as upstream prints them.
std::string_view EncodingName(Encoding e);

// Adds samples to the end of a chunk. Valid only while its chunk is alive, and only one
// appender per chunk may be in use. Not thread-safe.
class Appender {
 public:
  virtual ~Appender() = default;
  // Appends a float sample. The caller guarantees ordering (the chunk itself does not
  // check) and that the chunk has fewer than 65535 samples.
  virtual void Append(int64_t t, double v) = 0;
};

// Thread-safety: const methods may run concurrently with each other; an appender must not
// run concurrently with anything else on the same chunk. Iterators view the chunk's bytes as
// they were when created: they must not outlive the chunk and are invalidated by appending
// (the byte buffer may move), so a reader of a chunk still being appended to copies it.
class Chunk {
 public:
  virtual ~Chunk() = default;

  virtual Encoding encoding() const = 0;
  // The encoded bytes, exactly as stored on disk after the encoding byte.
  virtual std::string_view Bytes() const = 0;
  virtual int NumSamples() const = 0;
  // An appender positioned after the last sample. A chunk built over borrowed bytes first
  // copies them, so appending never writes into memory it does not own.
  virtual Result<std::unique_ptr<Appender>> NewAppender() = 0;
  // An iterator over the samples. `reuse`, if it is an iterator this encoding made earlier,
  // is reset and returned instead of allocating.
  virtual std::unique_ptr<Iterator> NewIterator(
      std::unique_ptr<Iterator> reuse = nullptr) const = 0;
  // Releases spare capacity kept for appending, e.g. once a head chunk is full. Appenders
  // made earlier must not be used afterwards (a new NewAppender may continue the chunk);
  // iterators made earlier are invalidated.
  virtual void Compact() {}
};

// A chunk VIEWING `data` (no copy), e.g. inside an mmapped block file. `keepalive`, if given,
// owns the memory: the chunk and every iterator made from it hold a reference, so they stay
// valid on their own. Without it the caller keeps the bytes alive and unchanged for as long
// as the chunk and its iterators live. Corruption if the bytes cannot be a chunk of that
// encoding; Unavailable for encodings Kiln cannot decode yet (histograms).
Result<std::unique_ptr<Chunk>> FromData(Encoding encoding, std::string_view data,
                                        std::shared_ptr<const void> keepalive = nullptr);

// Like FromData, but the chunk owns `data`.
Result<std::unique_ptr<Chunk>> FromOwnedData(Encoding encoding, std::string data);

// An empty chunk of the given encoding. Unavailable for histogram encodings.
Result<std::unique_ptr<Chunk>> NewChunk(Encoding encoding);

}  // namespace kiln::chunkenc
