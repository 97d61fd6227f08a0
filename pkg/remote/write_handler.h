// WriteHandler: the remote write receiver (POST /api/v1/write), independent of any HTTP
// library. It takes the request's Content-Type, Content-Encoding and body and returns what to
// answer. Semantics follow upstream Prometheus's storage/remote/write_handler.go and the
// remote write 1.0 and 2.0 specs:
//   - Content-Type "application/x-protobuf" (or empty) with no proto parameter or
//     proto=prometheus.WriteRequest is 1.0; proto=io.prometheus.write.v2.Request is 2.0;
//     anything else is 415. Content-Encoding must be empty or "snappy" (else 415).
//   - Bad snappy or protobuf → 400.
//   - One storage transaction per request. Invalid series and samples storage refuses as out
//     of order / out of bounds / duplicate / too old are skipped; the rest is committed and the
//     answer is 400 with one line per problem. A storage fault rolls everything back → 500.
//   - Success is 204 only after Commit() returned. 2.0 answers always carry
//     X-Prometheus-Remote-Write-{Samples,Histograms,Exemplars}-Written.
// Thread-safe: concurrent Handle() calls each use their own appender.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pkg/model/metadata.h"
#include "pkg/storage/appender.h"
#include "pkg/util/logger.h"

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace kiln::remote {

struct WriteResponse {
  int status = 204;
  std::string body;  // plain text, "" on success
  std::vector<std::pair<std::string, std::string>> headers;
};

class WriteHandler {
 public:
  struct Options {
    // Current time in ms; samples more than 10 minutes ahead of it are refused.
    std::function<int64_t()> now_ms;
    // Largest decompressed body accepted (snappy can expand a small body a lot).
    size_t max_decoded_bytes = 256u << 20;
    // At most this many problem lines in a 400 body; the rest are counted.
    size_t max_error_lines = 10;
    // Receives remote write 1.0 metric family metadata (see IngestOptions).
    std::function<void(std::string_view family, const model::Metadata&)> on_metadata;
  };

  // `appendable` and `registry` must outlive the handler. Registers upstream's receiver
  // metrics prometheus_api_remote_write_{invalid_labels,without_metadata_appended}_samples_total.
  WriteHandler(storage::Appendable* appendable, prometheus::Registry* registry, Logger logger,
               Options options);
  WriteHandler(storage::Appendable* appendable, prometheus::Registry* registry, Logger logger)
      : WriteHandler(appendable, registry, std::move(logger), Options{}) {}

  WriteResponse Handle(std::string_view content_type, std::string_view content_encoding,
                       std::string_view body) const;

 private:
  enum class ProtoMsg { kV1, kV2 };
  struct Decoded;

  WriteResponse Decode(std::string_view content_type, std::string_view content_encoding,
                       std::string_view body, Decoded* out) const;
  WriteResponse Write(const Decoded& d) const;
  std::string JoinErrors(const std::vector<std::string>& lines) const;

  storage::Appendable* appendable_;
  Logger logger_;
  Options options_;
  prometheus::Counter* invalid_labels_samples_;
  prometheus::Counter* without_metadata_samples_;
};

}  // namespace kiln::remote
