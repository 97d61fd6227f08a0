// Differential test: the real Prometheus (/usr/bin/prometheus) relabels a set of static
// targets with testdata/prometheus_relabel.yml; Kiln, given the same discovered labels and the
// same rules (decoded by pkg/config), must keep and drop the same targets and produce the same
// final label sets.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "pkg/config/config.h"
#include "pkg/relabel/relabel.h"

namespace kiln::relabel {
namespace {

namespace fs = std::filesystem;

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

// A Prometheus server on a free port with a fresh data directory, stopped at destruction.
class PrometheusServer {
 public:
  explicit PrometheusServer(const std::string& config) : port_(FreePort()) {
    std::string tmpl = (fs::temp_directory_path() / "kiln-relabel-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    std::string args[] = {"--config.file=" + config, "--storage.tsdb.path=" + dir_,
                          "--web.listen-address=127.0.0.1:" + std::to_string(port_)};
    pid_ = fork();
    if (pid_ == 0) {
      freopen("/dev/null", "w", stderr);
      execl("/usr/bin/prometheus", "prometheus", args[0].c_str(), args[1].c_str(), args[2].c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~PrometheusServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }
  // /api/v1/targets once `want` targets (active + dropped) are listed; null on timeout.
  nlohmann::json Targets(size_t want) {
    httplib::Client cli("127.0.0.1", port_);
    for (int i = 0; i < 300; ++i) {
      auto res = cli.Get("/api/v1/targets");
      if (res && res->status == 200) {
        auto j = nlohmann::json::parse(res->body);
        if (j["data"]["activeTargets"].size() + j["data"]["droppedTargets"].size() >= want) {
          return j["data"];
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return nullptr;
  }

 private:
  int port_;
  std::string dir_;
  pid_t pid_ = -1;
};

model::Labels FromJson(const nlohmann::json& obj) {
  std::vector<model::Label> v;
  for (const auto& [k, val] : obj.items()) v.push_back({k, val.get<std::string>()});
  return model::Labels::FromVector(std::move(v));
}

// What Prometheus does after relabeling: drop `__` labels, default instance to __address__.
model::Labels Finalize(const model::Labels& ls) {
  model::LabelsBuilder b(ls);
  if (b.Get("instance").empty()) b.Set("instance", ls.Get("__address__"));
  for (const auto& l : ls) {
    if (std::string_view(l.name).starts_with("__")) b.Del(l.name);
  }
  return b.Build();
}

TEST(RelabelPrometheusTest, SameTargetsAndLabelsAsPrometheus) {
  if (!fs::exists("/usr/bin/prometheus")) GTEST_SKIP() << "no Prometheus";
  const char* src = std::getenv("KILN_SOURCE_DIR");
  const std::string path =
      std::string(src ? src : ".") + "/pkg/relabel/testdata/prometheus_relabel.yml";
  auto cfg = config::LoadFile(path);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const auto& rules = cfg->scrape_configs[0].relabel_configs;

  PrometheusServer prom(path);
  nlohmann::json targets = prom.Targets(5);
  ASSERT_FALSE(targets.is_null()) << "Prometheus did not list the targets";

  int kept = 0;
  for (const auto& t : targets["activeTargets"]) {
    model::Labels discovered = FromJson(t["discoveredLabels"]);
    auto ours = Process(discovered, rules);
    ASSERT_TRUE(ours.has_value()) << "Kiln drops " << discovered.ToString();
    EXPECT_EQ(Finalize(*ours).ToString(), FromJson(t["labels"]).ToString());
    ++kept;
  }
  int dropped = 0;
  for (const auto& t : targets["droppedTargets"]) {
    model::Labels discovered = FromJson(t["discoveredLabels"]);
    EXPECT_FALSE(Process(discovered, rules).has_value()) << "Kiln keeps " << discovered.ToString();
    ++dropped;
  }
  // drop-me is dropped by `drop`, Host-C by `keepequal` (host differs from its lowercase).
  EXPECT_EQ(kept, 3);
  EXPECT_EQ(dropped, 2);
}

}  // namespace
}  // namespace kiln::relabel
