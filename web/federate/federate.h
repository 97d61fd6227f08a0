// Federation: GET /federate?match[]=<selector>..., Prometheus's endpoint for one server to
// scrape another's latest samples (https://prometheus.io/docs/prometheus/latest/federation/).
//
// Semantics as Prometheus 2.42's web/federate.go: every series matching any match[] (each a
// series selector; several are a union), its latest float sample within
// [now - lookback_delta, now], stale markers dropped; series grouped by metric name, each
// group written as `# TYPE <name> untyped` followed by `name{labels} value timestamp_ms`
// lines in text exposition format 0.0.4 (or as delimited protobuf MetricFamily messages when
// the Accept header asks for them, see exposition.h); the server's external labels appended to each
// series that lacks them, with `instance=""` added when no external label is called instance (so a
// federating server's target label does not overwrite it); series without a name skipped.
// No match[] federates nothing. A selector that does not parse is 400 with the parser's
// message. A series whose latest sample is a native histogram is skipped (upstream federates
// those as histogram families; Kiln does not serve native histograms yet).
//
// Thread-safe: Serve() runs on many HTTP workers while SetExternalLabels() runs on reload.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/storage/querier.h"
#include "pkg/util/logger.h"
#include "pkg/web/server.h"

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace kiln::web::federate {

class Federation {
 public:
  struct Response {
    int status = 200;
    std::string content_type;
    std::string body;
  };

  // `storage` (and `registry`, when given) must outlive this object. With a registry,
  // prometheus_web_federation_errors_total and _warnings_total are registered in it.
  Federation(storage::Queryable* storage, int64_t lookback_delta_ms, Logger logger,
             prometheus::Registry* registry = nullptr);

  // The global.external_labels of the configuration now loaded.
  void SetExternalLabels(std::map<std::string, std::string> labels);

  // The answer for `match` (the match[] values, in request order) at `now_ms`, in the format
  // the `accept` header (possibly empty) asks for (exposition.h).
  Response Serve(const std::vector<std::string>& match, std::string_view accept,
                 int64_t now_ms) const;

 private:
  Response Failure(const Status& s) const;

  std::shared_ptr<const std::map<std::string, std::string>> ExternalLabels() const;

  storage::Queryable* const storage_;
  const int64_t lookback_delta_ms_;
  const Logger logger_;
  prometheus::Counter* errors_ = nullptr;  // null without a registry
  prometheus::Counter* warnings_ = nullptr;
  mutable std::mutex mu_;  // guards external_labels_ (the pointer, not the map it points to)
  std::shared_ptr<const std::map<std::string, std::string>> external_labels_;
};

// Serves GET /federate (behind readiness, like Prometheus) from `federation`, which must
// outlive the server.
void RegisterFederate(Server* server, const Federation* federation);

}  // namespace kiln::web::federate
