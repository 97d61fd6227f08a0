#include "cmd/kiln/deferred_appendable.h"

namespace kiln {

namespace {

class UnavailableAppender final : public storage::Appender {
 public:
  Result<storage::SeriesRef> Append(storage::SeriesRef, const model::Labels&, int64_t,
                                    double) override {
    return Unavailable();
  }
  Result<storage::SeriesRef> UpdateMetadata(storage::SeriesRef, const model::Labels&,
                                            const model::Metadata&) override {
    return Unavailable();
  }
  Status Commit() override { return Status::OK(); }
  Status Rollback() override { return Status::OK(); }

 private:
  static Status Unavailable() { return Status::Unavailable("storage is not open yet"); }
};

}  // namespace

std::unique_ptr<storage::Appender> DeferredAppendable::NewAppender() {
  storage::Appendable* t = target_.load(std::memory_order_acquire);
  if (t == nullptr) return std::make_unique<UnavailableAppender>();
  return t->NewAppender();
}

}  // namespace kiln
