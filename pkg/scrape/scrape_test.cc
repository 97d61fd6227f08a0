#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "pkg/discovery/manager.h"
#include "pkg/model/value.h"
#include "pkg/scrape/api_json.h"
#include "pkg/scrape/manager.h"
#include "pkg/textparse/metrics.pb.h"
#include "pkg/tsdb/head.h"
#include "pkg/tsdb/head_test_util.h"

namespace kiln::scrape {
namespace {

using namespace std::chrono_literals;
using tsdb::testing::SeriesSamples;
using tsdb::testing::TempDir;

// An exporter whose page the test changes between scrapes.
class FixtureExporter {
 public:
  FixtureExporter() {
    server_.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      last_headers_ = req.headers;
      res.status = status_;
      res.set_content(body_, content_type_);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FixtureExporter() {
    server_.stop();
    thread_.join();
  }
  void Serve(std::string body, int status = 200,
             std::string content_type = "text/plain; version=0.0.4") {
    std::lock_guard<std::mutex> lock(mu_);
    body_ = std::move(body);
    status_ = status;
    content_type_ = std::move(content_type);
  }
  std::string Header(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = last_headers_.find(name);
    return it == last_headers_.end() ? "" : it->second;
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::string body_;
  int status_ = 200;
  std::string content_type_;
  httplib::Headers last_headers_;
};

config::Config LoadConfig(const std::string& yaml) {
  auto cfg = config::Load(yaml, "prometheus.yml", "/tmp");
  EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
  return std::move(*cfg);
}

// A job scraping `address` with `extra` YAML lines added to the scrape config.
std::string JobYaml(const std::string& address, const std::string& extra = "") {
  return "scrape_configs:\n- job_name: test\n  scrape_interval: 1s\n  static_configs:\n"
         "  - targets: ['" +
         address + "']\n" + extra;
}

class ScrapeLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tsdb::HeadOptions o;
    o.dir = dir_.path();
    auto head = tsdb::Head::Open(o);
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    head_ = std::move(*head);
  }
  void TearDown() override {
    loop_.reset();
    ASSERT_TRUE(head_->Close().ok());
  }

  // A loop for the first target of the job (never started: the test drives the scrapes).
  void MakeLoop(const std::string& extra = "") {
    cfg_ = std::make_shared<const config::ScrapeConfig>(
        LoadConfig(JobYaml(exporter_.address(), extra)).scrape_configs[0]);
    auto r = PopulateLabels({}, model::Labels{{"__address__", exporter_.address()}}, *cfg_);
    ASSERT_TRUE(r.ok());
    auto target = std::make_shared<Target>(r->labels, r->discovered, cfg_->params);
    loop_ = std::make_unique<ScrapeLoop>(target, cfg_, head_.get(), &metrics_, 0, Logger());
  }

  SeriesSamples Query(const std::string& name_regex = ".+") {
    auto q = head_->NewQuerier(0, model::kMaxTime);
    EXPECT_TRUE(q.ok());
    auto m = model::Matcher::Make(model::MatchType::kRegexMatch, "__name__", name_regex);
    auto set = (*q)->Select(true, nullptr, {*m});
    return tsdb::testing::ReadAll(set.get());
  }

  // Values of one series as strings ("stale" for stale markers), for compact assertions.
  std::vector<std::string> Values(const std::string& series) {
    SeriesSamples all = Query();
    std::vector<std::string> out;
    for (const auto& s : all[series]) {
      out.push_back(std::to_string(s.t) + ":" +
                    (model::IsStaleNaN(s.v) ? "stale" : std::to_string(static_cast<int>(s.v))));
    }
    return out;
  }

  static std::string S(const std::string& name, const std::string& extra = "") {
    return "{__name__=\"" + name + "\", " + extra + "instance=\"" + address_ + "\", job=\"test\"}";
  }

  TempDir dir_;
  std::unique_ptr<tsdb::Head> head_;
  FixtureExporter exporter_;
  ScrapeMetrics metrics_{nullptr};
  std::shared_ptr<const config::ScrapeConfig> cfg_;
  std::unique_ptr<ScrapeLoop> loop_;
  static inline std::string address_;
};

using V = std::vector<std::string>;

TEST_F(ScrapeLoopTest, SamplesReportSeriesAndStaleness) {
  address_ = exporter_.address();
  MakeLoop();
  exporter_.Serve(
      "# HELP foo Foo help.\n# TYPE foo counter\nfoo{a=\"1\"} 1\nfoo{a=\"2\"} 2\nbar 3\n");
  loop_->ScrapeAndReport(1000);
  exporter_.Serve("# HELP foo Foo help.\n# TYPE foo counter\nfoo{a=\"1\"} 4\nbar 5\n");
  loop_->ScrapeAndReport(2000);

  EXPECT_EQ(Values(S("foo", "a=\"1\", ")), (V{"1000:1", "2000:4"}));
  EXPECT_EQ(Values(S("foo", "a=\"2\", ")), (V{"1000:2", "2000:stale"}));
  EXPECT_EQ(Values(S("up")), (V{"1000:1", "2000:1"}));
  EXPECT_EQ(Values(S("scrape_samples_scraped")), (V{"1000:3", "2000:2"}));
  EXPECT_EQ(Values(S("scrape_samples_post_metric_relabeling")), (V{"1000:3", "2000:2"}));
  EXPECT_EQ(Values(S("scrape_series_added")), (V{"1000:3", "2000:0"}));
  EXPECT_EQ(Query("scrape_duration_seconds").size(), 1u);

  const Target& t = *loop_->target();
  EXPECT_EQ(t.health(), TargetHealth::kUp);
  EXPECT_EQ(t.last_scrape_ms(), 2000);
  model::Metadata md;
  ASSERT_TRUE(t.GetMetadata("foo", &md));
  EXPECT_EQ(md.type, model::MetricType::kCounter);
  EXPECT_EQ(md.help, "Foo help.");
  model::Metadata stored;
  ASSERT_TRUE(head_->GetMetadata(
      model::Labels{{"__name__", "foo"}, {"a", "1"}, {"instance", address_}, {"job", "test"}},
      &stored));
  EXPECT_EQ(stored.help, "Foo help.");

  EXPECT_NE(exporter_.Header("Accept").find("text/plain;version=0.0.4"), std::string::npos);
  EXPECT_EQ(exporter_.Header("Accept-Encoding"), "gzip");
  EXPECT_EQ(exporter_.Header("X-Prometheus-Scrape-Timeout-Seconds"), "1");
  EXPECT_EQ(exporter_.Header("User-Agent"), std::string(kUserAgent));

  // A failed scrape: up=0 and every series of the last good scrape goes stale.
  exporter_.Serve("oops", 500);
  loop_->ScrapeAndReport(3000);
  EXPECT_EQ(Values(S("up")), (V{"1000:1", "2000:1", "3000:0"}));
  EXPECT_EQ(Values(S("foo", "a=\"1\", ")), (V{"1000:1", "2000:4", "3000:stale"}));
  EXPECT_EQ(Values(S("bar")), (V{"1000:3", "2000:5", "3000:stale"}));
  EXPECT_EQ(t.health(), TargetHealth::kDown);
  EXPECT_EQ(t.last_error(), "server returned HTTP status 500 Internal Server Error");

  // Recovery, then the target goes away: stale markers for its series and the report series.
  exporter_.Serve("bar 6\n");
  loop_->ScrapeAndReport(4000);
  EXPECT_EQ(Values(S("scrape_series_added")), (V{"1000:3", "2000:0", "3000:0", "4000:0"}));
  loop_->Stop(true);
  V bar = Values(S("bar"));
  ASSERT_EQ(bar.size(), 5u);
  EXPECT_TRUE(bar[4].ends_with(":stale"));
  EXPECT_TRUE(Values(S("up")).back().ends_with(":stale"));
}

// Known series take the shortcut (the parser matches the cached text at the same position,
// the appender reuses the cached series) only when that is right: series that moved,
// changed, or come in another format land on their own series.
TEST_F(ScrapeLoopTest, CachedSeriesLandOnTheirOwnSeries) {
  address_ = exporter_.address();
  MakeLoop();
  exporter_.Serve("a{x=\"1\"} 1\na{x=\"2\"} 2\nb 3\nc{y=\"q \\\"}\"} 4\n");
  loop_->ScrapeAndReport(1000);
  // Same texts, new values, one separated by a tab.
  exporter_.Serve("a{x=\"1\"} 11\na{x=\"2\"}\t12\nb 13\nc{y=\"q \\\"}\"} 14\n");
  loop_->ScrapeAndReport(2000);
  // Swapped, and a text that extends the cached one at its position.
  exporter_.Serve("a{x=\"2\"} 22\na{x=\"1\"} 21\nb{z=\"1\"} 25\nb 23\nc{y=\"q \\\"}\"} 24\n");
  loop_->ScrapeAndReport(3000);
  // The same page as OpenMetrics: no shortcut from the text-format scrape's texts.
  exporter_.Serve("a{x=\"2\"} 32\na{x=\"1\"} 31\nb{z=\"1\"} 35\nb 33\nc{y=\"q \\\"}\"} 34\n# EOF\n",
                  200, "application/openmetrics-text; version=1.0.0; charset=utf-8");
  loop_->ScrapeAndReport(4000);
  loop_->ScrapeAndReport(5000);

  // Labels sorted: instance and job come before x, y and z.
  auto after = [](const std::string& name, const std::string& label) {
    return "{__name__=\"" + name + "\", instance=\"" + address_ + "\", job=\"test\", " + label +
           "}";
  };
  EXPECT_EQ(Values(after("a", "x=\"1\"")),
            (V{"1000:1", "2000:11", "3000:21", "4000:31", "5000:31"}));
  EXPECT_EQ(Values(after("a", "x=\"2\"")),
            (V{"1000:2", "2000:12", "3000:22", "4000:32", "5000:32"}));
  EXPECT_EQ(Values(S("b")), (V{"1000:3", "2000:13", "3000:23", "4000:33", "5000:33"}));
  EXPECT_EQ(Values(after("b", "z=\"1\"")), (V{"3000:25", "4000:35", "5000:35"}));
  EXPECT_EQ(Values(after("c", "y=\"q \\\"}\"")),
            (V{"1000:4", "2000:14", "3000:24", "4000:34", "5000:34"}));
  EXPECT_EQ(Values(S("scrape_series_added")),
            (V{"1000:4", "2000:0", "3000:1", "4000:0", "5000:0"}));
  EXPECT_EQ(Values(S("up")), (V{"1000:1", "2000:1", "3000:1", "4000:1", "5000:1"}));
}

TEST_F(ScrapeLoopTest, HonorLabelsConflicts) {
  address_ = exporter_.address();
  exporter_.Serve("foo{job=\"other\",exported_job=\"x\"} 1\n");
  MakeLoop();
  loop_->ScrapeAndReport(1000);
  SeriesSamples all = Query("foo");
  ASSERT_EQ(all.size(), 1u);
  // The scraped job moves to exported_job, which is taken, so to exported_exported_job.
  EXPECT_EQ(all.begin()->first,
            "{__name__=\"foo\", exported_exported_job=\"other\", "
            "exported_job=\"x\", instance=\"" +
                address_ + "\", job=\"test\"}");

  loop_.reset();
  MakeLoop("  honor_labels: true\n");
  loop_->ScrapeAndReport(2000);
  all = Query("foo");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all.count("{__name__=\"foo\", exported_job=\"x\", instance=\"" + address_ +
                      "\", job=\"other\"}"),
            1u);
}

TEST_F(ScrapeLoopTest, SampleLimitFailsTheWholeScrape) {
  address_ = exporter_.address();
  MakeLoop("  sample_limit: 2\n");
  exporter_.Serve("a 1\nb 2\n");
  loop_->ScrapeAndReport(1000);
  exporter_.Serve("a 1\nb 2\nc 3\n");
  loop_->ScrapeAndReport(2000);
  EXPECT_EQ(Values(S("up")), (V{"1000:1", "2000:0"}));
  EXPECT_EQ(Values(S("a")), (V{"1000:1", "2000:stale"}));
  EXPECT_TRUE(Values(S("c")).empty());
  EXPECT_EQ(Values(S("scrape_samples_scraped")), (V{"1000:2", "2000:3"}));
  EXPECT_EQ(loop_->target()->last_error(), "sample limit exceeded");
}

TEST_F(ScrapeLoopTest, MetricRelabelingDropsAndLabelLimits) {
  address_ = exporter_.address();
  MakeLoop(
      "  metric_relabel_configs:\n  - source_labels: [__name__]\n    regex: drop_me.*\n"
      "    action: drop\n");
  exporter_.Serve("keep 1\ndrop_me 2\ndrop_me_too 3\n");
  loop_->ScrapeAndReport(1000);
  loop_->ScrapeAndReport(2000);
  EXPECT_EQ(Values(S("keep")), (V{"1000:1", "2000:1"}));
  EXPECT_TRUE(Query("drop_me.*").empty());
  EXPECT_EQ(Values(S("scrape_samples_scraped")), (V{"1000:3", "2000:3"}));
  EXPECT_EQ(Values(S("scrape_samples_post_metric_relabeling")), (V{"1000:1", "2000:1"}));

  loop_.reset();
  MakeLoop("  label_limit: 3\n");
  exporter_.Serve("many{a=\"1\",b=\"2\"} 1\n");
  loop_->ScrapeAndReport(3000);
  EXPECT_EQ(loop_->target()->last_error(),
            "label_limit exceeded (metric: many{a=\"1\",b=\"2\"}, number of labels: 5, limit: 3)");
}

// Fuzz finding: a protobuf page can carry any bytes as names; the parser fails the scrape
// on empty or non-UTF-8 ones (upstream's message), and the text parsers on a label value
// that is not UTF-8 (upstream's message too). Labels the text grammar accepts but the job's
// metric_name_validation_scheme does not fail it in the loop, as upstream's Labels.IsValid
// check does.
TEST_F(ScrapeLoopTest, InvalidLabelsFailTheScrape) {
  address_ = exporter_.address();
  MakeLoop();
  io::prometheus::client::MetricFamily mf;
  mf.set_name("x");
  mf.set_type(io::prometheus::client::GAUGE);
  auto* m = mf.add_metric();
  auto* l = m->add_label();
  l->set_name("");
  l->set_value("v");
  m->mutable_gauge()->set_value(1);
  std::string msg = mf.SerializeAsString();
  ASSERT_LT(msg.size(), 128u);
  const std::string proto =
      "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
      "encoding=delimited";
  exporter_.Serve(std::string(1, static_cast<char>(msg.size())) + msg, 200, proto);
  loop_->ScrapeAndReport(1000);
  EXPECT_EQ(Values(S("up")), (V{"1000:0"}));
  EXPECT_TRUE(Query("x").empty());
  EXPECT_EQ(loop_->target()->last_error(), "invalid label name: ");

  mf.mutable_metric(0)->mutable_label(0)->set_name("a");
  msg = mf.SerializeAsString();
  exporter_.Serve(std::string(1, static_cast<char>(msg.size())) + msg, 200, proto);
  loop_->ScrapeAndReport(2000);
  EXPECT_EQ(Values(S("x", "a=\"v\", ")), (V{"2000:1"}));

  exporter_.Serve("y{a=\"\xff\"} 1\n");
  loop_->ScrapeAndReport(3000);
  EXPECT_EQ(Values(S("up")), (V{"1000:0", "2000:1", "3000:0"}));
  EXPECT_EQ(loop_->target()->last_error(), "line 1: invalid UTF-8 label value");

  // Fuzz finding: the text grammar takes an empty quoted label name; the loop rejects it.
  exporter_.Serve("{\"m\", \"\"=\"v\"} 1\n");
  loop_->ScrapeAndReport(3500);
  EXPECT_EQ(Values(S("up")).back(), "3500:0");
  EXPECT_TRUE(loop_->target()->last_error().starts_with("invalid metric name or label names: "))
      << loop_->target()->last_error();

  loop_.reset();
  MakeLoop("  metric_name_validation_scheme: legacy\n");
  exporter_.Serve("{\"my.metric\"} 1\n");
  loop_->ScrapeAndReport(4000);
  EXPECT_EQ(Values(S("up")).back(), "4000:0");
  EXPECT_TRUE(loop_->target()->last_error().starts_with("invalid metric name or label names: "))
      << loop_->target()->last_error();
}

TEST_F(ScrapeLoopTest, HonorTimestampsAndOutOfOrder) {
  address_ = exporter_.address();
  MakeLoop();
  exporter_.Serve("ts 1 500\nplain 2\n");
  loop_->ScrapeAndReport(1000);
  exporter_.Serve("ts 1 400\n");  // older than what the head has: skipped, scrape still up
  loop_->ScrapeAndReport(2000);
  EXPECT_EQ(Values(S("ts")), (V{"500:1"}));  // explicit timestamps: no stale marker
  EXPECT_EQ(Values(S("plain")), (V{"1000:2", "2000:stale"}));
  EXPECT_EQ(Values(S("up")), (V{"1000:1", "2000:1"}));
  EXPECT_EQ(metrics_.out_of_order.Value(), 1);
}

TEST_F(ScrapeLoopTest, AuthParamsAndBodySizeLimit) {
  address_ = exporter_.address();
  MakeLoop(
      "  params:\n    module: [m]\n  basic_auth:\n    username: u\n    password: p\n"
      "  body_size_limit: 20B\n");
  exporter_.Serve("small 1\n");
  loop_->ScrapeAndReport(1000);
  EXPECT_EQ(loop_->target()->health(), TargetHealth::kUp) << loop_->target()->last_error();
  EXPECT_EQ(exporter_.Header("Authorization"), "Basic dTpw");
  EXPECT_EQ(loop_->target()->url(), "http://" + address_ + "/metrics?module=m");
  exporter_.Serve("a_much_longer_metric_name 1\n");
  loop_->ScrapeAndReport(2000);
  EXPECT_EQ(loop_->target()->last_error(), "body size limit exceeded");
  EXPECT_EQ(Values(S("small")), (V{"1000:1", "2000:stale"}));
}

TEST_F(ScrapeLoopTest, TargetLimit) {
  address_ = exporter_.address();
  exporter_.Serve("x 1\n");
  config::Config cfg = LoadConfig(
      "scrape_configs:\n- job_name: test\n  scrape_interval: 100ms\n  scrape_timeout: 100ms\n"
      "  target_limit: 1\n  static_configs:\n  - targets: ['" +
      address_ + "', '" + address_ + "']\n    labels: {}\n  - targets: ['" + address_ +
      "']\n    labels: {second: 'yes'}\n");
  ScrapeManager scrape({head_.get(), nullptr, Logger()});
  scrape.ApplyConfig(cfg);
  discovery::TargetGroup a{"0", {model::Labels{{"__address__", address_}}}, {}};
  discovery::TargetGroup b{"1", {model::Labels{{"__address__", address_}}}, {{"second", "yes"}}};
  scrape.UpdateTargets({{"test", {a, b}}});
  auto targets = scrape.TargetsActive()["test"];
  ASSERT_EQ(targets.size(), 2u);
  for (int i = 0; i < 3000 && targets[0]->last_scrape_ms() == 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(targets[0]->last_error(), "target_limit exceeded (number of targets: 2, limit: 1)");
  EXPECT_TRUE(Query("x").empty());
  scrape.Stop();
}

TEST(PopulateLabelsTest, Table) {
  auto cfg = LoadConfig(
                 "scrape_configs:\n- job_name: j\n  scrape_interval: 30s\n  params:\n"
                 "    module: [m1, m2]\n  relabel_configs:\n"
                 "  - source_labels: [__meta_drop]\n    regex: yes\n    action: drop\n")
                 .scrape_configs[0];
  struct Case {
    model::Labels target;
    std::string labels;  // "" = dropped
    std::string error;
  };
  const Case cases[] = {
      {{{"__address__", "h:1"}, {"__meta_x", "y"}},
       R"({__address__="h:1", __metrics_path__="/metrics", __param_module="m1", __scheme__="http", __scrape_interval__="30s", __scrape_timeout__="10s", instance="h:1", job="j"})",
       ""},
      {{{"__address__", "h:1"}, {"instance", "mine"}, {"job", "own"}},
       R"({__address__="h:1", __metrics_path__="/metrics", __param_module="m1", __scheme__="http", __scrape_interval__="30s", __scrape_timeout__="10s", instance="mine", job="own"})",
       ""},
      {{{"__address__", "h:1"}, {"__meta_drop", "yes"}}, "", ""},
      {{{"foo", "bar"}}, "", "no address"},
      {{{"__address__", "h:1/x"}}, "", "\"h:1/x\" is not a valid hostname"},
      {{{"__address__", "h:1"}, {"__scrape_timeout__", "1m"}},
       "",
       "scrape timeout cannot be greater than scrape interval (\"1m\" > \"30s\")"},
  };
  for (const Case& c : cases) {
    auto r = PopulateLabels({}, c.target, cfg);
    if (!c.error.empty()) {
      ASSERT_FALSE(r.ok()) << c.target.ToString();
      EXPECT_EQ(r.status().message(), c.error);
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->labels.empty() ? "" : r->labels.ToString(), c.labels);
  }
  auto r = PopulateLabels(model::Labels{{"team", "a"}},
                          model::Labels{{"__address__", "h:9"}, {"__param_module", "x y"}}, cfg);
  ASSERT_TRUE(r.ok());
  Target t(r->labels, r->discovered, cfg.params);
  EXPECT_EQ(t.url(), "http://h:9/metrics?module=x+y&module=m2");
  EXPECT_EQ(t.labels().ToString(), R"({instance="h:9", job="j", team="a"})");
  EXPECT_EQ(t.interval(), 30s);
}

// Discovery → scrape manager → head, in real time, then the target disappears.
TEST_F(ScrapeLoopTest, ManagerEndToEnd) {
  address_ = exporter_.address();
  exporter_.Serve("# HELP x X.\n# TYPE x gauge\nx 1\n");
  std::string yaml =
      "scrape_configs:\n- job_name: test\n  scrape_interval: 100ms\n  scrape_timeout: 100ms\n"
      "  static_configs:\n  - targets: ['" +
      address_ +
      "']\n- job_name: dropped\n  static_configs:\n  - targets: ['a:1']\n"
      "  relabel_configs:\n  - action: drop\n    source_labels: [__address__]\n";
  config::Config cfg = LoadConfig(yaml);
  prometheus::Registry registry;
  ScrapeManager scrape({head_.get(), &registry, Logger()});
  discovery::ManagerOptions dopts;
  dopts.update_interval = 10ms;
  discovery::Manager sd(dopts, [&](const auto& sets) { scrape.UpdateTargets(sets); });
  scrape.ApplyConfig(cfg);
  sd.ApplyConfig(ScrapeManager::DiscoveryConfigs(cfg));

  auto wait_for = [&](const std::function<bool()>& pred) {
    for (int i = 0; i < 3000 && !pred(); ++i) std::this_thread::sleep_for(10ms);
    return pred();
  };
  ASSERT_TRUE(wait_for([&] { return Values(S("x")).size() >= 3; }));
  auto active = scrape.TargetsActive();
  ASSERT_EQ(active["test"].size(), 1u);
  EXPECT_EQ(active["test"][0]->health(), TargetHealth::kUp);
  EXPECT_EQ(active["test"][0]->url(), "http://" + address_ + "/metrics");
  EXPECT_EQ(scrape.TargetsDroppedCounts()["dropped"], 1u);
  EXPECT_EQ(scrape.TargetsDropped()["dropped"][0].Get("__address__"), "a:1");
  EXPECT_EQ(scrape.ScrapePools(), (std::vector<std::string>{"dropped", "test"}));

  // The API documents.
  EXPECT_EQ(ScrapePoolsJson(scrape), R"({"scrapePools":["dropped","test"]})");
  std::string targets = TargetsJson(scrape, "", "");
  EXPECT_NE(targets.find(R"("labels":{"instance":")" + address_ +
                         R"(","job":"test"},)"
                         R"("scrapePool":"test","scrapeUrl":"http://)" +
                         address_ + R"(/metrics","globalUrl":"http://)" + address_ +
                         R"(/metrics","lastError":"",)"),
            std::string::npos)
      << targets;
  EXPECT_NE(targets.find(R"("health":"up","scrapeInterval":"100ms","scrapeTimeout":"100ms"})"),
            std::string::npos)
      << targets;
  EXPECT_NE(targets.find(R"("droppedTargets":[{"discoveredLabels":{"__address__":"a:1",)"),
            std::string::npos)
      << targets;
  EXPECT_TRUE(targets.ends_with(R"("droppedTargetCounts":{"dropped":1,"test":0}})")) << targets;
  EXPECT_EQ(TargetsJson(scrape, "active", "dropped"),
            R"({"activeTargets":[],"droppedTargets":[],"droppedTargetCounts":null})");
  auto job = model::Matcher::Make(model::MatchType::kEqual, "job", "test");
  EXPECT_EQ(TargetsMetadataJson(scrape, {*job}, "x", -1),
            R"([{"target":{"instance":")" + address_ +
                R"(","job":"test"},"type":"gauge","help":"X.","unit":""}])");
  EXPECT_EQ(TargetsMetadataJson(scrape, {*job}, "nope", -1), "[]");

  // The same config keeps the running loop; a changed one restarts it with the new settings.
  scrape.ApplyConfig(LoadConfig(yaml));
  EXPECT_EQ(scrape.TargetsActive()["test"][0], active["test"][0]);
  std::string changed = yaml;
  changed.replace(changed.find("scrape_timeout: 100ms"), 21, "scrape_timeout: 50ms");
  scrape.ApplyConfig(LoadConfig(changed));
  auto reloaded = scrape.TargetsActive()["test"];
  ASSERT_EQ(reloaded.size(), 1u);
  EXPECT_NE(reloaded[0], active["test"][0]);
  EXPECT_EQ(reloaded[0]->timeout(), 50ms);
  // The restarted loop starts with an empty cache: let it scrape once, so it knows the
  // series to mark stale below.
  ASSERT_TRUE(wait_for([&] { return reloaded[0]->last_scrape_ms() != 0; }));

  // Removing the job from the config stops its pool and marks its series stale.
  config::Config without = LoadConfig("scrape_configs:\n- job_name: other\n  static_configs: []\n");
  scrape.ApplyConfig(without);
  sd.ApplyConfig(ScrapeManager::DiscoveryConfigs(without));
  EXPECT_TRUE(Values(S("x")).back().ends_with(":stale"));
  EXPECT_TRUE(Values(S("up")).back().ends_with(":stale"));
  sd.Stop();
  scrape.Stop();
}

TEST_F(ScrapeLoopTest, TakeOverOnReload) {
  address_ = exporter_.address();
  MakeLoop();
  exporter_.Serve("# HELP foo Foo.\n# TYPE foo gauge\nfoo{a=\"1\"} 1\nfoo{a=\"2\"} 2\n");
  loop_->ScrapeAndReport(1000);

  // Only sample_limit changed: the new loop keeps the cache, so nothing counts as added, the
  // series gone since the old loop's scrape still get their stale marker, and the target
  // keeps its metadata.
  std::unique_ptr<ScrapeLoop> old = std::move(loop_);
  old->Stop(false);
  MakeLoop("  sample_limit: 100\n");
  loop_->TakeOver(old.get(), /*reuse_cache=*/true);
  model::Metadata md;
  EXPECT_TRUE(loop_->target()->GetMetadata("foo", &md));
  exporter_.Serve("# HELP foo Foo.\n# TYPE foo gauge\nfoo{a=\"1\"} 3\n");
  loop_->ScrapeAndReport(2000);
  EXPECT_EQ(Values(S("scrape_series_added")), (V{"1000:2", "2000:0"}));
  EXPECT_EQ(Values(S("foo", "a=\"2\", ")), (V{"1000:2", "2000:stale"}));

  // Metric relabeling changed: a fresh cache (every kept series is new), and the series the
  // new config drops are marked stale at the first scrape.
  old = std::move(loop_);
  old->Stop(false);
  MakeLoop("  metric_relabel_configs:\n  - source_labels: [a]\n    regex: '1'\n    action: drop\n");
  loop_->TakeOver(old.get(), /*reuse_cache=*/false);
  exporter_.Serve("# HELP foo Foo.\n# TYPE foo gauge\nfoo{a=\"1\"} 4\nfoo{a=\"3\"} 5\n");
  loop_->ScrapeAndReport(3000);
  EXPECT_EQ(Values(S("scrape_series_added")), (V{"1000:2", "2000:0", "3000:1"}));
  EXPECT_EQ(Values(S("foo", "a=\"1\", ")), (V{"1000:1", "2000:3", "3000:stale"}));
  EXPECT_EQ(Values(S("foo", "a=\"3\", ")), (V{"3000:5"}));
  EXPECT_EQ(Values(S("up")), (V{"1000:1", "2000:1", "3000:1"}));

  // A replacing loop removed before its first scrape still marks what it inherited stale.
  old = std::move(loop_);
  old->Stop(false);
  MakeLoop();
  loop_->TakeOver(old.get(), /*reuse_cache=*/false);
  loop_->Stop(true);
  EXPECT_TRUE(Values(S("foo", "a=\"3\", ")).back().ends_with(":stale"));
  EXPECT_TRUE(Values(S("up")).back().ends_with(":stale"));
}

TEST_F(ScrapeLoopTest, PoolReloadKeepsCacheOrMarksDroppedTargetsStale) {
  address_ = exporter_.address();
  exporter_.Serve("x 1\ny 2\n");
  const std::string base =
      "scrape_configs:\n- job_name: test\n  scrape_interval: 100ms\n"
      "  scrape_timeout: 100ms\n  static_configs:\n  - targets: ['" +
      address_ + "']\n";
  auto job = [](const std::string& yaml) {
    return std::make_shared<const config::ScrapeConfig>(LoadConfig(yaml).scrape_configs[0]);
  };
  ScrapePool pool(job(base), head_.get(), &metrics_, 0, Logger());
  discovery::TargetGroup group;
  group.source = "0";
  group.targets.push_back(model::Labels{{"__address__", address_}});
  pool.Sync({group});
  auto wait_for = [&](const std::function<bool()>& pred) {
    for (int i = 0; i < 3000 && !pred(); ++i) std::this_thread::sleep_for(10ms);
    return pred();
  };
  ASSERT_TRUE(wait_for([&] { return Values(S("up")).size() >= 2; }));

  // A changed timeout restarts the loop with the cache: no scrape after the reload reports
  // added series.
  std::string shorter = base;
  shorter.replace(shorter.find("scrape_timeout: 100ms"), 21, "scrape_timeout: 50ms");
  pool.Reload(job(shorter));
  const size_t before = Values(S("up")).size();
  ASSERT_TRUE(wait_for([&] { return Values(S("up")).size() >= before + 2; }));
  pool.Stop();
  V added = Values(S("scrape_series_added"));
  ASSERT_GE(added.size(), 3u);
  EXPECT_TRUE(added[0].ends_with(":2")) << added[0];
  for (size_t i = 1; i < added.size(); ++i) EXPECT_TRUE(added[i].ends_with(":0")) << added[i];

  // Relabeling that drops the target on reload: its series and report series go stale.
  const size_t scrapes = Values(S("up")).size();
  ScrapePool pool2(job(base), head_.get(), &metrics_, 0, Logger());
  pool2.Sync({group});
  ASSERT_TRUE(wait_for([&] { return Values(S("up")).size() > scrapes; }));
  pool2.Reload(
      job(base + "  relabel_configs:\n  - action: drop\n    source_labels: [__address__]\n"));
  EXPECT_TRUE(pool2.ActiveTargets().empty());
  EXPECT_TRUE(Values(S("y")).back().ends_with(":stale"));
  EXPECT_TRUE(Values(S("up")).back().ends_with(":stale"));
}

// Find answers from the previous scrape's order first; it must still find exactly the map's
// entry when series move, disappear (and are evicted) or come back.
TEST(ScrapeCacheTest, FindIsRightWhateverTheOrder) {
  ScrapeCache c;
  auto scrape = [&](std::vector<std::string> page, bool success) {
    std::vector<ScrapeCache::Entry*> got;
    c.Begin();
    for (const std::string& s : page) {
      ScrapeCache::Entry* e = c.Find(s);
      if (e == nullptr) e = c.Add(s);
      e->last_iter = c.iter();
      got.push_back(e);
    }
    c.End(success);
    return got;
  };
  const auto first = scrape({"a", "b", "c"}, true);
  EXPECT_EQ(scrape({"a", "b", "c"}, true), first);
  // Moved: every series still maps to its own entry.
  EXPECT_EQ(scrape({"c", "a", "b"}, true),
            (std::vector<ScrapeCache::Entry*>{first[2], first[0], first[1]}));
  // "a" gone: evicted by the successful scrape, so it is unknown at its old position.
  scrape({"b", "c"}, true);
  EXPECT_EQ(c.size(), 2u);
  c.Begin();
  EXPECT_EQ(c.Find("a"), nullptr);
  EXPECT_EQ(c.Find("b"), first[1]);
  EXPECT_EQ(c.Find("zzz"), nullptr);
  c.End(false);
  // After a failed scrape the last successful order still answers, and duplicates are fine.
  EXPECT_EQ(scrape({"b", "c", "c"}, false),
            (std::vector<ScrapeCache::Entry*>{first[1], first[2], first[2]}));
  const auto back = scrape({"a", "b", "c"}, true);
  EXPECT_EQ(back[1], first[1]);
  EXPECT_EQ(back[2], first[2]);
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.Find("a"), back[0]);
  // Found but not appended (last_iter not set): evicted, and no longer found at its position.
  c.Begin();
  ASSERT_NE(c.Find("a"), nullptr);
  c.Find("b")->last_iter = c.iter();
  c.End(true);
  c.Begin();
  EXPECT_EQ(c.Find("a"), nullptr);
  EXPECT_EQ(c.Find("b"), first[1]);
  c.End(false);
}

TEST(ScrapeCacheTest, SuccessfulScrapeForgetsUnseenSeriesFailedScrapeKeepsThem) {
  ScrapeCache c;
  c.Begin();
  c.Add("gone")->last_iter = c.iter();
  c.Add("kept")->last_iter = c.iter();
  c.SetType("gone", model::MetricType::kGauge);
  c.End(true);
  // A failed scrape appends nothing and forgets nothing.
  c.Begin();
  c.End(false);
  EXPECT_NE(c.Find("gone"), nullptr);
  // The next successful scrape without "gone" reports it stale, then forgets it, so its
  // return is a new series again (as upstream's scrape_series_added counts it).
  c.Begin();
  c.Find("kept")->last_iter = c.iter();
  c.End(true);
  EXPECT_EQ(c.Find("gone"), nullptr);
  ASSERT_NE(c.Find("kept"), nullptr);
  EXPECT_EQ(c.size(), 1u);
  // Its metadata (last seen in iteration 1) stays until kMetadataGrace iterations later.
  std::string family;
  bool changed = false;
  while (c.iter() < 1 + ScrapeCache::kMetadataGrace) {
    c.Begin();
    c.End(true);
  }
  EXPECT_NE(c.GetMetadata("gone", &family, &changed), nullptr);
  c.Begin();
  c.End(true);
  EXPECT_EQ(c.GetMetadata("gone", &family, &changed), nullptr);
}

// Metadata lookups are guessed by position too: whatever the order, each line updates its
// own family, changes are seen, and evicted families are not guessed back.
TEST(ScrapeCacheTest, MetadataFollowsItsFamilyWhateverTheOrder) {
  ScrapeCache c;
  struct Line {
    char kind;
    std::string family, value;
  };
  // One iteration; returns whether metadata changed in it.
  auto scrape = [&](const std::vector<Line>& lines, bool success = true) {
    c.Begin();
    for (const Line& l : lines) {
      if (l.kind == 'H') c.SetHelp(l.family, l.value);
      if (l.kind == 'U') c.SetUnit(l.family, l.value);
      if (l.kind == 'T') {
        c.SetType(l.family,
                  l.value == "counter" ? model::MetricType::kCounter : model::MetricType::kGauge);
      }
    }
    const bool changed = c.metadata_changed_now();
    c.End(success);
    return changed;
  };
  auto get = [&](const std::string& metric) {
    std::string family;
    bool changed = false;
    const model::Metadata* md = c.GetMetadata(metric, &family, &changed);
    if (md == nullptr) return std::string("none");
    return family + " " + std::string(model::MetricTypeName(md->type)) + " " + md->help + " " +
           md->unit;
  };
  const std::vector<Line> page = {
      {'H', "a", "A help"}, {'T', "a", "counter"}, {'H', "b", "B help"}, {'T', "b", "gauge"}};
  EXPECT_TRUE(scrape(page));
  EXPECT_FALSE(scrape(page));
  EXPECT_EQ(get("a_total"), "a counter A help ");
  EXPECT_EQ(get("b"), "b gauge B help ");
  // Swapped families: each line still lands on its own family, and nothing changed.
  EXPECT_FALSE(scrape({page[2], page[3], page[0], page[1]}));
  EXPECT_EQ(get("a"), "a counter A help ");
  EXPECT_EQ(get("b"), "b gauge B help ");
  // A changed help at an unchanged position, and a new unit.
  EXPECT_TRUE(scrape({page[0], page[1], {'H', "b", "B new"}, {'U', "b", "bytes"}, page[3]}));
  EXPECT_EQ(get("b"), "b gauge B new bytes");
  EXPECT_FALSE(scrape({page[0], page[1], {'H', "b", "B new"}, {'U', "b", "bytes"}, page[3]}));
  // A failed scrape's changes stay in the cache, and the next scrape compares with them.
  EXPECT_TRUE(scrape({{'H', "a", "A failed"}}, false));
  EXPECT_EQ(get("a"), "a counter A failed ");
  EXPECT_TRUE(scrape(page));
  EXPECT_EQ(get("a"), "a counter A help ");
  EXPECT_EQ(get("b"), "b gauge B help bytes");
  // "b" unseen for longer than the grace period: evicted; a later line recreates it.
  for (uint64_t i = 0; i <= ScrapeCache::kMetadataGrace; ++i) scrape({page[0], page[1]});
  EXPECT_EQ(get("b"), "none");
  EXPECT_TRUE(scrape(page));
  EXPECT_EQ(get("b"), "b gauge B help ");
}

TEST(ApiJsonTest, GoEncoding) {
  std::string out;
  AppendJsonString(&out, "<a&\n\"\\\x01\u2028");
  EXPECT_EQ(out, R"("\u003ca\u0026\n\"\\\u0001\u2028")");
  EXPECT_EQ(FormatRfc3339Millis(0), "0001-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339Millis(1500), "1970-01-01T00:00:01.5Z");
  EXPECT_EQ(FormatRfc3339Millis(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatRfc3339Millis(1700000000000), "2023-11-14T22:13:20Z");
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(ScrapeLoopTest, RealNodeExporter) {
  const char* kBinary = "/usr/bin/prometheus-node-exporter";
  if (access(kBinary, X_OK) != 0) GTEST_SKIP() << "node_exporter not installed";
  int port = FreePort();
  std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
  pid_t pid = fork();
  if (pid == 0) {
    execl(kBinary, kBinary, listen.c_str(), "--log.level=error", nullptr);
    _exit(127);
  }
  std::string address = "127.0.0.1:" + std::to_string(port);
  cfg_ =
      std::make_shared<const config::ScrapeConfig>(LoadConfig(JobYaml(address)).scrape_configs[0]);
  auto r = PopulateLabels({}, model::Labels{{"__address__", address}}, *cfg_);
  ASSERT_TRUE(r.ok());
  auto target = std::make_shared<Target>(r->labels, r->discovered, cfg_->params);
  loop_ = std::make_unique<ScrapeLoop>(target, cfg_, head_.get(), &metrics_, 0, Logger());
  int64_t t = 1000;
  for (int i = 0; i < 60 && target->health() != TargetHealth::kUp; ++i, t += 1000) {
    std::this_thread::sleep_for(50ms);
    loop_->ScrapeAndReport(t);
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  ASSERT_EQ(target->health(), TargetHealth::kUp) << target->last_error();
  SeriesSamples all = Query("node_.*");
  EXPECT_GT(all.size(), 50u);
  model::Metadata md;
  EXPECT_TRUE(target->GetMetadata("node_cpu_seconds_total", &md) ||
              target->GetMetadata("node_time_seconds", &md));
}

// Upstream's getGlobalURL: loopback hosts become the external host; our own port becomes
// the external URL's scheme and host:port.
TEST(GlobalUrlTest, LoopbackTargetsGetTheExternalHost) {
  const GlobalUrlOptions opts{"https", "prom.example.com:443", "0.0.0.0:9090"};
  const std::pair<std::string, std::string> cases[] = {
      {"http://127.0.0.1:9100/metrics", "http://prom.example.com:9100/metrics"},
      {"http://localhost:9100/metrics?x=1", "http://prom.example.com:9100/metrics?x=1"},
      {"http://[::1]:9100/metrics", "http://prom.example.com:9100/metrics"},
      {"http://127.0.0.1:9090/metrics", "https://prom.example.com:443/metrics"},
      {"http://10.0.0.1:9100/metrics", "http://10.0.0.1:9100/metrics"},
      {"http://127.0.0.1/metrics", "http://127.0.0.1/metrics"},  // no port: unchanged
      {"http://127.0.0.2:9100/metrics", "http://127.0.0.2:9100/metrics"},
  };
  for (const auto& [url, want] : cases) EXPECT_EQ(GlobalUrl(url, opts), want) << url;
  // An external URL without a port: only our own port can be rewritten.
  const GlobalUrlOptions no_port{"https", "prom.example.com", "0.0.0.0:9090"};
  EXPECT_EQ(GlobalUrl("http://127.0.0.1:9100/m", no_port), "http://127.0.0.1:9100/m");
  EXPECT_EQ(GlobalUrl("http://127.0.0.1:9090/m", no_port), "https://prom.example.com/m");
  EXPECT_EQ(GlobalUrl("http://127.0.0.1:9100/m", GlobalUrlOptions{}), "http://127.0.0.1:9100/m");
}

}  // namespace
}  // namespace kiln::scrape
