// DeferredStorage: the Appendable and Queryable that the web server is wired to before storage
// is open (the server must listen, and answer /-/ready with 503, while the WAL replays).
// Until Set() is called, appenders and queriers fail with kUnavailable; the routes using them
// are also gated on readiness, so in practice no request gets that far.
// Thread-safe: Set() may race with NewAppender() and NewQuerier().
#pragma once

#include <atomic>
#include <memory>

#include "pkg/storage/appender.h"
#include "pkg/storage/querier.h"

namespace kiln {

class DeferredStorage final : public storage::Appendable, public storage::Queryable {
 public:
  // Both must outlive every appender and querier handed out after this call.
  void Set(storage::Appendable* appendable, storage::Queryable* queryable);

  std::unique_ptr<storage::Appender> NewAppender() override;
  Result<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint, int64_t maxt) override;

 private:
  std::atomic<storage::Appendable*> appendable_{nullptr};
  std::atomic<storage::Queryable*> queryable_{nullptr};
};

}  // namespace kiln
