// ReadHandler: the remote read endpoint (POST /api/v1/read), independent of any HTTP library.
// Semantics follow upstream Prometheus's storage/remote/read_handler.go:
//   - body: snappy-compressed prompb ReadRequest (bad snappy or protobuf → 400);
//   - response type: the first of accepted_response_types the server supports (none listed
//     → SAMPLES; none supported → 400);
//   - SAMPLES: one snappy-compressed ReadResponse, Content-Type application/x-protobuf; more
//     than sample_limit samples → 400 "exceeded sample limit (N)";
//   - STREAMED_XOR_CHUNKS: frames of uvarint(len) + big-endian CRC32-Castagnoli(msg) + msg,
//     each a ChunkedReadResponse with one series' XOR chunks (≤120 samples each), split so a
//     frame stays near max_bytes_in_frame. Not compressed.
// Invalid matchers → 400; storage errors → 500.
// Thread-safe: concurrent Handle() calls each use their own querier.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pkg/storage/querier.h"
#include "pkg/util/logger.h"

namespace kiln::remote {

struct ReadResponse {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class ReadHandler {
 public:
  struct Options {
    int64_t sample_limit = 50'000'000;     // --storage.remote.read-sample-limit; 0 = none
    size_t max_bytes_in_frame = 1u << 20;  // --storage.remote.read-max-bytes-in-frame
  };

  // `queryable` must outlive the handler.
  ReadHandler(storage::Queryable* queryable, Logger logger, Options options);
  ReadHandler(storage::Queryable* queryable, Logger logger)
      : ReadHandler(queryable, std::move(logger), Options{}) {}

  ReadResponse Handle(std::string_view body) const;

 private:
  storage::Queryable* queryable_;
  Logger logger_;
  Options options_;
};

}  // namespace kiln::remote
