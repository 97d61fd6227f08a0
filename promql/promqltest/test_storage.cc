#include "promql/promqltest/test_storage.h"

#include <limits>
#include <string>

namespace kiln::promql::promqltest {

Result<StorageKind> ParseStorageKind(std::string_view name) {
  if (name == "head") return StorageKind::kHead;
  if (name == "memory") return StorageKind::kMemory;
  return Status::BadData("unknown storage \"" + std::string(name) + "\", want head or memory");
}

Status TestStorage::EnsureOpen() {
  if (kind_ != StorageKind::kHead || head_ != nullptr) return Status::OK();
  tsdb::HeadOptions opts;
  opts.enable_wal = false;
  // Test files load series spanning days (and later loads may start before earlier ones
  // ended), which a 2h head would partly refuse as out of bounds; upstream's test storage
  // has no such limit either. A wide chunk range keeps every load appendable; chunks are
  // still cut every 120 samples.
  opts.chunk_range = std::numeric_limits<int64_t>::max() / 4;
  // A fresh head per file and per `clear`: keep the series registry small.
  opts.stripe_size = 64;
  Result<std::unique_ptr<tsdb::Head>> head = tsdb::Head::Open(opts);
  if (!head.ok()) return head.status();
  head_ = std::move(*head);
  return Status::OK();
}

Status TestStorage::Add(const model::Labels& labels, const std::vector<model::Sample>& samples) {
  if (kind_ == StorageKind::kMemory) {
    memory_.Add(labels, samples);
    return Status::OK();
  }
  if (Status s = EnsureOpen(); !s.ok()) return s;
  std::unique_ptr<storage::Appender> app = head_->NewAppender();
  storage::SeriesRef ref = 0;
  for (const model::Sample& s : samples) {
    Result<storage::SeriesRef> r = app->Append(ref, labels, s.t, s.v);
    if (!r.ok()) {
      (void)app->Rollback();
      return Status(r.status().code(), "appending " + labels.ToString() + " at " +
                                           std::to_string(s.t) + ": " + r.status().message());
    }
    ref = *r;
  }
  return app->Commit();
}

Status TestStorage::Clear() {
  memory_.Clear();
  if (head_ == nullptr) return Status::OK();
  Status s = head_->Close();
  head_.reset();
  return s;
}

Result<std::unique_ptr<storage::Querier>> TestStorage::NewQuerier(int64_t mint, int64_t maxt) {
  if (kind_ == StorageKind::kMemory) return memory_.NewQuerier(mint, maxt);
  if (Status s = EnsureOpen(); !s.ok()) return s;
  return head_->NewQuerier(mint, maxt);
}

}  // namespace kiln::promql::promqltest
