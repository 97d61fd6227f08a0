// Metadata endpoints: labels, label/<name>/values, series, metadata, targets/metadata.
#include <algorithm>
#include <set>

#include "pkg/model/labels.h"
#include "pkg/util/utf8.h"
#include "promql/parser/parser.h"
#include "web/api/v1/api.h"
#include "web/api/v1/encode.h"
#include "web/api/v1/params.h"

namespace kiln::web::api::v1 {

namespace {

constexpr char kTruncated[] = "results truncated due to limit";

// The time range and selectors shared by labels, label values and series.
struct MetaParams {
  int64_t limit = 0;
  int64_t start = 0;
  int64_t end = 0;
  std::vector<std::vector<model::Matcher>> sets;
};

// Parses limit, start, end and match[] in upstream's order. `wrap_match` prefixes match[]
// errors with `invalid parameter "match[]"` (series does, labels and values do not).
Status ParseMetaParams(const ApiRequest& r, bool wrap_match, MetaParams* p) {
  auto limit = ParseLimit(r.FormValue("limit"));
  if (!limit.ok()) return InvalidParam("limit", limit.status());
  p->limit = *limit;
  KILN_ASSIGN_OR_RETURN(p->start, ParseTimeParam(r, "start", kApiMinTimeMs));
  KILN_ASSIGN_OR_RETURN(p->end, ParseTimeParam(r, "end", kApiMaxTimeMs));
  auto sets = ParseMatchersParam(r.FormValues("match[]"));
  if (!sets.ok()) return wrap_match ? InvalidParam("match[]", sets.status()) : sets.status();
  p->sets = std::move(*sets);
  return Status::OK();
}

// Runs `lookup` once per matcher set (or once without matchers) and returns the sorted
// union, truncated to `limit` with upstream's warning.
ApiResult StringListResult(
    const MetaParams& p,
    const std::function<Result<std::vector<std::string>>(const std::vector<model::Matcher>&)>&
        lookup) {
  std::vector<std::string> out;
  if (p.sets.size() <= 1) {
    auto v = lookup(p.sets.empty() ? std::vector<model::Matcher>{} : p.sets[0]);
    if (!v.ok()) return ApiResult::Error(v.status());
    out = std::move(*v);
    std::sort(out.begin(), out.end());
  } else {
    std::set<std::string> all;
    for (const auto& set : p.sets) {
      auto v = lookup(set);
      if (!v.ok()) return ApiResult::Error(v.status());
      all.insert(v->begin(), v->end());
    }
    out.assign(all.begin(), all.end());
  }
  ApiResult res;
  if (p.limit > 0 && out.size() > static_cast<size_t>(p.limit)) {
    out.resize(p.limit);
    res.warnings.push_back(kTruncated);
  }
  res.data = [out = std::move(out)](JsonWriter& w) {
    w.BeginArray();
    for (const auto& s : out) w.String(s);
    w.EndArray();
  };
  return res;
}

}  // namespace

ApiResult Api::LabelNames(const ApiRequest& r) const {
  MetaParams p;
  if (Status s = ParseMetaParams(r, false, &p); !s.ok()) return ApiResult::Error(s);
  auto q = deps_.queryable->NewQuerier(p.start, p.end);
  if (!q.ok()) return ApiResult::Error(q.status());
  storage::LabelHints hints;
  hints.limit = p.limit > 0 ? p.limit + 1 : 0;
  return StringListResult(
      p, [&](const std::vector<model::Matcher>& ms) { return (*q)->LabelNames(hints, ms); });
}

ApiResult Api::LabelValues(const ApiRequest& r) const {
  const std::string name = UnescapeLabelName(r.PathParam("name"));
  if (name.empty() || !IsValidUtf8(name)) {
    return ApiResult::Error(Status::BadData("invalid label name: " + GoQuote(name)));
  }
  MetaParams p;
  if (Status s = ParseMetaParams(r, false, &p); !s.ok()) return ApiResult::Error(s);
  auto q = deps_.queryable->NewQuerier(p.start, p.end);
  if (!q.ok()) return ApiResult::Error(q.status());
  storage::LabelHints hints;
  hints.limit = p.limit > 0 ? p.limit + 1 : 0;
  return StringListResult(
      p, [&](const std::vector<model::Matcher>& ms) { return (*q)->LabelValues(name, hints, ms); });
}

ApiResult Api::Series(const ApiRequest& r) const {
  if (r.FormValues("match[]").empty()) {
    return ApiResult::Error(Status::BadData("no match[] parameter provided"));
  }
  MetaParams p;
  if (Status s = ParseMetaParams(r, true, &p); !s.ok()) return ApiResult::Error(s);
  auto q = deps_.queryable->NewQuerier(p.start, p.end);
  if (!q.ok()) return ApiResult::Error(q.status());
  storage::SelectHints hints;
  hints.start = p.start;
  hints.end = p.end;
  hints.func = "series";
  hints.limit = p.limit > 0 ? p.limit + 1 : 0;
  std::vector<model::Labels> series;
  ApiResult res;
  for (const auto& set : p.sets) {
    auto ss = (*q)->Select(true, &hints, set);
    while (ss->Next()) series.push_back(ss->At().labels());
    if (!ss->err().ok()) return ApiResult::Error(ss->err());
    for (auto& w : ss->warnings()) res.warnings.push_back(std::move(w));
  }
  // Several selectors may match the same series: merge as upstream's merging set does.
  std::sort(series.begin(), series.end());
  series.erase(std::unique(series.begin(), series.end()), series.end());
  if (p.limit > 0 && series.size() > static_cast<size_t>(p.limit)) {
    series.resize(p.limit);
    res.warnings.push_back(kTruncated);
  }
  res.data = [series = std::move(series)](JsonWriter& w) {
    w.BeginArray();
    for (const auto& ls : series) WriteLabels(w, ls);
    w.EndArray();
  };
  return res;
}

ApiResult Api::DropSeries(const ApiRequest&) const {
  return ApiResult::Error(Status::Internal("not implemented"));
}

ApiResult Api::Metadata(const ApiRequest& r) const {
  int64_t limit = -1, per_metric = -1;
  auto parse = [&r](std::string_view name, int64_t* out) {
    const std::string v = r.FormValue(name);
    if (v.empty()) return true;
    auto n = ParseLimit(v);  // same integer syntax as strconv.Atoi
    if (!n.ok() && n.status().message() != "limit must be non-negative") return false;
    *out = n.ok() ? *n : -1;
    return true;
  };
  if (!parse("limit", &limit)) {
    return ApiResult::Error(Status::BadData("limit must be a number"));
  }
  if (!parse("limit_per_metric", &per_metric)) {
    return ApiResult::Error(Status::BadData("limit_per_metric must be a number"));
  }
  std::map<std::string, std::vector<model::Metadata>> all;
  if (deps_.metadata != nullptr) all = deps_.metadata->Metadata(r.FormValue("metric"));
  ApiResult res;
  res.data = [all = std::move(all), limit, per_metric](JsonWriter& w) {
    w.BeginObject();
    int64_t metrics = 0;
    for (const auto& [name, list] : all) {
      if (limit >= 0 && metrics >= limit) break;
      ++metrics;
      w.Key(name).BeginArray();
      int64_t n = 0;
      for (const auto& m : list) {
        if (per_metric > 0 && n++ >= per_metric) break;
        w.BeginObject().Key("type").String(model::MetricTypeName(m.type));
        w.Key("help").String(m.help).Key("unit").String(m.unit).EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
  };
  return res;
}

ApiResult Api::TargetsMetadata(const ApiRequest& r) const {
  if (const std::string mt = r.FormValue("match_target"); !mt.empty()) {
    auto ms = promql::parser::ParseMetricSelector(mt);
    if (!ms.ok()) return ApiResult::Error(InvalidParam("match_target", ms.status()));
  }
  if (const std::string l = r.FormValue("limit"); !l.empty()) {
    auto n = ParseLimit(l);
    if (!n.ok() && n.status().message() != "limit must be non-negative") {
      return ApiResult::Error(Status::BadData("limit must be a number"));
    }
  }
  if (deps_.targets_metadata) return deps_.targets_metadata(r);
  ApiResult res;
  res.data = [](JsonWriter& w) { w.BeginArray().EndArray(); };
  return res;
}

}  // namespace kiln::web::api::v1
