// HttpScraper: fetches one target's metrics page over HTTP(S), as upstream's targetScraper.
//
// Request headers: Accept (from scrape_protocols, config::ScrapeAcceptHeader),
// Accept-Encoding: gzip (identity when enable_compression is false), User-Agent
// "Prometheus/<version>" (some exporters and proxies key on it, so Kiln sends what the
// Prometheus release it mirrors sends), X-Prometheus-Scrape-Timeout-Seconds, plus the
// configured auth and http_headers. Gzip bodies are inflated by the client; body_size_limit
// applies to the inflated size. The connection is kept alive between scrapes.
//
// Not thread-safe: one per scrape loop.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "pkg/config/scrape_config.h"
#include "pkg/discovery/http_client.h"
#include "pkg/scrape/target.h"

namespace kiln::scrape {

inline constexpr std::string_view kUserAgent = "Prometheus/2.42.0";

class HttpScraper {
 public:
  // `accept` is the full Accept header value.
  HttpScraper(const Target& target, const config::ScrapeConfig& cfg, std::string accept);

  // Fetches the page into `*body` (cleared first, capacity reused) and its Content-Type.
  // Errors: kUnavailable for connection problems and non-200 answers ("server returned HTTP
  // status 500 Internal Server Error"), kLimitExceeded for body_size_limit, kTimeout.
  Status Scrape(std::string* body, std::string* content_type);

 private:
  Status Connect();

  const config::HTTPClientConfig http_;
  const std::string scheme_;
  const std::string host_port_;
  const std::string path_query_;
  const std::chrono::milliseconds timeout_;
  const int64_t body_size_limit_;  // 0 = none
  httplib::Headers headers_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace kiln::scrape
