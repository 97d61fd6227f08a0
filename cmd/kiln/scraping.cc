#include "cmd/kiln/scraping.h"

#include <charconv>

#include "pkg/scrape/api_json.h"
#include "promql/parser/parser.h"

namespace kiln {

namespace v1 = web::api::v1;

namespace {

v1::ApiResult RawJson(std::string json) {
  v1::ApiResult r;
  r.data = [json = std::move(json)](v1::JsonWriter& w) { w.Raw(json); };
  return r;
}

}  // namespace

void Scraping::Start(storage::Appendable* appendable, prometheus::Registry* registry,
                     const Logger& logger, const config::Config& cfg) {
  {
    std::lock_guard<std::mutex> l(mu_);
    scrape::ScrapeManagerOptions so;
    so.appendable = appendable;
    so.registry = registry;
    so.logger = logger.With({{"component", "scrape manager"}});
    scrape_ = std::make_shared<scrape::ScrapeManager>(so);
    discovery::ManagerOptions dopts;
    dopts.logger = logger.With({{"component", "discovery manager scrape"}});
    std::weak_ptr<scrape::ScrapeManager> weak = scrape_;
    discovery_ = std::make_unique<discovery::Manager>(
        dopts, [weak](const discovery::Manager::TargetSets& sets) {
          if (auto m = weak.lock()) m->UpdateTargets(sets);
        });
  }
  ApplyConfig(cfg);
}

void Scraping::ApplyConfig(const config::Config& cfg) {
  std::lock_guard<std::mutex> l(mu_);
  if (scrape_ == nullptr) return;
  scrape_->ApplyConfig(cfg);
  discovery_->ApplyConfig(scrape::ScrapeManager::DiscoveryConfigs(cfg));
}

void Scraping::Stop() {
  std::lock_guard<std::mutex> l(mu_);
  if (discovery_ != nullptr) discovery_->Stop();
  if (scrape_ != nullptr) scrape_->Stop();
}

std::shared_ptr<scrape::ScrapeManager> Scraping::scrape() const {
  std::lock_guard<std::mutex> l(mu_);
  return scrape_;
}

v1::EndpointHandler Scraping::TargetsHandler(scrape::GlobalUrlOptions global) {
  return [this, global = std::move(global)](const v1::ApiRequest& r) {
    auto m = scrape();
    if (m == nullptr) return RawJson(R"({"activeTargets":[],"droppedTargets":[]})");
    return RawJson(
        scrape::TargetsJson(*m, r.FormValue("state"), r.FormValue("scrapePool"), global));
  };
}

v1::EndpointHandler Scraping::ScrapePoolsHandler() {
  return [this](const v1::ApiRequest&) {
    auto m = scrape();
    if (m == nullptr) return RawJson(R"({"scrapePools":[]})");
    return RawJson(scrape::ScrapePoolsJson(*m));
  };
}

v1::EndpointHandler Scraping::TargetsMetadataHandler() {
  return [this](const v1::ApiRequest& r) {
    int64_t limit = -1;
    if (std::string s = r.FormValue("limit"); !s.empty()) {
      auto res = std::from_chars(s.data(), s.data() + s.size(), limit);
      if (res.ec != std::errc() || res.ptr != s.data() + s.size()) {
        return v1::ApiResult::Error(Status::BadData("limit must be a number"));
      }
    }
    std::vector<model::Matcher> matchers;
    if (std::string sel = r.FormValue("match_target"); !sel.empty()) {
      auto parsed = promql::parser::ParseMetricSelector(sel);
      if (!parsed.ok()) return v1::ApiResult::Error(parsed.status());
      matchers = std::move(*parsed);
    }
    auto m = scrape();
    std::string json =
        m ? scrape::TargetsMetadataJson(*m, matchers, r.FormValue("metric"), limit) : "[]";
    // Upstream answers an empty result with not_found.
    if (json == "[]") return v1::ApiResult::Error(Status::NotFound("specified metadata not found"));
    return RawJson(std::move(json));
  };
}

std::map<std::string, std::vector<model::Metadata>> Scraping::Metadata(std::string_view metric) {
  auto m = scrape();
  if (m == nullptr) return {};
  return m->Metadata(metric);
}

}  // namespace kiln
