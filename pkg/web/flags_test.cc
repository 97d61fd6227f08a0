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
  EXPECT_EQ(f.values.at("storage.tsdb.retention.size"), "512MB");
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

}  // namespace
}  // namespace kiln::web
