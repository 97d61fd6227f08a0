// kiln: the Prometheus-compatible server. This file only wires components together:
// flags → logger → config → web server with API v1 (listening, not ready) → TSDB (blocks, WAL
// replay) → ready → wait for SIGTERM/SIGINT/quit (SIGHUP/reload reloads the config) → stop in
// order.
#include <prometheus/registry.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "cmd/kiln/deferred_storage.h"
#include "cmd/kiln/scraping.h"
#include "cmd/kiln/status_source.h"
#include "cmd/kiln/tsdb_admin.h"
#include "pkg/config/config.h"
#include "pkg/remote/read_handler.h"
#include "pkg/remote/write_handler.h"
#include "pkg/tsdb/db.h"
#include "pkg/web/flags.h"
#include "pkg/web/server.h"
#include "pkg/web/standard_routes.h"
#include "pkg/web/version.h"
#include "pkg/web/web_security.h"
#include "promql/engine.h"
#include "web/api/v1/engine_adapter.h"
#include "web/api/v1/family_metadata.h"
#include "web/api/v1/layered_metadata.h"
#include "web/api/v1/register.h"
#include "web/api/v1/series_metadata.h"
#include "web/federate/federate.h"

namespace kiln {
namespace {

// Set by /-/quit before it raises SIGTERM, so the log says where the request came from.
std::atomic<bool> g_quit_via_web{false};

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

Status ReloadConfig(const web::Flags& flags, const Logger& logger, KilnStatus* status,
                    Scraping* scraping, web::federate::Federation* federation) {
  logger.Info("Loading configuration file", {{"filename", flags.config_file}});
  Result<config::Config> cfg = config::LoadFile(flags.config_file);
  status->ConfigLoaded(cfg.ok(), cfg.ok() ? cfg->ToYaml() : "");
  if (!cfg.ok()) {
    logger.Error("Error reloading config", {{"err", cfg.status().message()}});
    return cfg.status().Wrap("couldn't load configuration (--config.file=\"" + flags.config_file +
                             "\")");
  }
  for (const std::string& w : cfg->Warnings()) logger.Warn(w);
  scraping->ApplyConfig(*cfg);
  federation->SetExternalLabels(cfg->global.external_labels);
  logger.Info("Completed loading of configuration file", {{"filename", flags.config_file}});
  return Status::OK();
}

// Blocks until SIGTERM or SIGINT; SIGHUP reloads the configuration.
void WaitForTermination(const web::Flags& flags, const Logger& logger, KilnStatus* status,
                        Scraping* scraping, web::federate::Federation* federation) {
  sigset_t set = HandledSignals();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      (void)ReloadConfig(flags, logger, status, scraping, federation);
      continue;
    }
    if (g_quit_via_web.load()) {
      logger.Warn("Received termination request via web service, exiting gracefully...");
    } else {
      logger.Warn(sig == SIGINT ? "Received SIGINT, exiting gracefully..."
                                : "Received SIGTERM, exiting gracefully...");
    }
    return;
  }
}

web::Server::Options ServerOptions(const web::Flags& flags) {
  web::Server::Options o;
  o.listen_address = flags.listen_address;
  o.route_prefix = flags.RoutePrefix();
  o.worker_threads = 32;
  o.max_queued_connections = static_cast<size_t>(std::max(1, flags.max_connections));
  // Whole seconds (httplib's unit), rounded up so a sub-second timeout is not "none".
  o.read_timeout_sec =
      static_cast<int>(std::max<int64_t>(1, (flags.read_timeout_ms + 999) / 1000));
  o.web_config_file = flags.web_config_file;
  return o;
}

promql::EngineOptions EngineOptions(const web::Flags& flags, const config::Config& cfg) {
  promql::EngineOptions o;
  o.max_samples = flags.query_max_samples;
  o.timeout = std::chrono::milliseconds(flags.query_timeout_ms);
  o.lookback_delta = flags.lookback_delta_ms;
  o.enable_delayed_name_removal = flags.FeatureEnabled("promql-delayed-name-removal");
  o.no_step_subquery_interval = cfg.global.evaluation_interval.millis();
  o.parser_options.experimental_functions = flags.FeatureEnabled("promql-experimental-functions");
  o.parser_options.duration_expressions = flags.FeatureEnabled("promql-duration-expr");
  return o;
}

// The DB options Prometheus derives from its storage flags (cmd/prometheus/main.go).
tsdb::DBOptions StorageOptions(const web::Flags& flags, prometheus::Registry* registry,
                               const Logger& logger) {
  tsdb::DBOptions o;
  o.retention_duration = flags.EffectiveRetentionMs();
  o.max_bytes = flags.retention_size_bytes;
  o.min_block_duration = flags.min_block_duration_ms;
  o.max_block_duration = flags.EffectiveMaxBlockDurationMs();
  o.no_lockfile = flags.tsdb_no_lockfile;
  o.head.wal_compression = flags.tsdb_wal_compression;
  if (flags.tsdb_wal_segment_size != 0) o.head.wal_segment_size = flags.tsdb_wal_segment_size;
  o.head.chunk_range = flags.min_block_duration_ms;
  o.head.registry = registry;
  o.logger = logger.With({{"component", "tsdb"}});
  return o;
}

Result<std::unique_ptr<tsdb::DB>> OpenStorage(const web::Flags& flags,
                                              prometheus::Registry* registry,
                                              const Logger& logger) {
  if (flags.retention_deprecated_ms != 0) {
    logger.Warn(
        "'storage.tsdb.retention' flag is deprecated use 'storage.tsdb.retention.time' "
        "instead.");
  }
  if (flags.min_block_duration_ms <= 0) {
    logger.Error("Opening storage failed", {{"err", "min block duration must be positive"}});
    return Status::BadData("--storage.tsdb.min-block-duration must be positive");
  }
  logger.Info("Starting TSDB ...");
  const tsdb::DBOptions opts = StorageOptions(flags, registry, logger);
  Result<std::unique_ptr<tsdb::DB>> db = tsdb::DB::Open(flags.tsdb_path, opts);
  if (!db.ok()) {
    logger.Error("Opening storage failed", {{"err", db.status().ToString()}});
    return db;
  }
  logger.Info("TSDB started");
  return db;
}

// Upstream's computeExternalURL, for targets' globalUrl: --web.external-url, else
// http://<hostname>:<listen port>.
scrape::GlobalUrlOptions GlobalUrls(const web::Flags& flags) {
  scrape::GlobalUrlOptions o;
  o.listen_address = flags.listen_address;
  std::string url = flags.external_url;
  if (url.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) return o;
    const size_t colon = flags.listen_address.rfind(':');
    if (colon == std::string::npos) return o;
    url = "http://" + std::string(host) + ":" + flags.listen_address.substr(colon + 1);
  }
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return o;
  const size_t host_start = scheme_end + 3;
  const size_t host_end = std::min(url.find('/', host_start), url.size());
  o.scheme = url.substr(0, scheme_end);
  o.host = url.substr(host_start, host_end - host_start);
  return o;
}

// Everything the web server's routes reference; lives as long as the server.
struct Components {
  Components(const web::Flags& flags, const config::Config& cfg, const Logger& web_logger)
      : status(flags),
        write_handler(&storage, &registry, web_logger, WriteOptions(this)),
        read_handler(&storage, web_logger, ReadOptions(flags)),
        engine(EngineOptions(flags, cfg)),
        query_gate(flags.query_max_concurrency),
        query_engine(&engine, &storage, &query_gate),
        metadata(&storage,
                 [this](const model::Labels& ls, model::Metadata* md) {
                   tsdb::Head* h = head.load();
                   return h != nullptr && h->GetMetadata(ls, md);
                 }),
        federation(&storage, flags.lookback_delta_ms, web_logger, &registry) {}

  static remote::ReadHandler::Options ReadOptions(const web::Flags& flags) {
    remote::ReadHandler::Options opts;
    opts.sample_limit = flags.remote_read_sample_limit;
    opts.max_bytes_in_frame = static_cast<size_t>(flags.remote_read_max_bytes_in_frame);
    return opts;
  }

  static remote::WriteHandler::Options WriteOptions(Components* c) {
    remote::WriteHandler::Options opts;
    opts.on_metadata = [c](std::string_view family, const model::Metadata& md) {
      c->family_metadata.Record(family, md);
    };
    return opts;
  }

  KilnStatus status;
  prometheus::Registry registry;
  DeferredStorage storage;
  remote::WriteHandler write_handler;
  remote::ReadHandler read_handler;
  promql::Engine engine;
  // --query.max-concurrency: excess queries wait for a slot within their timeout.
  promql::QueryGate query_gate;
  web::api::v1::PromqlQueryEngine query_engine;
  std::atomic<tsdb::Head*> head{nullptr};  // set once storage is open
  web::api::v1::SeriesMetadataSource metadata;
  Scraping scraping;
  // /api/v1/metadata: the scrape targets' families as Prometheus answers, then the
  // per-series metadata (remote write 2.0, replayed WAL) for families no target knows...
  web::api::v1::LayeredMetadataSource layered_metadata{&scraping, &metadata};
  // ...together with remote write 1.0 family metadata (Prometheus sends it apart from
  // samples).
  web::api::v1::FamilyMetadataStore family_metadata{&layered_metadata};
  std::unique_ptr<KilnTsdbAdmin> admin;  // made by RegisterRoutes; gets the DB once open
  web::federate::Federation federation;
};

void RegisterRoutes(const web::Flags& flags, const Logger& logger, Components* c,
                    web::Server* server) {
  web::StandardRoutes routes;
  routes.enable_lifecycle = flags.enable_lifecycle;
  routes.registry = &c->registry;
  routes.write_handler = flags.enable_remote_write_receiver ? &c->write_handler : nullptr;
  routes.read_handler = &c->read_handler;
  routes.on_quit = [] {
    g_quit_via_web = true;
    kill(getpid(), SIGTERM);
  };
  routes.on_reload = [&flags, logger, c] {
    return ReloadConfig(flags, logger, &c->status, &c->scraping, &c->federation);
  };
  web::RegisterStandardRoutes(server, routes);
  web::federate::RegisterFederate(server, &c->federation);
  web::api::v1::ApiDeps api;
  api.queryable = &c->storage;
  api.engine = &c->query_engine;
  api.status = &c->status;
  api.metadata = &c->family_metadata;
  api.targets = c->scraping.TargetsHandler(GlobalUrls(flags));
  api.scrape_pools = c->scraping.ScrapePoolsHandler();
  api.targets_metadata = c->scraping.TargetsMetadataHandler();
  api.build_info = web::GetBuildInfo();
  api.cors_origin = flags.cors_origin;
  c->admin = std::make_unique<KilnTsdbAdmin>(flags.tsdb_path);
  if (flags.enable_admin_api) api.admin = c->admin.get();
  web::api::v1::RegisterApiV1(server, std::move(api));
}

// Listens, opens storage, serves until told to stop, then stops in order. Returns the exit
// code.
int Serve(const web::Flags& flags, const config::Config& cfg, const Logger& logger,
          Components* c) {
  Logger web_logger = logger.With({{"component", "web"}});
  web::Server server(ServerOptions(flags), web_logger);
  RegisterRoutes(flags, logger, c, &server);
  if (Status s = server.Start(); !s.ok()) {
    web_logger.Error("Unable to start web listener", {{"err", s.message()}});
    return 1;
  }
  web_logger.Info("Start listening for connections", {{"address", flags.listen_address}});
  Result<std::unique_ptr<tsdb::DB>> db = OpenStorage(flags, &c->registry, logger);
  if (!db.ok()) return 1;
  c->storage.Set(db->get(), db->get());
  c->status.SetHead((*db)->head());
  c->head = (*db)->head();
  c->admin->SetDB(db->get());
  c->scraping.Start(db->get(), &c->registry, logger, cfg);
  server.SetReady(true);
  logger.Info("Server is ready to receive web requests.");

  WaitForTermination(flags, logger, &c->status, &c->scraping, &c->federation);
  server.SetReady(false);
  server.Stop();  // in-flight requests finish before storage closes
  logger.Info("Stopping scrape manager...");
  c->scraping.Stop();  // the last scrapes commit before storage closes
  logger.Info("Stopping storage...");
  if (Status s = (*db)->Close(); !s.ok()) {
    logger.Error("Closing storage failed", {{"err", s.ToString()}});
    return 1;
  }
  logger.Info("See you next time!");
  return 0;
}

int Run(const web::Flags& flags) {
  Logger logger(flags.log_level, flags.log_format);
  const web::BuildInfo& build = web::GetBuildInfo();
  logger.Info("Starting Kiln", {{"version", build.version}, {"revision", build.revision}});
  // As Prometheus: a bad web config stops startup before anything else happens.
  if (!flags.web_config_file.empty()) {
    if (Status s = web::ValidateWebConfigFile(flags.web_config_file); !s.ok()) {
      logger.Error("Unable to validate web configuration file", {{"err", s.message()}});
      return 1;
    }
  }
  Result<config::Config> cfg = config::LoadFile(flags.config_file);
  if (!cfg.ok()) {
    logger.Error("Error loading config (--config.file=" + flags.config_file + ")",
                 {{"file", flags.config_file}, {"err", cfg.status().message()}});
    return 1;
  }
  Components components(flags, *cfg, logger.With({{"component", "web"}}));
  components.status.ConfigLoaded(true, cfg->ToYaml());
  components.federation.SetExternalLabels(cfg->global.external_labels);
  for (const std::string& w : cfg->Warnings()) logger.Warn(w);
  return Serve(flags, *cfg, logger, &components);
}

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  kiln::web::Flags flags;
  if (kiln::Status s = kiln::web::ParseFlags(args, &flags); !s.ok()) {
    std::fprintf(stderr, "Error parsing commandline arguments: %s\nkiln: error: %s\n",
                 s.message().c_str(), s.message().c_str());
    return 1;
  }
  if (flags.show_help) {
    std::fputs(kiln::web::FlagsUsage().c_str(), stdout);
    return 0;
  }
  if (flags.show_version) {
    std::fputs(kiln::web::GetBuildInfo().ToText().c_str(), stdout);
    return 0;
  }
  // Block the signals before any thread starts so every thread inherits the mask and only
  // sigwait() in WaitForTermination sees them.
  sigset_t set = kiln::HandledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return kiln::Run(flags);
}
