#include "pkg/discovery/http_discoverer.h"

#include "pkg/util/float_format.h"

namespace kiln::discovery {
namespace {

// Upstream's timeout for one SD request.
constexpr std::chrono::seconds kRequestTimeout(30);

bool IsJsonContentType(const std::string& ct) {
  constexpr std::string_view kJson = "application/json";
  if (ct.compare(0, kJson.size(), kJson) != 0) return false;
  return ct.size() == kJson.size() || ct[kJson.size()] == ';';
}

}  // namespace

Result<std::vector<TargetGroup>> HttpDiscoverer::Refresh() {
  KILN_ASSIGN_OR_RETURN(ParsedUrl url, ParseUrl(cfg_.url));
  KILN_ASSIGN_OR_RETURN(auto client,
                        NewHttpClient(cfg_.http, url.scheme, url.host_port, kRequestTimeout));
  httplib::Headers headers{
      {"Accept", "application/json"},
      {"User-Agent", "Prometheus/2.42.0"},
      {"X-Prometheus-Refresh-Interval-Seconds", FormatFloatF(cfg_.refresh_interval.seconds())}};
  KILN_RETURN_IF_ERROR(AddConfiguredHeaders(cfg_.http, &headers));
  httplib::Result res = client->Get(url.path_query, headers);
  if (!res) {
    return Status::Unavailable("server returned an error: " + httplib::to_string(res.error()));
  }
  if (res->status != 200) {
    return Status::Unavailable("server returned HTTP status " + std::to_string(res->status));
  }
  std::string ct = res->get_header_value("Content-Type");
  if (!IsJsonContentType(ct)) {
    return Status::BadData("unsupported content type \"" + ct + "\"");
  }
  KILN_ASSIGN_OR_RETURN(std::vector<TargetGroup> groups, ParseTargetGroups(res->body));
  for (size_t i = 0; i < groups.size(); ++i) {
    groups[i].source = cfg_.url + ":" + std::to_string(i);
    model::LabelsBuilder b(groups[i].labels);
    b.Set("__meta_url", cfg_.url);
    groups[i].labels = b.Build();
  }
  return groups;
}

}  // namespace kiln::discovery
