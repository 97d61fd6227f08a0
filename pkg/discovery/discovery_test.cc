#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>

#include "pkg/discovery/dns_discoverer.h"
#include "pkg/discovery/manager.h"

namespace kiln::discovery {
namespace {

using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kiln-sd-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& body) {
  // Write then rename, so the manager never reads a half-written file.
  std::string tmp = path + ".tmp";
  std::ofstream(tmp) << body;
  std::filesystem::rename(tmp, path);
}

// Records every update the manager sends and waits for one that satisfies a predicate.
class Recorder {
 public:
  Manager::Consumer consumer() {
    return [this](const Manager::TargetSets& sets) {
      std::lock_guard<std::mutex> lock(mu_);
      last_ = sets;
      ++updates_;
      cv_.notify_all();
    };
  }
  bool WaitFor(const std::function<bool(const Manager::TargetSets&)>& pred) {
    std::unique_lock<std::mutex> lock(mu_);
    // Generous: a healthy run returns at once, a loaded CI machine under ASan can be slow.
    return cv_.wait_for(lock, 60s, [&] { return updates_ > 0 && pred(last_); });
  }
  int updates() {
    std::lock_guard<std::mutex> lock(mu_);
    return updates_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  Manager::TargetSets last_;
  int updates_ = 0;
};

// All target addresses of `job`, with the group labels printed after each, sorted.
std::vector<std::string> Addresses(const Manager::TargetSets& sets, const std::string& job) {
  std::vector<std::string> out;
  auto it = sets.find(job);
  if (it == sets.end()) return out;
  for (const auto& g : it->second) {
    for (const auto& t : g.targets) out.push_back(std::string(t.Get("__address__")));
  }
  std::sort(out.begin(), out.end());
  return out;
}

ManagerOptions FastOptions() {
  ManagerOptions o;
  o.update_interval = 20ms;
  o.poll_interval = 10ms;
  return o;
}

TEST(ParseTargetGroupsTest, Table) {
  struct Case {
    const char* in;
    bool ok;
    size_t groups;
  };
  const Case cases[] = {
      {R"([{"targets": ["a:1", "b:2"], "labels": {"env": "prod"}}])", true, 1},
      {"- targets: ['a:1']\n- targets: ['b:1']\n  labels: {x: y}\n", true, 2},
      {"[]", true, 0},
      {"", true, 0},
      {R"([{"targets": ["a:1"], "bogus": 1}])", false, 0},
      {R"([{"targets": [["a"]]}])", false, 0},
      {R"({"targets": ["a:1"]})", false, 0},
      {"[{\"targets\": [\"a\"], \"labels\": {\"\": \"x\"}}]", false, 0},
      {"[{", false, 0},
  };
  for (const Case& c : cases) {
    auto r = ParseTargetGroups(c.in);
    EXPECT_EQ(r.ok(), c.ok) << c.in;
    if (r.ok()) EXPECT_EQ(r->size(), c.groups) << c.in;
  }
  auto r = ParseTargetGroups(R"([{"targets": ["a:1"], "labels": {"env": "prod"}}])");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].targets[0].ToString(), R"({__address__="a:1"})");
  EXPECT_EQ((*r)[0].labels.ToString(), R"({env="prod"})");
}

TEST(ManagerTest, StaticConfigs) {
  Recorder rec;
  Manager m(FastOptions(), rec.consumer());
  config::ServiceDiscoveryConfigs sd;
  sd.static_configs.push_back({{"a:1", "b:2"}, {{"env", "x"}}});
  sd.static_configs.push_back({{"c:3"}, {}});
  config::ServiceDiscoveryConfigs empty;
  empty.unsupported.push_back({"kubernetes_sd_configs", "p.yml", 3, ""});
  m.ApplyConfig({{"job1", sd}, {"k8s", empty}});
  ASSERT_TRUE(rec.WaitFor([](const Manager::TargetSets& s) {
    return Addresses(s, "job1") == std::vector<std::string>{"a:1", "b:2", "c:3"} &&
           s.count("k8s") == 1 && s.at("k8s").empty();
  }));
}

TEST(ManagerTest, FileSDPicksUpChangesAndKeepsLastGoodContent) {
  TempDir dir;
  const std::string json = dir.path() + "/targets.json";
  WriteFile(json, R"([{"targets": ["a:1"], "labels": {"env": "prod"}}])");
  Recorder rec;
  Manager m(FastOptions(), rec.consumer());
  config::ServiceDiscoveryConfigs sd;
  config::FileSDConfig f;
  f.files = {dir.path() + "/*.json", dir.path() + "/*.yml"};
  sd.file_sd_configs.push_back(f);
  m.ApplyConfig({{"job", sd}});
  ASSERT_TRUE(rec.WaitFor([&](const Manager::TargetSets& s) {
    if (Addresses(s, "job") != std::vector<std::string>{"a:1"}) return false;
    const TargetGroup& g = s.at("job")[0];
    return g.source == json + ":0" && g.labels.Get("__meta_filepath") == json &&
           g.labels.Get("env") == "prod";
  }));

  WriteFile(json, R"([{"targets": ["a:1", "b:1"]}])");
  ASSERT_TRUE(rec.WaitFor([](const Manager::TargetSets& s) {
    return Addresses(s, "job") == std::vector<std::string>{"a:1", "b:1"};
  }));

  WriteFile(dir.path() + "/more.yml", "- targets: ['c:1']\n");
  ASSERT_TRUE(rec.WaitFor([](const Manager::TargetSets& s) {
    return Addresses(s, "job") == std::vector<std::string>{"a:1", "b:1", "c:1"};
  }));

  // A broken file keeps its last good groups.
  WriteFile(json, "[{ not json");
  WriteFile(dir.path() + "/more.yml", "- targets: ['d:1']\n");
  ASSERT_TRUE(rec.WaitFor([](const Manager::TargetSets& s) {
    return Addresses(s, "job") == std::vector<std::string>{"a:1", "b:1", "d:1"};
  }));

  std::filesystem::remove(json);
  ASSERT_TRUE(rec.WaitFor([](const Manager::TargetSets& s) {
    return Addresses(s, "job") == std::vector<std::string>{"d:1"};
  }));
}

// The kernel stamps mtimes with a coarse clock, so a file rewritten (or replaced by rename)
// within the tick of the previous read keeps its mtime; the change must be seen all the same.
// utimensat() puts the old mtime back to make that case deterministic.
TEST(ManagerTest, FileSDSeesRewritesThatKeepTheMtime) {
  TempDir dir;
  const std::string json = dir.path() + "/targets.json";
  WriteFile(json, R"([{"targets": ["a:1"]}])");
  Recorder rec;
  Manager m(FastOptions(), rec.consumer());
  config::ServiceDiscoveryConfigs sd;
  config::FileSDConfig f;
  f.files = {dir.path() + "/*.json"};
  sd.file_sd_configs.push_back(f);
  m.ApplyConfig({{"job", sd}});
  ASSERT_TRUE(rec.WaitFor([](const Manager::TargetSets& s) {
    return Addresses(s, "job") == std::vector<std::string>{"a:1"};
  }));
  auto same_mtime_as = [](const std::string& path, const struct stat& before) {
    const struct timespec times[2] = {before.st_atim, before.st_mtim};
    return utimensat(AT_FDCWD, path.c_str(), times, 0) == 0;
  };
  struct stat before {};
  ASSERT_EQ(stat(json.c_str(), &before), 0);
  // Replaced by rename, as config management tools write.
  WriteFile(json, R"([{"targets": ["b:1"]}])");
  ASSERT_TRUE(same_mtime_as(json, before));
  ASSERT_TRUE(rec.WaitFor([](const Manager::TargetSets& s) {
    return Addresses(s, "job") == std::vector<std::string>{"b:1"};
  }));
  // Rewritten in place.
  ASSERT_EQ(stat(json.c_str(), &before), 0);
  std::ofstream(json, std::ios::trunc) << R"([{"targets": ["c:1", "d:1"]}])";
  ASSERT_TRUE(same_mtime_as(json, before));
  ASSERT_TRUE(rec.WaitFor([](const Manager::TargetSets& s) {
    return Addresses(s, "job") == std::vector<std::string>{"c:1", "d:1"};
  }));
}

// A tiny HTTP SD server whose answer the test changes.
class SdServer {
 public:
  SdServer() {
    server_.Get("/sd", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      ++requests_;
      refresh_header_ = req.get_header_value("X-Prometheus-Refresh-Interval-Seconds");
      auth_ = req.get_header_value("Authorization");
      res.status = status_;
      res.set_content(body_, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~SdServer() {
    server_.stop();
    thread_.join();
  }
  void Set(int status, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    body_ = std::move(body);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/sd"; }
  int requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::string refresh_header() {
    std::lock_guard<std::mutex> lock(mu_);
    return refresh_header_;
  }
  std::string auth() {
    std::lock_guard<std::mutex> lock(mu_);
    return auth_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  int status_ = 200;
  std::string body_ = "[]";
  int requests_ = 0;
  std::string refresh_header_;
  std::string auth_;
};

TEST(ManagerTest, HttpSD) {
  SdServer srv;
  srv.Set(200, R"([{"targets": ["a:1"], "labels": {"dc": "x"}}])");
  Recorder rec;
  Manager m(FastOptions(), rec.consumer());
  config::ServiceDiscoveryConfigs sd;
  config::HTTPSDConfig h;
  h.url = srv.url();
  h.refresh_interval = config::Duration::Millis(50);
  h.http.authorization = config::Authorization{"Bearer", "s3cret", ""};
  sd.http_sd_configs.push_back(h);
  m.ApplyConfig({{"job", sd}});
  ASSERT_TRUE(rec.WaitFor([&](const Manager::TargetSets& s) {
    return Addresses(s, "job") == std::vector<std::string>{"a:1"} &&
           s.at("job")[0].labels.Get("__meta_url") == srv.url() &&
           s.at("job")[0].source == srv.url() + ":0";
  }));
  EXPECT_EQ(srv.refresh_header(), "0.05");
  EXPECT_EQ(srv.auth(), "Bearer s3cret");

  srv.Set(200, R"([{"targets": ["b:1"]}, {"targets": ["c:1"]}])");
  ASSERT_TRUE(rec.WaitFor([](const Manager::TargetSets& s) {
    return Addresses(s, "job") == std::vector<std::string>{"b:1", "c:1"};
  }));

  // Failures keep the last good result.
  auto wait_for_requests = [&](int n) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (srv.requests() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    return srv.requests() >= n;
  };
  srv.Set(500, "oops");
  ASSERT_TRUE(wait_for_requests(srv.requests() + 3));
  srv.Set(200, "not json");
  ASSERT_TRUE(wait_for_requests(srv.requests() + 3));
  ASSERT_TRUE(rec.WaitFor([](const Manager::TargetSets& s) {
    return Addresses(s, "job") == std::vector<std::string>{"b:1", "c:1"};
  }));
}

TEST(ManagerTest, ApplyConfigKeepsUnchangedProviders) {
  SdServer srv;
  srv.Set(200, R"([{"targets": ["a:1"]}])");
  Recorder rec;
  Manager m(FastOptions(), rec.consumer());
  config::ServiceDiscoveryConfigs sd;
  config::HTTPSDConfig h;
  h.url = srv.url();
  h.refresh_interval = config::Duration::Minutes(60);
  sd.http_sd_configs.push_back(h);
  m.ApplyConfig({{"job", sd}});
  ASSERT_TRUE(
      rec.WaitFor([](const Manager::TargetSets& s) { return !Addresses(s, "job").empty(); }));
  EXPECT_EQ(srv.requests(), 1);

  // Same config: the provider keeps running, no new request.
  config::ServiceDiscoveryConfigs other;
  other.static_configs.push_back({{"z:9"}, {}});
  m.ApplyConfig({{"job", sd}, {"other", other}});
  ASSERT_TRUE(rec.WaitFor([](const Manager::TargetSets& s) {
    return Addresses(s, "other") == std::vector<std::string>{"z:9"} &&
           Addresses(s, "job") == std::vector<std::string>{"a:1"};
  }));
  EXPECT_EQ(srv.requests(), 1);

  // A changed config restarts the provider, which asks again.
  sd.http_sd_configs[0].http.authorization = config::Authorization{"Bearer", "new", ""};
  m.ApplyConfig({{"job", sd}});
  ASSERT_TRUE(rec.WaitFor([](const Manager::TargetSets& s) { return s.count("other") == 0; }));
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (srv.requests() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(srv.requests(), 2);
  EXPECT_EQ(srv.auth(), "Bearer new");
}

// Builds a DNS response: header, one question, then answers whose owner name points back at
// the question (compression pointer 0xC00C), as a real server sends them.
class DnsMessage {
 public:
  DnsMessage(const std::string& qname, uint16_t qtype) {
    Put16(0x1234), Put16(0x8180), Put16(1), Put16(0), Put16(0), Put16(0);
    PutName(qname);
    Put16(qtype), Put16(1);
  }
  void Answer(uint16_t type, const std::string& rdata) {
    Put16(0xC00C), Put16(type), Put16(1), Put16(0), Put16(60);
    Put16(static_cast<uint16_t>(rdata.size()));
    msg_ += rdata;
    uint16_t n = static_cast<uint16_t>(((uint8_t(msg_[6]) << 8) | uint8_t(msg_[7])) + 1);
    msg_[6] = char(n >> 8), msg_[7] = char(n & 0xff);
  }
  static std::string Name(const std::string& name) {
    std::string out;
    size_t start = 0;
    while (start < name.size()) {
      size_t dot = name.find('.', start);
      if (dot == std::string::npos) dot = name.size();
      out += char(dot - start);
      out += name.substr(start, dot - start);
      start = dot + 1;
    }
    return out + '\0';
  }
  static std::string U16(uint16_t v) { return {char(v >> 8), char(v & 0xff)}; }
  const std::string& bytes() const { return msg_; }

 private:
  void Put16(uint16_t v) { msg_ += U16(v); }
  void PutName(const std::string& n) { msg_ += Name(n); }
  std::string msg_;
};

TEST(DnsDiscovererTest, ParsesSrvARecordsAndSkipsOthers) {
  DnsMessage srv("_http._tcp.example.com", 33);
  srv.Answer(33, DnsMessage::U16(10) + DnsMessage::U16(5) + DnsMessage::U16(9100) +
                     DnsMessage::Name("node1.example.com"));
  srv.Answer(5, DnsMessage::Name("alias.example.com"));  // a CNAME: skipped
  srv.Answer(33, DnsMessage::U16(10) + DnsMessage::U16(5) + DnsMessage::U16(9200) +
                     DnsMessage::Name("node2.example.com"));
  auto t = DnsDiscoverer::ParseResponse(srv.bytes(), "_http._tcp.example.com", "SRV", 0);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ(
      (*t)[0].ToString(),
      R"({__address__="node1.example.com:9100", __meta_dns_name="_http._tcp.example.com", )"
      R"(__meta_dns_srv_record_port="9100", __meta_dns_srv_record_target="node1.example.com."})");
  EXPECT_EQ((*t)[1].Get("__address__"), "node2.example.com:9200");

  DnsMessage a("db.example.com", 1);
  a.Answer(1, std::string("\x0a\x00\x00\x07", 4));
  t = DnsDiscoverer::ParseResponse(a.bytes(), "db.example.com", "A", 5432);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 1u);
  EXPECT_EQ((*t)[0].ToString(),
            R"({__address__="10.0.0.7:5432", __meta_dns_name="db.example.com"})");

  DnsMessage aaaa("v6.example.com", 28);
  std::string v6(16, '\0');
  v6[15] = 1;
  aaaa.Answer(28, v6);
  t = DnsDiscoverer::ParseResponse(aaaa.bytes(), "v6.example.com", "AAAA", 80);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[0].Get("__address__"), "[::1]:80");

  DnsMessage mx("example.com", 15);
  mx.Answer(15, DnsMessage::U16(10) + DnsMessage::Name("mail.example.com"));
  t = DnsDiscoverer::ParseResponse(mx.bytes(), "example.com", "MX", 25);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[0].Get("__meta_dns_mx_record_target"), "mail.example.com.");
  EXPECT_EQ((*t)[0].Get("__address__"), "mail.example.com:25");

  std::string truncated = srv.bytes().substr(0, srv.bytes().size() - 5);
  EXPECT_FALSE(DnsDiscoverer::ParseResponse(truncated, "x", "SRV", 0).ok());
}

}  // namespace
}  // namespace kiln::discovery
