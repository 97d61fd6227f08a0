// Appending the contents of a decoded remote write request (1.0 or 2.0) to a storage
// transaction. The caller owns the transaction: it commits or rolls back depending on the
// returned IngestResult (see WriteHandler).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/metadata.h"
#include "pkg/prompb/remote.pb.h"
#include "pkg/prompb/write_v2.pb.h"
#include "pkg/storage/appender.h"
#include "pkg/util/logger.h"
#include "pkg/util/status.h"

namespace kiln::remote {

// What was staged in the transaction, reported to 2.0 senders in the
// X-Prometheus-Remote-Write-*-Written headers.
struct WriteStats {
  int64_t samples = 0;
  int64_t histograms = 0;
  int64_t exemplars = 0;
};

struct IngestResult {
  WriteStats written;
  // Client errors, one line each, in request order: invalid series, samples storage refused
  // (out of order, out of bounds, duplicate, too old). Everything else was staged, so the
  // caller commits and answers 400 (a partial write, as the 2.0 spec allows).
  std::vector<std::string> bad_requests;
  // A storage fault worth retrying. Ingestion stopped; the caller must roll back and answer
  // 5xx, because storage is not idempotent and the sender will resend the whole request.
  Status fatal;
  // Samples (and histogram samples) of series rejected for invalid labels.
  int64_t invalid_label_samples = 0;
  // Samples staged for series whose metadata update failed (2.0 only).
  int64_t samples_without_metadata = 0;
};

struct IngestOptions {
  // Samples newer than this (ms) are refused as out of bounds: upstream accepts at most 10
  // minutes into the future.
  int64_t max_time = 0;
  // Called for every entry of a 1.0 request's `metadata` list. Prometheus sends that list in
  // requests of its own, without samples, so it reaches no series here; the receiver keeps
  // it per metric family for /api/v1/metadata.
  std::function<void(std::string_view family, const model::Metadata&)> on_family_metadata;
};

// Stages a 1.0 request. Series metadata comes from the request's `metadata` list, matched by
// metric family name (exact, or the name without a _total/_bucket/_count/_sum suffix).
IngestResult IngestV1(const prompb::WriteRequest& req, const IngestOptions& opts,
                      storage::Appender* app, const Logger& logger);

// Stages a 2.0 request, resolving label and metadata references through `req.symbols`.
IngestResult IngestV2(const prompb::writev2::Request& req, const IngestOptions& opts,
                      storage::Appender* app, const Logger& logger);

}  // namespace kiln::remote
