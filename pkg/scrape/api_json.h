// JSON documents for the scrape-related HTTP API endpoints, byte-compatible with upstream's
// web/api/v1 output, so the API layer only forwards them (JsonWriter::Raw):
//   /api/v1/targets           → TargetsJson       (the `data` value)
//   /api/v1/scrape_pools      → ScrapePoolsJson
//   /api/v1/targets/metadata  → TargetsMetadataJson
// Times are printed in UTC. Thread-safe (reads the manager through its thread-safe getters).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/matcher.h"
#include "pkg/scrape/manager.h"

namespace kiln::scrape {

// Where this server is reachable from elsewhere, for a target's globalUrl.
struct GlobalUrlOptions {
  std::string scheme;          // of the external URL, e.g. "http"
  std::string host;            // host:port of the external URL; "" leaves URLs unchanged
  std::string listen_address;  // --web.listen-address, e.g. "0.0.0.0:9090"
};

// A scrape URL as other machines can reach it (upstream's getGlobalURL): a loopback host
// (127.0.0.1, localhost, ::1) becomes the external URL's host, and when the port is this
// server's own listen port the scheme and port become the external URL's too. URLs with
// another host, or without an explicit port, are returned as they are.
std::string GlobalUrl(std::string_view url, const GlobalUrlOptions& opts);

// `state`: "", "any", "active" or "dropped" (upstream's `state` parameter, case-insensitive);
// `scrape_pool`: only that pool when non-empty; `global`: see GlobalUrl.
std::string TargetsJson(const ScrapeManager& m, std::string_view state,
                        std::string_view scrape_pool, const GlobalUrlOptions& global = {});

std::string ScrapePoolsJson(const ScrapeManager& m);

// `match_target`: matchers on the target labels (empty: every target); `metric`: only that
// metric family when non-empty; `limit` < 0 means no limit (checked per target, as upstream).
std::string TargetsMetadataJson(const ScrapeManager& m,
                                const std::vector<model::Matcher>& match_target,
                                std::string_view metric, int64_t limit);

// Go's encoding/json string form ("\u003c" for <, …) and RFC 3339 time of a ms timestamp
// ("0001-01-01T00:00:00Z" for 0), shared with tests.
void AppendJsonString(std::string* out, std::string_view s);
std::string FormatRfc3339Millis(int64_t ms);

}  // namespace kiln::scrape
