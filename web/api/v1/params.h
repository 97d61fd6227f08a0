// Parameter parsing with Prometheus's API rules and error texts (web/api/v1/api.go):
// times, durations, limits and match[] selectors. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/matcher.h"
#include "pkg/util/result.h"
#include "web/api/v1/request.h"

namespace kiln::web::api::v1 {

// The defaults of `start`/`end` on metadata endpoints: upstream's minTime and maxTime
// (year -292273086 and 292277025) in milliseconds.
inline constexpr int64_t kApiMinTimeMs = -9223309901257974000LL;
inline constexpr int64_t kApiMaxTimeMs = 9223309901257974999LL;

// A time as float Unix seconds (fraction rounded to milliseconds as upstream does) or
// RFC 3339 with up to nine fractional digits and a zone, or one of upstream's two boundary
// strings. Returns milliseconds. Error: `cannot parse "x" to a valid timestamp`.
// Non-finite numbers are refused (upstream turns them into an overflowed time).
Result<int64_t> ParseTime(std::string_view s);

// The time parameter `name`, or `dflt` when empty. Error (bad data) reads as upstream's
// parseTimeParam wrapped by its handler: `invalid parameter "time": Invalid time value for
// 'time': cannot parse "x" to a valid timestamp`.
Result<int64_t> ParseTimeParam(const ApiRequest& r, std::string_view name, int64_t dflt);

// A duration as float seconds or a Prometheus duration ("1h30m"); returns nanoseconds, as
// upstream keeps a time.Duration. Errors: `cannot parse "x" to a valid duration`, and
// `cannot parse "x" to a valid duration. It overflows int64`.
Result<int64_t> ParseDurationNs(std::string_view s);

// The `limit` parameter of labels, label values, series and query: "" or 0 means no limit
// (returns 0). Errors: strconv.Atoi's text, or "limit must be non-negative".
Result<int64_t> ParseLimit(std::string_view s);

// Each match[] value parsed as a series selector. A selector whose matchers all match the
// empty string is refused ("match[] must contain at least one non-empty matcher"). Errors
// are bare (`1:4: parse error: …`): series wraps them as an invalid parameter, labels and
// label values do not — as upstream.
Result<std::vector<std::vector<model::Matcher>>> ParseMatchersParam(
    const std::vector<std::string>& values);

// A bad_data Status reading `invalid parameter "<name>": <message of err>`.
Status InvalidParam(std::string_view name, const Status& err);
Status InvalidParam(std::string_view name, std::string_view message);

// Prometheus's "U__" value-encoding escape of label names in URL paths: after the prefix,
// "__" is "_" and "_<hex>_" is that code point. A malformed name is returned as given.
std::string UnescapeLabelName(std::string_view name);

// Go's strconv.Quote, for error texts that use %q.
std::string GoQuote(std::string_view s);

}  // namespace kiln::web::api::v1
