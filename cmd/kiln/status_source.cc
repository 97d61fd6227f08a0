#include "cmd/kiln/status_source.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "web/api/v1/server_status.h"

namespace kiln {

namespace {

int64_t ThreadCount() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "Threads:") {
      int64_t n = 0;
      in >> n;
      return n;
    }
  }
  return 0;
}

std::vector<web::api::v1::TsdbStatus::Stat> ToStats(const std::vector<tsdb::PostingsStat>& in) {
  std::vector<web::api::v1::TsdbStatus::Stat> out;
  for (const auto& s : in) out.push_back({s.name, s.count});
  return out;
}

}  // namespace

// Go's time.RFC3339Nano (trailing zeros trimmed), as upstream prints startTime.
KilnStatus::KilnStatus(const web::Flags& flags)
    : flags_(flags), start_time_(web::api::v1::FormatRfc3339(std::chrono::system_clock::now())) {}

void KilnStatus::ConfigLoaded(bool ok, std::string yaml) {
  std::lock_guard<std::mutex> l(mu_);
  last_reload_ok_ = ok;
  if (!ok) return;
  config_yaml_ = std::move(yaml);
  // Whole seconds, as upstream reads it back from the reload timestamp metric.
  last_config_time_ = web::api::v1::FormatRfc3339(std::chrono::system_clock::now(), true);
}

std::string KilnStatus::ConfigYaml() {
  std::lock_guard<std::mutex> l(mu_);
  return config_yaml_;
}

web::api::v1::RuntimeInfo KilnStatus::Runtime() {
  web::api::v1::RuntimeInfo ri;
  ri.start_time = start_time_;
  char cwd[4096];
  ri.cwd = getcwd(cwd, sizeof cwd) != nullptr ? cwd : "";
  {
    std::lock_guard<std::mutex> l(mu_);
    ri.reload_config_success = last_reload_ok_;
    ri.last_config_time = last_config_time_;
  }
  ri.goroutine_count = ThreadCount();
  ri.gomaxprocs = std::thread::hardware_concurrency();
  // Upstream prints the effective retention (retention.time, else the deprecated flag, else
  // 15d without a size limit) and the size limit, each in Go's String() form.
  const int64_t time = flags_.EffectiveRetentionMs();
  ri.storage_retention = time != 0 ? web::FormatPromDuration(time) : "";
  if (flags_.retention_size_bytes != 0) {
    ri.storage_retention += (ri.storage_retention.empty() ? "" : " or ") +
                            web::FormatByteSize(flags_.retention_size_bytes);
  }
  return ri;
}

Result<web::api::v1::TsdbStatus> KilnStatus::Tsdb(int64_t limit) {
  tsdb::Head* head = head_.load(std::memory_order_acquire);
  if (head == nullptr) return Status::Unavailable("TSDB not ready");
  tsdb::HeadStats hs = head->Stats(static_cast<size_t>(limit));
  web::api::v1::TsdbStatus st;
  st.num_series = static_cast<int64_t>(hs.num_series);
  st.num_label_pairs = static_cast<int64_t>(hs.postings.num_label_pairs);
  st.chunk_count = static_cast<int64_t>(hs.chunk_count);
  st.min_time = hs.min_time;
  st.max_time = hs.max_time;
  st.series_count_by_metric_name = ToStats(hs.postings.series_count_by_metric_name);
  st.label_value_count_by_label_name = ToStats(hs.postings.label_value_count_by_label_name);
  st.memory_in_bytes_by_label_name = ToStats(hs.postings.memory_in_bytes_by_label_name);
  st.series_count_by_label_value_pair = ToStats(hs.postings.series_count_by_label_value_pair);
  return st;
}

}  // namespace kiln
