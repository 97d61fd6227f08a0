#include "pkg/util/logger.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(LoggerTest, LogfmtQuotesOnlyWhenNeeded) {
  Logger l = Logger().With({{"component", "tsdb"}});
  std::string line = l.Format(LogLevel::kWarn, "WAL repaired", {{"segment", "3"}, {"err", "bad \"crc\""}});
  EXPECT_EQ(line.rfind("ts=", 0), 0u);
  EXPECT_NE(line.find(" component=tsdb level=warn msg=\"WAL repaired\" segment=3 err=\"bad \\\"crc\\\"\"\n"),
            std::string::npos)
      << line;
}

TEST(LoggerTest, Json) {
  Logger l(LogLevel::kInfo, Logger::Format::kJson);
  std::string line = l.Format(LogLevel::kInfo, "ready", {{"addr", ":9090"}});
  EXPECT_NE(line.find("\"level\":\"info\",\"msg\":\"ready\",\"addr\":\":9090\"}"), std::string::npos)
      << line;
}

TEST(LoggerTest, ParseFlags) {
  LogLevel lv;
  EXPECT_TRUE(Logger::ParseLevel("debug", &lv));
  EXPECT_EQ(lv, LogLevel::kDebug);
  EXPECT_FALSE(Logger::ParseLevel("loud", &lv));
}

}  // namespace
}  // namespace kiln
