// DeferredAppendable: an Appendable that the web server can be wired to before storage is
// open (the server must listen, and answer /-/ready with 503, while the WAL replays).
// Until Set() is called, appenders refuse everything with kUnavailable; the remote write
// route is also gated on readiness, so in practice no request gets that far.
// Thread-safe: Set() and NewAppender() may race.
#pragma once

#include <atomic>
#include <memory>

#include "pkg/storage/appender.h"

namespace kiln {

class DeferredAppendable final : public storage::Appendable {
 public:
  // `target` must outlive every appender handed out after this call.
  void Set(storage::Appendable* target) { target_.store(target, std::memory_order_release); }
  std::unique_ptr<storage::Appender> NewAppender() override;

 private:
  std::atomic<storage::Appendable*> target_{nullptr};
};

}  // namespace kiln
