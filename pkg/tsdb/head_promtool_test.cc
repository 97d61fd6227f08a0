// Prometheus reads what the head writes: `promtool tsdb dump` (Prometheus 2.42) over a data
// directory the head wrote (WAL and chunks_head/) returns exactly the committed samples.
#include <gtest/gtest.h>
#include <stdio.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "pkg/tsdb/head.h"
#include "pkg/tsdb/head_test_util.h"
#include "pkg/util/float_format.h"

namespace kiln::tsdb {
namespace {

using model::Labels;
using testing::TempDir;

constexpr const char* kPromtool = "/usr/bin/promtool";

// Runs `cmd` and returns its standard output.
std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST(HeadPromtoolTest, PromtoolDumpsWhatTheHeadWrote) {
  if (!std::filesystem::exists(kPromtool)) GTEST_SKIP() << "promtool not installed";
  TempDir dir;
  std::multiset<std::string> want;
  {
    HeadOptions o;
    o.dir = dir.path();
    o.logger = Logger(LogLevel::kError);
    auto head = std::move(Head::Open(o)).value();
    const int64_t start = 1700000000000;
    for (int batch = 0; batch < 4; ++batch) {
      auto app = head->NewAppender();
      for (int s = 0; s < 5; ++s) {
        Labels ls{
            {"__name__", "kiln_test_metric"}, {"series", std::to_string(s)}, {"quote", "a\"b"}};
        for (int i = 0; i < 100; ++i) {
          int64_t t = start + (batch * 100 + i) * 15000;
          double v = s % 2 ? (batch * 100 + i) * 1.5 : 0.01 * i - s;
          ASSERT_TRUE(app->Append(0, ls, t, v).ok());
          want.insert(ls.ToString() + " " + FormatFloatG(v) + " " + std::to_string(t));
        }
      }
      ASSERT_TRUE(app->Commit().ok());
    }
    ASSERT_TRUE(head->Close().ok());
  }
  ASSERT_TRUE(std::filesystem::exists(dir.path() + "/chunks_head/000001"));
  std::string out =
      RunCommand(std::string(kPromtool) + " tsdb dump " + dir.path() + " 2>/dev/null");
  std::multiset<std::string> got;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) got.insert(line);
  }
  EXPECT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace kiln::tsdb
