#include "cmd/kiln/deferred_storage.h"

namespace kiln {

namespace {

Status NotOpen() { return Status::Unavailable("storage is not open yet"); }

class UnavailableAppender final : public storage::Appender {
 public:
  Result<storage::SeriesRef> Append(storage::SeriesRef, const model::Labels&, int64_t,
                                    double) override {
    return NotOpen();
  }
  Result<storage::SeriesRef> UpdateMetadata(storage::SeriesRef, const model::Labels&,
                                            const model::Metadata&) override {
    return NotOpen();
  }
  Status Commit() override { return Status::OK(); }
  Status Rollback() override { return Status::OK(); }
};

}  // namespace

void DeferredStorage::Set(storage::Appendable* appendable, storage::Queryable* queryable) {
  queryable_.store(queryable, std::memory_order_release);
  appendable_.store(appendable, std::memory_order_release);
}

std::unique_ptr<storage::Appender> DeferredStorage::NewAppender() {
  storage::Appendable* a = appendable_.load(std::memory_order_acquire);
  if (a == nullptr) return std::make_unique<UnavailableAppender>();
  return a->NewAppender();
}

Result<std::unique_ptr<storage::Querier>> DeferredStorage::NewQuerier(int64_t mint, int64_t maxt) {
  storage::Queryable* q = queryable_.load(std::memory_order_acquire);
  if (q == nullptr) return NotOpen();
  return q->NewQuerier(mint, maxt);
}

}  // namespace kiln
