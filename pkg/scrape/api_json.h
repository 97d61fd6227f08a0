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

// `state`: "", "any", "active" or "dropped" (upstream's `state` parameter, case-insensitive);
// `scrape_pool`: only that pool when non-empty.
std::string TargetsJson(const ScrapeManager& m, std::string_view state,
                        std::string_view scrape_pool);

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
