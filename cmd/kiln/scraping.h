// Scraping: service discovery feeding the scrape manager, and the API endpoints that show
// them (/api/v1/targets, /api/v1/scrape_pools, /api/v1/targets/metadata).
//
// Start() runs once storage is open; ApplyConfig() on every successful (re)load. The API
// handlers may be registered before Start(): until then they answer empty results.
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>

#include "pkg/config/config.h"
#include "pkg/discovery/manager.h"
#include "pkg/scrape/api_json.h"
#include "pkg/scrape/manager.h"
#include "web/api/v1/api.h"

namespace kiln {

// Also the scrape targets' metadata source of /api/v1/metadata, as Prometheus's.
class Scraping final : public web::api::v1::MetadataSource {
 public:
  Scraping() = default;
  ~Scraping() override { Stop(); }
  Scraping(const Scraping&) = delete;
  Scraping& operator=(const Scraping&) = delete;

  void Start(storage::Appendable* appendable, prometheus::Registry* registry,
             const Logger& logger, const config::Config& cfg);
  void ApplyConfig(const config::Config& cfg);
  // Discovery first, so no update reaches a stopped scrape manager.
  void Stop();

  // `global`: how targets' globalUrl is derived (scrape::GlobalUrl).
  web::api::v1::EndpointHandler TargetsHandler(scrape::GlobalUrlOptions global);
  web::api::v1::EndpointHandler ScrapePoolsHandler();
  web::api::v1::EndpointHandler TargetsMetadataHandler();

  // Distinct metadata per family across the active targets; empty before Start().
  std::map<std::string, std::vector<model::Metadata>> Metadata(std::string_view metric) override;

 private:
  std::shared_ptr<scrape::ScrapeManager> scrape() const;

  mutable std::mutex mu_;
  std::shared_ptr<scrape::ScrapeManager> scrape_;  // guarded by mu_
  std::unique_ptr<discovery::Manager> discovery_;  // guarded by mu_
};

}  // namespace kiln
