#include "pkg/config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kiln::config {
namespace {

namespace fs = std::filesystem;

std::string SourceDir() {
  const char* src = std::getenv("KILN_SOURCE_DIR");
  return std::string(src ? src : ".") + "/pkg/config/testdata";
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Replace(std::string* s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s->find(from, pos)) != std::string::npos; pos += to.size()) {
    s->replace(pos, from.size(), to);
  }
}

// A fresh directory per test, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kiln-config-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    fs::path p = fs::path(path_) / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) out.append(buf.data(), n);
  pclose(f);
  return out;
}

TEST(ConfigTest, LoadsDebianShippedConfigUnchanged) {
  const std::string path = "/etc/prometheus/prometheus.yml";
  if (!fs::exists(path)) GTEST_SKIP() << "no " << path;
  auto cfg = LoadFile(path);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->global.scrape_interval, Duration::Seconds(15));
  EXPECT_EQ(cfg->global.evaluation_interval, Duration::Seconds(15));
  EXPECT_EQ(cfg->global.scrape_timeout, Duration::Seconds(10));
  EXPECT_EQ(cfg->global.external_labels.at("monitor"), "example");
  ASSERT_EQ(cfg->scrape_configs.size(), 2u);
  const ScrapeConfig& prom = cfg->scrape_configs[0];
  EXPECT_EQ(prom.job_name, "prometheus");
  EXPECT_EQ(prom.scrape_interval, Duration::Seconds(5));
  EXPECT_EQ(prom.scrape_timeout, Duration::Seconds(5));
  ASSERT_EQ(prom.sd.static_configs.size(), 1u);
  EXPECT_EQ(prom.sd.static_configs[0].targets, std::vector<std::string>{"localhost:9090"});
  const ScrapeConfig& node = cfg->scrape_configs[1];
  EXPECT_EQ(node.scrape_interval, Duration::Seconds(15));  // inherited from global
  EXPECT_EQ(node.scrape_timeout, Duration::Seconds(10));
  EXPECT_EQ(node.metrics_path, "/metrics");
  EXPECT_EQ(node.scheme, "http");
  ASSERT_EQ(cfg->alerting.alertmanagers.size(), 1u);
  EXPECT_EQ(cfg->alerting.alertmanagers[0].sd.static_configs[0].targets[0], "localhost:9093");
  EXPECT_TRUE(cfg->Warnings().empty());
}

TEST(ConfigTest, Defaults) {
  auto cfg = Load("scrape_configs:\n  - job_name: j\n", "prometheus.yml", "/etc/kiln");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->global.scrape_interval, Duration::Minutes(1));
  EXPECT_EQ(cfg->global.scrape_timeout, Duration::Seconds(10));
  EXPECT_EQ(cfg->global.evaluation_interval, Duration::Minutes(1));
  const ScrapeConfig& sc = cfg->scrape_configs[0];
  EXPECT_EQ(sc.scrape_interval, Duration::Minutes(1));
  EXPECT_EQ(sc.scrape_timeout, Duration::Seconds(10));
  EXPECT_TRUE(sc.honor_timestamps);
  EXPECT_FALSE(sc.honor_labels);
  EXPECT_TRUE(sc.enable_compression);
  EXPECT_TRUE(sc.http.follow_redirects);
  EXPECT_TRUE(sc.http.enable_http2);
  EXPECT_EQ(sc.scrape_protocols, DefaultScrapeProtocols());
  EXPECT_EQ(sc.metric_name_validation_scheme, "utf8");
  EXPECT_EQ(sc.metric_name_escaping_scheme, "allow-utf-8");
  EXPECT_EQ(cfg->storage.exemplars.max_exemplars, 100000);
  EXPECT_EQ(cfg->otlp.translation_strategy, "UnderscoreEscapingWithSuffixes");
  EXPECT_EQ(sc.origin, "prometheus.yml:2");
}

TEST(ConfigTest, ExternalLabelsExpandEnvironment) {
  setenv("KILN_TEST_REGION", "eu-1", 1);
  unsetenv("KILN_TEST_UNSET");
  auto cfg = Load(
      "global:\n  external_labels:\n    a: $KILN_TEST_REGION\n    b: x-${KILN_TEST_REGION}-y\n"
      "    c: cost$$\n    d: ${KILN_TEST_UNSET}z\n",
      "prometheus.yml", "/");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->global.external_labels.at("a"), "eu-1");
  EXPECT_EQ(cfg->global.external_labels.at("b"), "x-eu-1-y");
  EXPECT_EQ(cfg->global.external_labels.at("c"), "cost$");
  EXPECT_EQ(cfg->global.external_labels.at("d"), "z");
}

TEST(ConfigTest, ScrapeAcceptHeaderAsUpstream) {
  EXPECT_EQ(ScrapeAcceptHeader(DefaultScrapeProtocols(), "allow-utf-8"),
            "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
            "application/openmetrics-text;version=0.0.1;q=0.5,"
            "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,"
            "text/plain;version=0.0.4;q=0.3,*/*;q=0.2");
  EXPECT_EQ(ScrapeAcceptHeader({std::string(kPrometheusProto)}, "underscores"),
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
            "encoding=delimited;q=0.6,*/*;q=0.5");
}

TEST(ConfigTest, EmptyFileIsDefaultConfig) {
  auto cfg = Load("", "prometheus.yml", "/");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_TRUE(cfg->scrape_configs.empty());
  EXPECT_EQ(cfg->global.scrape_interval, Duration::Minutes(1));
}

TEST(ConfigTest, TimeoutDefaultsToIntervalWhenShorter) {
  auto cfg = Load(
      "global:\n  scrape_interval: 5s\nscrape_configs:\n  - job_name: j\n"
      "    scrape_interval: 2s\n",
      "prometheus.yml", "/");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->global.scrape_timeout, Duration::Seconds(5));
  EXPECT_EQ(cfg->scrape_configs[0].scrape_timeout, Duration::Seconds(2));
}

TEST(ConfigTest, FullScrapeConfig) {
  TempDir dir;
  std::string path = dir.Write("prometheus.yml", ReadAll(SourceDir() + "/full.yml"));
  auto cfg = LoadFile(path);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const ScrapeConfig& sc = cfg->scrape_configs[0];
  EXPECT_EQ(sc.params.at("module"), (std::vector<std::string>{"http_2xx", "tcp"}));
  EXPECT_EQ(sc.body_size_limit.bytes, 10 << 20);
  EXPECT_EQ(sc.sample_limit, 5000u);
  EXPECT_EQ(sc.label_limit, 30u);  // from global
  ASSERT_TRUE(sc.http.basic_auth.has_value());
  EXPECT_EQ(sc.http.basic_auth->password_file, dir.path() + "/secrets/pw");
  EXPECT_EQ(sc.http.tls_config.ca_file, "/etc/ssl/ca.pem");
  EXPECT_EQ(sc.http.tls_config.min_version, "TLS12");
  EXPECT_TRUE(sc.http.tls_config.insecure_skip_verify);
  EXPECT_EQ(sc.sd.file_sd_configs[0].files[0], dir.path() + "/targets/*.json");
  EXPECT_EQ(sc.sd.file_sd_configs[0].refresh_interval, Duration::Minutes(5));
  EXPECT_EQ(sc.sd.dns_sd_configs[0].type, "A");
  EXPECT_EQ(sc.sd.dns_sd_configs[0].port, 9100);
  EXPECT_EQ(sc.sd.dns_sd_configs[0].refresh_interval, Duration::Seconds(30));
  EXPECT_EQ(sc.sd.http_sd_configs[0].url, "http://sd.example.org/targets");
  ASSERT_EQ(sc.relabel_configs.size(), 3u);
  EXPECT_EQ(sc.relabel_configs[1].action, relabel::Action::kHashMod);
  EXPECT_EQ(sc.metric_relabel_configs[0].action, relabel::Action::kDrop);
  const ScrapeConfig& bearer = cfg->scrape_configs[1];
  ASSERT_TRUE(bearer.http.authorization.has_value());  // legacy bearer_token folded in
  EXPECT_EQ(bearer.http.authorization->type, "Bearer");
  EXPECT_EQ(bearer.http.authorization->credentials, "s3cr3t");
  EXPECT_TRUE(bearer.http.bearer_token.empty());
  EXPECT_EQ(bearer.http.http_headers.at("X-Tenant").values[0], "team-a");
  const RemoteWriteConfig& rw = cfg->remote_write[0];
  EXPECT_EQ(rw.queue_config.capacity, 10000);
  EXPECT_EQ(rw.queue_config.max_shards, 10);
  EXPECT_EQ(rw.queue_config.min_backoff, Duration::Millis(30));
  EXPECT_EQ(rw.remote_timeout, Duration::Seconds(30));
  EXPECT_FALSE(rw.http.enable_http2);
  EXPECT_TRUE(rw.metadata_config.send);
  EXPECT_EQ(cfg->remote_read[0].remote_timeout, Duration::Minutes(1));
  EXPECT_TRUE(cfg->remote_read[0].filter_external_labels);
  EXPECT_EQ(cfg->remote_read[0].required_matchers.at("job"), "node");
  EXPECT_EQ(cfg->storage.tsdb->out_of_order_time_window, Duration::Minutes(30));
  EXPECT_EQ(cfg->storage.exemplars.max_exemplars, 500);
  EXPECT_EQ(cfg->alerting.alertmanagers[0].path_prefix, "/am");
  EXPECT_EQ(cfg->alerting.alertmanagers[0].timeout, Duration::Seconds(10));
  EXPECT_EQ(cfg->otlp.promote_resource_attributes.size(), 2u);
}

TEST(ConfigTest, UnsupportedDiscoveryIsAcceptedAndReported) {
  auto cfg = Load(
      "scrape_configs:\n  - job_name: k8s\n    kubernetes_sd_configs:\n      - role: pod\n"
      "    relabel_configs:\n      - action: labelmap\n        regex: "
      "__meta_kubernetes_pod_label_(.+)\n",
      "prometheus.yml", "/");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto warnings = cfg->Warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "prometheus.yml:3: kubernetes_sd_configs in job \"k8s\" is not supported by Kiln "
            "and discovers no targets");
  EXPECT_NE(cfg->ToYaml().find("role: pod"), std::string::npos);
}

TEST(ConfigTest, ScrapeConfigFilesAreMerged) {
  TempDir dir;
  dir.Write("jobs/a.yml",
            "scrape_configs:\n  - job_name: a\n    scrape_interval: 7s\n"
            "    file_sd_configs:\n      - files: [a.json]\n");
  dir.Write("jobs/b.yml", "scrape_configs:\n  - job_name: b\n");
  std::string main =
      dir.Write("prometheus.yml",
                "global:\n  scrape_interval: 20s\nscrape_config_files:\n  - jobs/*.yml\n"
                "scrape_configs:\n  - job_name: main\n");
  auto cfg = LoadFile(main);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ASSERT_EQ(cfg->scrape_configs.size(), 3u);
  EXPECT_EQ(cfg->scrape_configs[0].job_name, "main");
  EXPECT_EQ(cfg->scrape_configs[1].job_name, "a");
  EXPECT_EQ(cfg->scrape_configs[1].scrape_interval, Duration::Seconds(7));
  // Relative paths in an included file resolve against that file's directory.
  EXPECT_EQ(cfg->scrape_configs[1].sd.file_sd_configs[0].files[0], dir.path() + "/jobs/a.json");
  EXPECT_EQ(cfg->scrape_configs[2].scrape_interval, Duration::Seconds(20));

  dir.Write("jobs/c.yml", "scrape_configs:\n  - job_name: main\n");
  auto dup = LoadFile(main);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(),
            dir.path() +
                "/jobs/c.yml:2: found multiple scrape configs with job name \"main\", "
                "first found in main config file");
}

TEST(ConfigTest, ToYamlHidesSecretsAndRoundTrips) {
  TempDir dir;
  std::string path = dir.Write("prometheus.yml", ReadAll(SourceDir() + "/full.yml"));
  auto cfg = LoadFile(path);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  std::string y = cfg->ToYaml();
  EXPECT_EQ(y.find("s3cr3t"), std::string::npos) << y;
  EXPECT_EQ(y.find("hunter2"), std::string::npos) << y;
  EXPECT_NE(y.find("<secret>"), std::string::npos);
  EXPECT_NE(y.find("scrape_interval: 15s"), std::string::npos) << y;
  EXPECT_NE(y.find("job_name: blackbox"), std::string::npos) << y;
  EXPECT_NE(y.find("honor_timestamps: true"), std::string::npos) << y;
  EXPECT_EQ(y.find("honor_labels"), std::string::npos) << "false omitempty bools are left out";
  EXPECT_EQ(y.find("runtime"), std::string::npos) << "empty sections are left out";
  // The rendered config loads again and renders identically.
  auto again = Load(y, "rendered.yml", dir.path());
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << y;
  EXPECT_EQ(again->ToYaml(), y);
}

struct BadCase {
  std::string name;
  std::string want;
};

std::vector<BadCase> BadCases() {
  std::vector<BadCase> cases;
  for (const auto& e : fs::directory_iterator(SourceDir() + "/bad")) {
    if (e.path().extension() != ".yml") continue;
    fs::path golden = e.path();
    golden.replace_extension(".err");
    std::string want = ReadAll(golden);
    while (!want.empty() && want.back() == '\n') want.pop_back();
    cases.push_back({e.path().stem().string(), want});
  }
  std::sort(cases.begin(), cases.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return cases;
}

// Every testdata/bad/<name>.yml must fail with exactly the message in <name>.err ($DIR stands
// for the directory of the file).
TEST(ConfigTest, BadConfigsGolden) {
  auto cases = BadCases();
  ASSERT_GE(cases.size(), 30u);
  const std::string dir = SourceDir() + "/bad";
  for (const auto& c : cases) {
    auto cfg = Load(ReadAll(dir + "/" + c.name + ".yml"), "prometheus.yml", dir);
    ASSERT_FALSE(cfg.ok()) << c.name << " loaded";
    std::string want = c.want;
    Replace(&want, "$DIR", dir);
    EXPECT_EQ(cfg.status().message(), want) << c.name;
  }
}

// For mistakes Prometheus 2.42 and Kiln judge alike, Kiln's message (after "file:line: ")
// equals what `promtool check config` reports.
TEST(ConfigTest, MessagesMatchPromtool) {
  if (!fs::exists("/usr/bin/promtool")) GTEST_SKIP() << "no promtool";
  const std::string dir = SourceDir() + "/bad";
  for (const char* name : {"unknown_field", "bad_duration", "timeout_gt_interval", "duplicate_job",
                           "bad_relabel_action", "bad_int", "hashmod_no_modulus",
                           "global_timeout_gt_interval", "missing_job_name", "duplicate_key"}) {
    std::string file = dir + "/" + name + ".yml";
    std::string out = RunCommand("/usr/bin/promtool check config " + file + " 2>&1");
    auto cfg = LoadFile(file);
    ASSERT_FALSE(cfg.ok()) << name;
    std::string ours = cfg.status().message();
    std::string detail = ours.substr(ours.find(": ", file.size()) + 2);
    EXPECT_NE(out.find(detail), std::string::npos)
        << name << "\nkiln: " << ours << "\npromtool: " << out;
  }
}

}  // namespace
}  // namespace kiln::config
