#include "pkg/web/flags.h"

#include <gtest/gtest.h>

namespace kiln::web {
namespace {

Status Parse(std::vector<std::string_view> args, Flags* f) { return ParseFlags(args, f); }

TEST(FlagsTest, DefaultsMatchPrometheus) {
  Flags f;
  ASSERT_TRUE(Parse({}, &f).ok());
  EXPECT_EQ(f.config_file, "prometheus.yml");
  EXPECT_EQ(f.listen_address, "0.0.0.0:9090");
  EXPECT_EQ(f.tsdb_path, "data/");
  EXPECT_EQ(f.lookback_delta_ms, 300'000);
  EXPECT_EQ(f.query_timeout_ms, 120'000);
  EXPECT_EQ(f.query_max_concurrency, 20);
  EXPECT_EQ(f.query_max_samples, 50'000'000);
  EXPECT_EQ(f.EffectiveRetentionMs(), 15LL * 86'400'000);
  EXPECT_FALSE(f.enable_lifecycle);
  EXPECT_EQ(f.values.at("query.timeout"), "2m");
  EXPECT_EQ(f.values.at("web.enable-lifecycle"), "false");
}

TEST(FlagsTest, BothValueSyntaxesAndBooleans) {
  Flags f;
  ASSERT_TRUE(Parse({"--config.file=/etc/p.yml", "--storage.tsdb.path", "/d",
                     "--web.enable-lifecycle", "--web.enable-admin-api=true",
                     "--no-web.enable-remote-write-receiver", "--storage.tsdb.retention.time=30d",
                     "--storage.tsdb.retention.size", "512MB", "--query.timeout=1m30s",
                     "--enable-feature=exemplar-storage,native-histograms", "--enable-feature",
                     "promql-experimental-functions", "--log.level=debug", "--log.format=json"},
                    &f)
                  .ok());
  EXPECT_EQ(f.config_file, "/etc/p.yml");
  EXPECT_EQ(f.tsdb_path, "/d");
  EXPECT_TRUE(f.enable_lifecycle);
  EXPECT_TRUE(f.enable_admin_api);
  EXPECT_FALSE(f.enable_remote_write_receiver);
  EXPECT_EQ(f.retention_time_ms, 30LL * 86'400'000);
  EXPECT_EQ(f.retention_size_bytes, 512LL << 20);
  EXPECT_EQ(f.query_timeout_ms, 90'000);
  EXPECT_EQ(f.features.size(), 3u);
  EXPECT_TRUE(f.FeatureEnabled("native-histograms"));
  EXPECT_TRUE(f.FeatureEnabled("promql-experimental-functions"));
  EXPECT_EQ(f.log_level, LogLevel::kDebug);
  EXPECT_EQ(f.log_format, Logger::Format::kJson);
  EXPECT_EQ(f.values.at("enable-feature"),
            "exemplar-storage,native-histograms,promql-experimental-functions");
  EXPECT_EQ(f.values.at("storage.tsdb.retention.size"), "512MiB");  // Go's String()
  EXPECT_EQ(f.values.at("query.timeout"), "1m30s");
}

TEST(FlagsTest, SizeOnlyRetentionDropsTimeDefault) {
  Flags f;
  ASSERT_TRUE(Parse({"--storage.tsdb.retention.size=1GB"}, &f).ok());
  EXPECT_EQ(f.EffectiveRetentionMs(), 0);
}

TEST(FlagsTest, HelpAndVersion) {
  Flags f;
  ASSERT_TRUE(Parse({"-h"}, &f).ok());
  EXPECT_TRUE(f.show_help);
  Flags g;
  ASSERT_TRUE(Parse({"--version"}, &g).ok());
  EXPECT_TRUE(g.show_version);
  EXPECT_NE(FlagsUsage().find("--web.enable-remote-write-receiver"), std::string::npos);
}

struct BadFlagCase {
  std::vector<std::string_view> args;
  std::string message;
};

TEST(FlagsTest, ErrorsUseKingpinWording) {
  const std::vector<BadFlagCase> cases = {
      {{"--bogus"}, "unknown long flag '--bogus'"},
      {{"--no-config.file"}, "unknown long flag '--no-config.file'"},
      {{"--web.listen-address"}, "expected argument for flag '--web.listen-address'"},
      {{"--query.timeout=abc"}, "invalid value \"abc\" for flag '--query.timeout'"},
      {{"--storage.tsdb.retention.size=12"},
       "invalid value \"12\" for flag '--storage.tsdb.retention.size'"},
      {{"--log.level=loud"}, "invalid value \"loud\" for flag '--log.level'"},
      {{"--web.enable-lifecycle=maybe"},
       "invalid value \"maybe\" for flag '--web.enable-lifecycle'"},
      {{"-x"}, "unknown short flag '-x'"},
      {{"stray"}, "unexpected stray"},
  };
  for (const auto& c : cases) {
    Flags f;
    Status s = Parse(c.args, &f);
    ASSERT_FALSE(s.ok()) << c.message;
    EXPECT_EQ(s.message(), c.message);
  }
}

TEST(FlagsTest, PrometheusDurations) {
  const std::vector<std::pair<std::string_view, int64_t>> good = {{"0", 0},
                                                                  {"5m", 300'000},
                                                                  {"1h30m", 5'400'000},
                                                                  {"15d", 1'296'000'000},
                                                                  {"2w", 1'209'600'000},
                                                                  {"1y", 31'536'000'000},
                                                                  {"250ms", 250},
                                                                  {"1s500ms", 1500}};
  for (auto [s, want] : good) {
    int64_t got = -1;
    EXPECT_TRUE(ParsePromDuration(s, &got)) << s;
    EXPECT_EQ(got, want) << s;
  }
  for (std::string_view s : {"", "5", "m", "1.5h", "30m1h", "1h1h", "-5m", "5M"}) {
    int64_t got;
    EXPECT_FALSE(ParsePromDuration(s, &got)) << s;
  }
}

TEST(FlagsTest, RoutePrefix) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"", "", ""},
      {"/prom/", "", "/prom"},
      {"prom", "", "/prom"},
      {"", "http://example.com/monitoring/", "/monitoring"},
      {"/x", "http://example.com/monitoring", "/x"},
      {"", "http://example.com", ""},
  };
  for (const auto& [prefix, url, want] : cases) {
    Flags f;
    f.route_prefix = prefix;
    f.external_url = url;
    EXPECT_EQ(f.RoutePrefix(), want) << prefix << " " << url;
  }
}

TEST(FlagsTest, StorageFlagsAsPrometheusDerivesThem) {
  constexpr int64_t kDay = 24 * 3600 * 1000;
  Flags f;
  ASSERT_TRUE(ParseFlags({}, &f).ok());
  EXPECT_EQ(f.EffectiveRetentionMs(), 15 * kDay);
  EXPECT_EQ(f.EffectiveMaxBlockDurationMs(), 15 * kDay / 10);
  EXPECT_EQ(f.min_block_duration_ms, 2 * 3600 * 1000);
  EXPECT_TRUE(f.tsdb_wal_compression);
  EXPECT_FALSE(f.tsdb_no_lockfile);

  Flags old;  // the deprecated flag counts unless retention.time is given
  ASSERT_TRUE(ParseFlags({"--storage.tsdb.retention=400d"}, &old).ok());
  EXPECT_EQ(old.EffectiveRetentionMs(), 400 * kDay);
  EXPECT_EQ(old.EffectiveMaxBlockDurationMs(), 31 * kDay);  // capped
  ASSERT_TRUE(ParseFlags({"--storage.tsdb.retention.time=2d"}, &old).ok());
  EXPECT_EQ(old.EffectiveRetentionMs(), 2 * kDay);

  Flags g;
  ASSERT_TRUE(ParseFlags({"--storage.tsdb.min-block-duration=20m",
                          "--storage.tsdb.max-block-duration=1h", "--storage.tsdb.no-lockfile",
                          "--no-storage.tsdb.wal-compression", "--storage.tsdb.retention.size=1GB"},
                         &g)
                  .ok());
  EXPECT_EQ(g.min_block_duration_ms, 20 * 60 * 1000);
  EXPECT_EQ(g.EffectiveMaxBlockDurationMs(), 3600 * 1000);
  EXPECT_TRUE(g.tsdb_no_lockfile);
  EXPECT_FALSE(g.tsdb_wal_compression);
  EXPECT_EQ(g.EffectiveRetentionMs(), 0);  // size only
  EXPECT_EQ(g.values.at("storage.tsdb.min-block-duration"), "20m");

  // Hidden flags stay out of --help, as Prometheus's do.
  const std::string help = FlagsUsage();
  EXPECT_EQ(help.find("min-block-duration"), std::string::npos);
  EXPECT_NE(help.find("--storage.tsdb.no-lockfile"), std::string::npos);
}

// status/flags prints each value as Prometheus's Go String() of the parsed flag; every row
// was checked against a running Prometheus 2.42.
struct ShownCase {
  std::vector<std::string_view> args;
  std::string_view flag;
  std::string_view shown;
};

TEST(FlagsTest, ValuesPrintedAsPrometheus) {
  const std::vector<ShownCase> cases = {
      // Unset durations and sizes are Go's zero values.
      {{}, "storage.tsdb.retention.time", "0s"},
      {{}, "storage.tsdb.retention", "0s"},
      {{}, "storage.tsdb.retention.size", "0B"},
      {{}, "storage.tsdb.wal-segment-size", "0B"},
      {{}, "storage.agent.retention.max-time", "0s"},
      {{}, "alertmanager.timeout", ""},
      // Derived values.
      {{}, "web.route-prefix", "/"},
      {{"--web.route-prefix=x/"}, "web.route-prefix", "/x"},
      {{"--web.external-url=http://h:1/a/b/"}, "web.route-prefix", "/a/b"},
      {{"--web.external-url=http://h:1"}, "web.route-prefix", "/"},
      {{}, "storage.tsdb.max-block-duration", "1d12h"},
      {{"--storage.tsdb.retention=20d"}, "storage.tsdb.max-block-duration", "2d"},
      {{"--storage.tsdb.retention.time=400d"}, "storage.tsdb.max-block-duration", "31d"},
      {{"--storage.tsdb.retention.size=1GB"}, "storage.tsdb.max-block-duration", "31d"},
      {{"--storage.tsdb.max-block-duration=5h"}, "storage.tsdb.max-block-duration", "5h"},
      // Re-formatted, not echoed.
      {{"--query.timeout=90s"}, "query.timeout", "1m30s"},
      {{"--query.lookback-delta=0"}, "query.lookback-delta", "0s"},
      {{"--web.read-timeout=1y1d"}, "web.read-timeout", "366d"},
      {{"--web.read-timeout=14d"}, "web.read-timeout", "2w"},
      {{"--web.read-timeout=365d"}, "web.read-timeout", "1y"},
      {{"--web.read-timeout=3600000ms"}, "web.read-timeout", "1h"},
      {{"--storage.tsdb.retention.size=1536KB"}, "storage.tsdb.retention.size", "1MiB512KiB"},
      {{"--storage.tsdb.retention.size=1.5GB"}, "storage.tsdb.retention.size", "1GiB512MiB"},
      {{"--storage.tsdb.retention.size=1025B"}, "storage.tsdb.retention.size", "1KiB1B"},
      {{"--storage.tsdb.retention.size=2GiB"}, "storage.tsdb.retention.size", "2GiB"},
      {{"--storage.tsdb.wal-segment-size=20MB"}, "storage.tsdb.wal-segment-size", "20MiB"},
      {{}, "storage.remote.read-sample-limit", "50000000"},
      {{"--storage.remote.read-sample-limit=1e3"}, "storage.remote.read-sample-limit", "1000"},
      {{"--query.max-concurrency=7.9"}, "query.max-concurrency", "7"},
      {{"--web.enable-lifecycle=1"}, "web.enable-lifecycle", "true"},
      {{"--enable-feature=a,b", "--enable-feature=c"}, "enable-feature", "a,b,c"},
      {{}, "auto-gomemlimit.ratio", "0.9"},
      {{"--auto-gomemlimit.ratio=0.50"}, "auto-gomemlimit.ratio", "0.5"},
      // Upstream's and Debian's lockfile flags are one setting.
      {{}, "storage.tsdb.use-lockfile", "true"},
      {{"--storage.tsdb.no-lockfile"}, "storage.tsdb.use-lockfile", "false"},
      {{"--no-storage.tsdb.use-lockfile"}, "storage.tsdb.no-lockfile", "true"},
  };
  for (const auto& c : cases) {
    Flags f;
    ASSERT_TRUE(Parse(c.args, &f).ok()) << c.flag;
    EXPECT_EQ(f.values.at(std::string(c.flag)), c.shown)
        << c.flag << " after " << (c.args.empty() ? "(none)" : c.args[0]);
  }
}

TEST(FlagsTest, EveryPrometheus242FlagIsListed) {
  Flags f;
  ASSERT_TRUE(Parse({}, &f).ok());
  for (std::string_view name : {"alertmanager.notification-queue-capacity",
                                "alertmanager.timeout",
                                "rules.alert.for-grace-period",
                                "rules.alert.for-outage-tolerance",
                                "rules.alert.resend-delay",
                                "scrape.adjust-timestamps",
                                "scrape.discovery-reload-interval",
                                "scrape.timestamp-tolerance",
                                "storage.agent.path",
                                "storage.agent.retention.max-time",
                                "storage.agent.retention.min-time",
                                "storage.agent.use-lockfile",
                                "storage.agent.wal-compression",
                                "storage.agent.wal-segment-size",
                                "storage.agent.wal-truncate-frequency",
                                "storage.remote.flush-deadline",
                                "storage.remote.read-concurrent-limit",
                                "storage.remote.read-max-bytes-in-frame",
                                "storage.remote.read-sample-limit",
                                "storage.tsdb.allow-overlapping-blocks",
                                "storage.tsdb.head-chunks-write-queue-size",
                                "storage.tsdb.max-block-chunk-segment-size",
                                "storage.tsdb.wal-segment-size",
                                "web.console.libraries",
                                "web.console.templates",
                                "web.cors.origin",
                                "web.local-assets",
                                "web.max-connections",
                                "web.page-title",
                                "web.read-timeout",
                                "web.user-assets"}) {
    EXPECT_EQ(f.values.count(std::string(name)), 1u) << name;
  }
}

TEST(FlagsTest, WiredFlagsReachTheirFields) {
  Flags f;
  ASSERT_TRUE(Parse({"--web.read-timeout=30s", "--web.max-connections=7",
                     "--web.cors.origin=https?://(a|b)\\.com", "--web.page-title=T",
                     "--storage.tsdb.wal-segment-size=32MB", "--storage.remote.read-sample-limit=5",
                     "--rules.alert.resend-delay=2m"},
                    &f)
                  .ok());
  EXPECT_EQ(f.read_timeout_ms, 30'000);
  EXPECT_EQ(f.max_connections, 7);
  EXPECT_EQ(f.cors_origin, "https?://(a|b)\\.com");
  EXPECT_EQ(f.page_title, "T");
  EXPECT_EQ(f.tsdb_wal_segment_size, 32 << 20);
  EXPECT_EQ(f.remote_read_sample_limit, 5);
  EXPECT_EQ(f.alert_resend_delay_ms, 120'000);
}

TEST(FlagsTest, PrometheusValidation) {
  const std::vector<BadFlagCase> cases = {
      {{"--storage.tsdb.wal-segment-size=1MB"},
       "flag 'storage.tsdb.wal-segment-size' must be set between 10MB and 256MB"},
      {{"--storage.tsdb.wal-segment-size=300MB"},
       "flag 'storage.tsdb.wal-segment-size' must be set between 10MB and 256MB"},
      {{"--storage.tsdb.max-block-chunk-segment-size=512KB"},
       "flag 'storage.tsdb.max-block-chunk-segment-size' must be set over 1MB"},
      {{"--storage.agent.retention.min-time=1h", "--storage.agent.path=x"},
       "The following flag(s) can only be used in agent mode: [\"--storage.agent.retention.min-"
       "time\" \"--storage.agent.path\"]"},
      {{"--enable-feature=agent"}, "--enable-feature=agent: Kiln has no agent mode"},
      {{"--web.cors.origin=("}, "invalid value \"(\" for flag '--web.cors.origin'"},
      {{"--query.max-concurrency=-3"}, "invalid value \"-3\" for flag '--query.max-concurrency'"},
      {{"--query.max-concurrency=0x10"},
       "invalid value \"0x10\" for flag '--query.max-concurrency'"},
      {{"--query.timeout="}, "invalid value \"\" for flag '--query.timeout'"},
      {{"--web.read-timeout=99999999999y"},
       "invalid value \"99999999999y\" for flag '--web.read-timeout'"},
      {{"--auto-gomemlimit.ratio=1.5"}, "invalid value \"1.5\" for flag '--auto-gomemlimit.ratio'"},
      {{"--scrape.name-escaping-scheme=x"},
       "invalid value \"x\" for flag '--scrape.name-escaping-scheme'"},
      {{"--storage.tsdb.retention.size=1XB"},
       "invalid value \"1XB\" for flag '--storage.tsdb.retention.size'"},
  };
  for (const auto& c : cases) {
    Flags f;
    Status s = Parse(c.args, &f);
    ASSERT_FALSE(s.ok()) << c.message;
    EXPECT_EQ(s.message(), c.message);
  }
  Flags ok;  // the bounds themselves are fine
  EXPECT_TRUE(Parse({"--storage.tsdb.wal-segment-size=10MB"}, &ok).ok());
  EXPECT_TRUE(Parse({"--storage.tsdb.wal-segment-size=256MB"}, &ok).ok());
}

TEST(FlagsTest, FormattersRoundTrip) {
  for (int64_t ms : {int64_t{1}, int64_t{999}, int64_t{1000}, int64_t{90'061'001},
                     int64_t{31'536'000'000}, int64_t{1'209'600'000}, int64_t{1'296'000'000}}) {
    int64_t back = -1;
    ASSERT_TRUE(ParsePromDuration(FormatPromDuration(ms), &back)) << FormatPromDuration(ms);
    EXPECT_EQ(back, ms);
  }
  EXPECT_EQ(FormatPromDuration(90'061'001), "1d1h1m1s1ms");
  for (int64_t b : {int64_t{1}, int64_t{1023}, int64_t{1} << 40, (int64_t{3} << 30) + 7}) {
    int64_t back = -1;
    ASSERT_TRUE(ParseByteSize(FormatByteSize(b), &back)) << FormatByteSize(b);
    EXPECT_EQ(back, b);
  }
}

}  // namespace
}  // namespace kiln::web
