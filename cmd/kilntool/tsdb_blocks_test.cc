// kilntool's tsdb block commands against promtool 2.42 on the same input: both backfill the
// same blocks (samples, chunks, series), each tool reads the other's blocks, and `list` and
// `dump` print byte-identical text. Skipped without /usr/bin/promtool.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::string Shell(const std::string& cmd, int* rc) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  *rc = pclose(f);
  return out;
}

// Every line of `table` without its first column (the ULIDs differ between tools).
std::string WithoutUlids(const std::string& table) {
  std::istringstream in(table);
  std::string line, out;
  while (std::getline(in, line)) out += line.substr(line.find("  ")) + "\n";
  return out;
}

class TsdbBlocksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists("/usr/bin/promtool")) GTEST_SKIP() << "promtool not installed";
    char tmpl[] = "/tmp/kilntool_blocks_XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream f(dir_ + "/in.om");
    f << "# HELP foo a gauge\n# TYPE foo gauge\n";
    for (int i = 0; i < 3; i++) {
      for (int k = 0; k < 600; k++) {
        f << "foo{i=\"" << i << "\"} " << i * 10 + k * 0.25 << " " << 1700000000 + k * 30 << "\n";
      }
    }
    f << "# TYPE bar counter\n";
    for (int k = 0; k < 100; k++) {
      const int64_t ms = 1700000000000 + k * 17500;
      f << "bar_total{x=\"a \\\"b\\\"\"} " << k << " " << ms / 1000 << "." << ms % 1000 / 100
        << "\n";
    }
    f << "# EOF\n";
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(TsdbBlocksTest, BackfillListAndDumpMatchPromtool) {
  const std::string kiln = KILNTOOL_PATH;
  int rc = 0;
  const std::string theirs = Shell(
      "promtool tsdb create-blocks-from openmetrics " + dir_ + "/in.om " + dir_ + "/prom", &rc);
  ASSERT_EQ(rc, 0);
  const std::string ours = Shell(
      kiln + " tsdb create-blocks-from openmetrics " + dir_ + "/in.om " + dir_ + "/kiln", &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(WithoutUlids(ours), WithoutUlids(theirs));  // samples, chunks, series, sizes
  for (const char* sub : {"/prom", "/kiln"}) {
    const std::string d = dir_ + sub;
    fs::create_directories(d + "/wal");  // promtool's dump opens the WAL too
    for (const char* flags : {"", "-r "}) {
      const std::string p = Shell(std::string("promtool tsdb list ") + flags + d, &rc);
      EXPECT_EQ(rc, 0);
      EXPECT_EQ(Shell(kiln + " tsdb list " + flags + d, &rc), p) << d;
      EXPECT_EQ(rc, 0);
    }
    // Analyze: same lines; promtool orders equal figures randomly, so compare sorted.
    // Without an id the newest block, with one the oldest (ULIDs sort before "wal").
    for (bool with_id : {false, true}) {
      std::string block_arg;
      if (with_id) block_arg = " " + Shell("ls " + d + " | head -1", &rc).substr(0, 26);
      auto sorted = [](std::string s) {
        std::vector<std::string> lines;
        std::istringstream in(s);
        for (std::string l; std::getline(in, l);) lines.push_back(l);
        std::sort(lines.begin(), lines.end());
        return lines;
      };
      const std::string pa = Shell("promtool tsdb analyze " + d + block_arg, &rc);
      EXPECT_EQ(rc, 0);
      EXPECT_EQ(sorted(Shell(kiln + " tsdb analyze " + d + block_arg, &rc)), sorted(pa)) << pa;
      EXPECT_EQ(rc, 0);
    }
    const std::string p = Shell("promtool tsdb dump " + d, &rc);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(std::count(p.begin(), p.end(), '\n'), 1900);
    EXPECT_EQ(Shell(kiln + " tsdb dump " + d, &rc), p) << d;
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(
        Shell(kiln + " tsdb dump --min-time=1700006420000 --max-time=1700006420000 " + d, &rc),
        Shell("promtool tsdb dump --min-time=1700006420000 --max-time=1700006420000 " + d, &rc));
  }
}

// dump-openmetrics output backfills into blocks holding exactly the same samples.
TEST_F(TsdbBlocksTest, DumpOpenMetricsRoundTripsThroughBackfill) {
  const std::string kiln = KILNTOOL_PATH;
  int rc = 0;
  Shell(kiln + " tsdb create-blocks-from openmetrics " + dir_ + "/in.om " + dir_ + "/a", &rc);
  ASSERT_EQ(rc, 0);
  fs::create_directories(dir_ + "/a/wal");
  const std::string om = Shell(kiln + " tsdb dump-openmetrics " + dir_ + "/a", &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_NE(om.find("bar_total{x=\"a \\\"b\\\"\"} 0 1700000000.000\n"), std::string::npos);
  EXPECT_EQ(om.substr(om.size() - 6), "# EOF\n");
  std::ofstream(dir_ + "/dump.om") << om;
  Shell(kiln + " tsdb create-blocks-from openmetrics " + dir_ + "/dump.om " + dir_ + "/b", &rc);
  ASSERT_EQ(rc, 0);
  fs::create_directories(dir_ + "/b/wal");
  EXPECT_EQ(Shell(kiln + " tsdb dump " + dir_ + "/b", &rc),
            Shell(kiln + " tsdb dump " + dir_ + "/a", &rc));
}

TEST_F(TsdbBlocksTest, BackfillRejectsSamplesWithoutTimestamps) {
  std::ofstream(dir_ + "/bad.om") << "foo 1\n# EOF\n";
  int rc = 0;
  Shell(std::string(KILNTOOL_PATH) + " tsdb create-blocks-from openmetrics " + dir_ + "/bad.om " +
            dir_ + "/out 2>/dev/null",
        &rc);
  EXPECT_NE(rc, 0);
}

}  // namespace
