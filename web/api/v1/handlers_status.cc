// Status, not-yet-built features (targets, rules, alerts …) and the admin API.
#include <limits>

#include "promql/parser/parser.h"
#include "web/api/v1/api.h"
#include "web/api/v1/params.h"

namespace kiln::web::api::v1 {

namespace {

ApiResult Data(std::function<void(JsonWriter&)> fn) {
  ApiResult res;
  res.data = std::move(fn);
  return res;
}

// Upstream's answer for a feature with nothing in it: an object of empty lists.
ApiResult EmptyLists(std::vector<std::string> keys) {
  return Data([keys = std::move(keys)](JsonWriter& w) {
    w.BeginObject();
    for (const auto& k : keys) w.Key(k).BeginArray().EndArray();
    w.EndObject();
  });
}

void WriteStats(JsonWriter& w, std::string_view key, const std::vector<TsdbStatus::Stat>& v) {
  w.Key(key).BeginArray();
  for (const auto& s : v)
    w.BeginObject().Key("name").String(s.name).Key("value").Uint(s.value).EndObject();
  w.EndArray();
}

Status AdminDisabled() { return Status::Unavailable("admin APIs disabled"); }

// Go's strconv.ParseBool.
bool ParseGoBool(std::string_view s, bool* out) {
  static constexpr std::string_view kTrue[] = {"1", "t", "T", "TRUE", "true", "True"};
  static constexpr std::string_view kFalse[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (auto t : kTrue) {
    if (s == t) return *out = true, true;
  }
  for (auto f : kFalse) {
    if (s == f) return *out = false, true;
  }
  return false;
}

}  // namespace

ApiResult Api::Targets(const ApiRequest& r) const {
  if (deps_.targets) return deps_.targets(r);
  return EmptyLists({"activeTargets", "droppedTargets"});
}

ApiResult Api::ScrapePools(const ApiRequest& r) const {
  if (deps_.scrape_pools) return deps_.scrape_pools(r);
  return EmptyLists({"scrapePools"});
}

ApiResult Api::Rules(const ApiRequest& r) const {
  if (deps_.rules) return deps_.rules(r);
  return EmptyLists({"groups"});
}

ApiResult Api::Alerts(const ApiRequest& r) const {
  if (deps_.alerts) return deps_.alerts(r);
  return EmptyLists({"alerts"});
}

ApiResult Api::Alertmanagers(const ApiRequest& r) const {
  if (deps_.alertmanagers) return deps_.alertmanagers(r);
  return EmptyLists({"activeAlertmanagers", "droppedAlertmanagers"});
}

ApiResult Api::BuildInfoPage(const ApiRequest&) const {
  return Data([b = deps_.build_info](JsonWriter& w) {
    // Exactly Prometheus's six fields: Grafana reads a `features` key as "this is Mimir".
    w.BeginObject().Key("version").String(b.version).Key("revision").String(b.revision);
    w.Key("branch").String(b.branch).Key("buildUser").String(b.build_user);
    w.Key("buildDate").String(b.build_date).Key("goVersion").String(b.go_version);
    w.EndObject();
  });
}

ApiResult Api::Config(const ApiRequest&) const {
  std::string yaml = deps_.status != nullptr ? deps_.status->ConfigYaml() : "";
  return Data([yaml = std::move(yaml)](JsonWriter& w) {
    w.BeginObject().Key("yaml").String(yaml).EndObject();
  });
}

ApiResult Api::FlagsStatus(const ApiRequest&) const {
  std::map<std::string, std::string> flags;
  if (deps_.status != nullptr) flags = deps_.status->Flags();
  return Data([flags = std::move(flags)](JsonWriter& w) {
    w.BeginObject();
    for (const auto& [k, v] : flags) w.Key(k).String(v);
    w.EndObject();
  });
}

ApiResult Api::RuntimeInfoStatus(const ApiRequest&) const {
  RuntimeInfo ri;
  if (deps_.status != nullptr) ri = deps_.status->Runtime();
  return Data([ri = std::move(ri)](JsonWriter& w) {
    w.BeginObject().Key("startTime").String(ri.start_time).Key("CWD").String(ri.cwd);
    w.Key("reloadConfigSuccess").Bool(ri.reload_config_success);
    w.Key("lastConfigTime").String(ri.last_config_time);
    w.Key("corruptionCount").Int(ri.corruption_count);
    w.Key("goroutineCount").Int(ri.goroutine_count).Key("GOMAXPROCS").Int(ri.gomaxprocs);
    w.Key("GOGC").String(ri.gogc).Key("GODEBUG").String(ri.godebug);
    w.Key("storageRetention").String(ri.storage_retention);
    w.EndObject();
  });
}

ApiResult Api::TsdbStatusPage(const ApiRequest& r) const {
  int64_t limit = 10;
  if (const std::string l = r.FormValue("limit"); !l.empty()) {
    auto n = ParseLimit(l);
    if (!n.ok() || *n < 1) {
      return ApiResult::Error(Status::BadData("limit must be a positive number"));
    }
    limit = *n;
  }
  TsdbStatus st;
  // An empty head reports upstream's inverted range.
  st.min_time = std::numeric_limits<int64_t>::max();
  st.max_time = std::numeric_limits<int64_t>::min();
  if (deps_.status != nullptr) {
    auto got = deps_.status->Tsdb(limit);
    if (!got.ok()) return ApiResult::Error(got.status());
    st = std::move(*got);
  }
  return Data([st = std::move(st)](JsonWriter& w) {
    w.BeginObject().Key("headStats").BeginObject();
    w.Key("numSeries").Int(st.num_series).Key("numLabelPairs").Int(st.num_label_pairs);
    w.Key("chunkCount").Int(st.chunk_count).Key("minTime").Int(st.min_time);
    w.Key("maxTime").Int(st.max_time).EndObject();
    WriteStats(w, "seriesCountByMetricName", st.series_count_by_metric_name);
    WriteStats(w, "labelValueCountByLabelName", st.label_value_count_by_label_name);
    WriteStats(w, "memoryInBytesByLabelName", st.memory_in_bytes_by_label_name);
    WriteStats(w, "seriesCountByLabelValuePair", st.series_count_by_label_value_pair);
    w.EndObject();
  });
}

ApiResult Api::WalReplay(const ApiRequest&) const {
  WalReplayStatus s;
  if (deps_.status != nullptr) s = deps_.status->WalReplay();
  return Data([s](JsonWriter& w) {
    w.BeginObject().Key("min").Int(s.min).Key("max").Int(s.max);
    w.Key("current").Int(s.current).EndObject();
  });
}

ApiResult Api::Snapshot(const ApiRequest& r) const {
  if (deps_.admin == nullptr) return ApiResult::Error(AdminDisabled());
  bool skip_head = false;
  if (const std::string v = r.FormValue("skip_head"); !v.empty() && !ParseGoBool(v, &skip_head)) {
    return ApiResult::Error(
        Status::BadData("unable to parse boolean 'skip_head' argument: "
                        "strconv.ParseBool: parsing " +
                        GoQuote(v) + ": invalid syntax"));
  }
  auto name = deps_.admin->Snapshot(skip_head);
  if (!name.ok()) {
    return ApiResult::Error(Status::Internal("create snapshot: " + name.status().message()));
  }
  return Data([name = std::move(*name)](JsonWriter& w) {
    w.BeginObject().Key("name").String(name).EndObject();
  });
}

ApiResult Api::DeleteSeries(const ApiRequest& r) const {
  if (deps_.admin == nullptr) return ApiResult::Error(AdminDisabled());
  const std::vector<std::string> match = r.FormValues("match[]");
  if (match.empty()) return ApiResult::Error(Status::BadData("no match[] parameter provided"));
  auto start = ParseTimeParam(r, "start", kApiMinTimeMs);
  if (!start.ok()) return ApiResult::Error(start.status());
  auto end = ParseTimeParam(r, "end", kApiMaxTimeMs);
  if (!end.ok()) return ApiResult::Error(end.status());
  for (const auto& s : match) {
    auto ms = promql::parser::ParseMetricSelector(s);
    if (!ms.ok()) return ApiResult::Error(ms.status());
    if (Status st = deps_.admin->DeleteSeries(*start, *end, *ms); !st.ok()) {
      return ApiResult::Error(Status::Internal(st.message()));
    }
  }
  ApiResult res;
  res.no_content = true;
  return res;
}

ApiResult Api::CleanTombstones(const ApiRequest&) const {
  if (deps_.admin == nullptr) return ApiResult::Error(AdminDisabled());
  if (Status st = deps_.admin->CleanTombstones(); !st.ok()) {
    return ApiResult::Error(Status::Internal(st.message()));
  }
  ApiResult res;
  res.no_content = true;
  return res;
}

}  // namespace kiln::web::api::v1
