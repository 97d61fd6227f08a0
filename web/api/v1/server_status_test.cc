#include "web/api/v1/server_status.h"

#include <gtest/gtest.h>

#include "web/api/v1/api.h"

namespace kiln::web::api::v1 {
namespace {

TEST(ServerStatusTest, Formats) {
  EXPECT_EQ(FormatPromDuration(15LL * 86400000), "15d");
  EXPECT_EQ(FormatPromDuration(14LL * 86400000), "2w");
  EXPECT_EQ(FormatPromDuration(365LL * 86400000), "1y");
  EXPECT_EQ(FormatPromDuration(90LL * 60000), "1h30m");
  EXPECT_EQ(FormatPromDuration(1500), "1s500ms");
  EXPECT_EQ(FormatPromDuration(0), "0s");
  EXPECT_EQ(FormatBase2Bytes(10LL << 30), "10GiB");
  EXPECT_EQ(FormatBase2Bytes((1LL << 30) + (512LL << 20)), "1GiB512MiB");
  EXPECT_EQ(FormatBase2Bytes(1000), "1000B");
  using std::chrono::system_clock;
  const auto t = system_clock::time_point(std::chrono::nanoseconds(1795303238860116125LL));
  EXPECT_EQ(FormatRfc3339(t), "2026-11-21T23:20:38.860116125Z");
  EXPECT_EQ(FormatRfc3339(t, true), "2026-11-21T23:20:38Z");
  EXPECT_EQ(FormatRfc3339(system_clock::time_point(std::chrono::milliseconds(1500))),
            "1970-01-01T00:00:01.5Z");
}

TEST(ServerStatusTest, ServesStatusPages) {
  Flags flags;
  ASSERT_TRUE(ParseFlags({"--storage.tsdb.retention.size=10GB"}, &flags).ok());
  ServerStatus status(
      {&flags, [] { return std::string("global:\n  scrape_interval: 1m\n"); }, nullptr});
  status.SetWalReplay({1, 5, 3});
  ApiDeps deps;
  deps.status = &status;
  const Api api(deps);
  auto body = [&](std::string_view path) { return api.Handle(path, ApiRequest{}).BodyString(); };
  EXPECT_EQ(body("/status/config"),
            R"({"status":"success","data":{"yaml":"global:\n  scrape_interval: 1m\n"}})");
  EXPECT_EQ(body("/status/walreplay"),
            R"({"status":"success","data":{"min":1,"max":5,"current":3}})");
  const std::string flags_body = body("/status/flags");  // Go's String() of the size
  EXPECT_NE(flags_body.find(R"("storage.tsdb.retention.size":"10GiB")"), std::string::npos);
  EXPECT_NE(flags_body.find(R"("web.listen-address":"0.0.0.0:9090")"), std::string::npos);
  const std::string rt = body("/status/runtimeinfo");
  EXPECT_NE(rt.find(R"("reloadConfigSuccess":true)"), std::string::npos) << rt;
  EXPECT_NE(rt.find(R"("storageRetention":"10GiB")"), std::string::npos) << rt;
  status.SetConfigReload(false, std::chrono::system_clock::now());
  EXPECT_NE(body("/status/runtimeinfo").find(R"("reloadConfigSuccess":false)"), std::string::npos);
}

}  // namespace
}  // namespace kiln::web::api::v1
