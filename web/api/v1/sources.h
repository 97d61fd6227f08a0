// What the API reads from the rest of the server, as small interfaces and value types, so
// each feature (engine, TSDB, scrape, rules) plugs in without the API depending on it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pkg/model/matcher.h"
#include "pkg/model/metadata.h"
#include "pkg/util/result.h"
#include "promql/value.h"

namespace kiln::web::api::v1 {

// One query for the engine. An instant query has start_ms == end_ms and interval_ms == 0.
struct QueryRequest {
  std::string query;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t interval_ms = 0;
  int64_t timeout_ms = 0;         // 0 = the engine's default (--query.timeout)
  int64_t lookback_delta_ms = 0;  // 0 = the engine's default (--query.lookback-delta)
  bool per_step_stats = false;    // stats=all
};

// Prometheus's query stats (promql/stats): timings in seconds.
struct QueryStats {
  double eval_total = 0;
  double result_sort = 0;
  double query_preparation = 0;
  double inner_eval = 0;
  double exec_queue = 0;
  double exec_total = 0;
  int64_t total_queryable_samples = 0;
  int64_t peak_samples = 0;
  std::vector<std::pair<int64_t, int64_t>> samples_per_step;  // (ms, samples), stats=all
};

struct QueryResult {
  promql::Value value;
  std::vector<std::string> warnings;  // rendered annotation texts
  std::vector<std::string> infos;
  QueryStats stats;
};

// The PromQL engine as the API uses it. Thread-safe.
class QueryEngine {
 public:
  virtual ~QueryEngine() = default;
  // Error contract: kBadData means the query text could not be parsed or prepared (the API
  // reports `invalid parameter "query": <message>`); kCanceled, kTimeout, kInternal and
  // kExecution are reported with their errorType.
  virtual Result<QueryResult> Exec(const QueryRequest& req) = 0;
};

// Metric metadata (type, help, unit) known to the server: scraped or remote-written.
// Thread-safe.
class MetadataSource {
 public:
  virtual ~MetadataSource() = default;
  // Distinct metadata per metric family name; only `metric` when it is non-empty.
  virtual std::map<std::string, std::vector<model::Metadata>> Metadata(std::string_view metric) = 0;
};

// /api/v1/status/runtimeinfo. Times are RFC 3339 strings as upstream prints them.
struct RuntimeInfo {
  std::string start_time;
  std::string cwd;
  bool reload_config_success = true;
  std::string last_config_time;
  int64_t corruption_count = 0;
  int64_t goroutine_count = 0;  // threads here
  int64_t gomaxprocs = 0;       // hardware threads
  std::string gogc;
  std::string godebug;
  std::string storage_retention;  // e.g. "15d", "15d or 10GiB"
};

// /api/v1/status/tsdb.
struct TsdbStatus {
  struct Stat {
    std::string name;
    uint64_t value = 0;
  };
  int64_t num_series = 0;
  int64_t num_label_pairs = 0;
  int64_t chunk_count = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
  std::vector<Stat> series_count_by_metric_name;
  std::vector<Stat> label_value_count_by_label_name;
  std::vector<Stat> memory_in_bytes_by_label_name;
  std::vector<Stat> series_count_by_label_value_pair;
};

// /api/v1/status/walreplay: segments replayed so far.
struct WalReplayStatus {
  int64_t min = 0;
  int64_t max = 0;
  int64_t current = 0;
};

// The status pages' sources. Thread-safe.
class StatusSource {
 public:
  virtual ~StatusSource() = default;
  virtual std::string ConfigYaml() = 0;
  // Every flag: name without dashes → value, sorted by name.
  virtual std::map<std::string, std::string> Flags() = 0;
  virtual RuntimeInfo Runtime() = 0;
  // Head statistics with the top `limit` entries of each cardinality list.
  virtual Result<TsdbStatus> Tsdb(int64_t limit) = 0;
  virtual WalReplayStatus WalReplay() = 0;
};

// The admin API's storage operations (--web.enable-admin-api). Thread-safe.
class TsdbAdmin {
 public:
  virtual ~TsdbAdmin() = default;
  // Returns the snapshot's directory name, e.g. "20171210T211224Z-2be650b6d019eb54".
  virtual Result<std::string> Snapshot(bool skip_head) = 0;
  virtual Status DeleteSeries(int64_t mint, int64_t maxt,
                              const std::vector<model::Matcher>& matchers) = 0;
  virtual Status CleanTombstones() = 0;
};

}  // namespace kiln::web::api::v1
