// PromQL values and query stats in Prometheus's API JSON (web/api/v1/json_codec.go and
// util/jsonutil upstream): timestamps as float seconds, sample values as strings in Go's
// 'f' format ("NaN", "+Inf") or 'e' below 1e-6 and from 1e21, labels as an object. Thread-safe
// (pure functions).
#pragma once

#include <cstdint>

#include "pkg/model/labels.h"
#include "promql/value.h"
#include "web/api/v1/json_writer.h"
#include "web/api/v1/sources.h"

namespace kiln::web::api::v1 {

// Milliseconds as upstream prints them: 1435781451781 → 1435781451.781, 1500 → 1.500,
// 4000 → 4.
void WriteTimestamp(JsonWriter& w, int64_t ms);
// A sample value as a JSON string: "1.5", "NaN", "+Inf", "-Inf", "1e-07", "1e+21".
void WriteSampleValue(JsonWriter& w, double v);
// {"__name__":"up","job":"x"} in label order.
void WriteLabels(JsonWriter& w, const model::Labels& ls);
// [1435781451.781,"1.5"]
void WriteFloatPoint(JsonWriter& w, int64_t ms, double v);
// {"count":"…","sum":"…","buckets":[[boundaries,"lower","upper","count"],…]}
void WriteHistogram(JsonWriter& w, const promql::FloatHistogram& h);

// The `result` of a query: a vector, matrix, scalar or string in upstream's layout.
void WriteResult(JsonWriter& w, const promql::Value& v);
// "vector", "matrix", "scalar" or "string".
const char* ResultTypeName(const promql::Value& v);
// {"timings":{…},"samples":{…}}; the per-step list only when `per_step`.
void WriteQueryStats(JsonWriter& w, const QueryStats& s, bool per_step);

}  // namespace kiln::web::api::v1
