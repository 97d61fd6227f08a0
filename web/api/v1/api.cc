#include "web/api/v1/api.h"

#include <chrono>

#include "pkg/web/api_error.h"

namespace kiln::web::api::v1 {

namespace {

void WriteStrings(JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
  if (v.empty()) return;  // upstream's omitempty
  w.Key(key).BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path[0] == '/') {
      path.remove_prefix(1);
      continue;
    }
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return out;
}

// Whether `path` matches the route pattern, binding ":name" segments into `params`.
bool MatchRoute(std::string_view pattern, std::string_view path, std::vector<Param>* params) {
  const auto want = SplitPath(pattern);
  const auto got = SplitPath(path);
  if (want.size() != got.size() || path.empty() || path.back() == '/') return false;
  std::vector<Param> bound;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!want[i].empty() && want[i][0] == ':') {
      bound.emplace_back(std::string(want[i].substr(1)), std::string(got[i]));
    } else if (want[i] != got[i]) {
      return false;
    }
  }
  *params = std::move(bound);
  return true;
}

ApiResponse PlainText(int status, std::string body) {
  ApiResponse res;
  res.status = status;
  res.content_type = "text/plain; charset=utf-8";
  res.body = std::move(body);
  return res;
}

}  // namespace

ApiResponse Respond(ApiResult result) {
  ApiResponse res;
  if (!result.error.ok()) {
    const ApiErrorKind kind = MapStatus(result.error);
    res.status = kind.http_status;
    std::string type(kind.error_type), message = result.error.message();
    res.json = [type = std::move(type), message = std::move(message)](JsonWriter& w) {
      w.BeginObject().Key("status").String("error");
      w.Key("errorType").String(type).Key("error").String(message);
      w.EndObject();
    };
    return res;
  }
  if (result.no_content) {
    res.status = 204;
    return res;
  }
  res.json = [r = std::move(result)](JsonWriter& w) {
    w.BeginObject().Key("status").String("success");
    if (r.data) {
      w.Key("data");
      r.data(w);
    }
    WriteStrings(w, "warnings", r.warnings);
    WriteStrings(w, "infos", r.infos);
    w.EndObject();
  };
  return res;
}

const std::vector<Api::Route>& Api::Routes() {
  static const std::vector<Route> kRoutes = {
      {{"GET", "POST"}, "/query", &Api::Query},
      {{"GET", "POST"}, "/query_range", &Api::QueryRange},
      {{"GET", "POST"}, "/query_exemplars", &Api::QueryExemplars},
      {{"GET", "POST"}, "/format_query", &Api::FormatQuery},
      {{"GET", "POST"}, "/parse_query", &Api::ParseQuery},
      {{"GET", "POST"}, "/labels", &Api::LabelNames},
      {{"GET"}, "/label/:name/values", &Api::LabelValues},
      {{"GET", "POST"}, "/series", &Api::Series},
      {{"DELETE"}, "/series", &Api::DropSeries},
      {{"GET"}, "/metadata", &Api::Metadata},
      {{"GET"}, "/targets/metadata", &Api::TargetsMetadata},
      {{"GET"}, "/targets", &Api::Targets},
      {{"GET"}, "/scrape_pools", &Api::ScrapePools},
      {{"GET"}, "/rules", &Api::Rules},
      {{"GET"}, "/alerts", &Api::Alerts},
      {{"GET"}, "/alertmanagers", &Api::Alertmanagers},
      {{"GET"}, "/status/buildinfo", &Api::BuildInfoPage},
      {{"GET"}, "/status/config", &Api::Config},
      {{"GET"}, "/status/flags", &Api::FlagsStatus},
      {{"GET"}, "/status/runtimeinfo", &Api::RuntimeInfoStatus},
      {{"GET"}, "/status/tsdb", &Api::TsdbStatusPage},
      {{"GET"}, "/status/walreplay", &Api::WalReplay},
      {{"POST", "PUT"}, "/admin/tsdb/snapshot", &Api::Snapshot},
      {{"POST", "PUT"}, "/admin/tsdb/delete_series", &Api::DeleteSeries},
      {{"POST", "PUT"}, "/admin/tsdb/clean_tombstones", &Api::CleanTombstones},
  };
  return kRoutes;
}

ApiResponse Api::Handle(std::string_view path, ApiRequest req) const {
  bool path_known = false;
  for (const auto& route : Routes()) {
    std::vector<Param> params;
    if (!MatchRoute(route.path, path, &params)) continue;
    path_known = true;
    bool method_ok = false;
    for (const auto& m : route.methods) {
      method_ok = method_ok || m == req.method;  // as Go's router: GET does not serve HEAD
    }
    if (!method_ok) continue;
    req.path_params = std::move(params);
    return Respond((this->*route.handler)(req));
  }
  if (path_known) return PlainText(405, "Method Not Allowed\n");
  return PlainText(404, "404 page not found\n");
}

int64_t Api::NowMs() const {
  if (deps_.now_ms) return deps_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace kiln::web::api::v1
