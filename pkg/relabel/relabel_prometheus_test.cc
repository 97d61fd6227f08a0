// Differential test: the real Prometheus (/usr/bin/prometheus) relabels a set of static
// targets with testdata/prometheus_relabel.yml; Kiln, given the same discovered labels and the
// same rules (decoded by pkg/config), must keep and drop the same targets and produce the same
// final label sets.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "pkg/config/config.h"
#include "pkg/relabel/relabel.h"
#include "pkg/util/test_listen.h"

namespace kiln::relabel {
namespace {

namespace fs = std::filesystem;

// A Prometheus server on a port the kernel picks (pkg/util/test_listen.h), with a fresh data
// directory, stopped at destruction.
class PrometheusServer {
 public:
  explicit PrometheusServer(const std::string& config) {
    std::string tmpl = (fs::temp_directory_path() / "kiln-relabel-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    std::string args[] = {"--config.file=" + config, "--storage.tsdb.path=" + dir_,
                          "--web.listen-address=127.0.0.1:0"};
    pid_ = fork();
    if (pid_ == 0) {
      freopen("/dev/null", "w", stderr);
      execl("/usr/bin/prometheus", "prometheus", args[0].c_str(), args[1].c_str(), args[2].c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    port_ = testutil::WaitForListeningPort(pid_);
  }
  ~PrometheusServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }
  // /api/v1/targets once `want` targets (active + dropped) are listed; null when Prometheus
  // did not start or list them in two minutes (generous for a loaded CI machine).
  nlohmann::json Targets(size_t want) {
    if (port_ <= 0) return nullptr;
    httplib::Client cli("127.0.0.1", port_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (std::chrono::steady_clock::now() < deadline) {
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
  int port_ = -1;
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
