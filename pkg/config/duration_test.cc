#include "pkg/config/duration.h"

#include <gtest/gtest.h>

#include "pkg/config/byte_size.h"

namespace kiln::config {
namespace {

TEST(DurationTest, ParseAndPrint) {
  struct Case {
    std::string in;
    int64_t ms;
    std::string printed;
  };
  const std::vector<Case> cases = {
      {"0", 0, "0s"},
      {"0s", 0, "0s"},
      {"1ms", 1, "1ms"},
      {"500ms", 500, "500ms"},
      {"15s", 15000, "15s"},
      {"90s", 90000, "1m30s"},
      {"1h30m", 5400000, "1h30m"},
      {"1d", 86400000, "1d"},
      {"7d", 604800000, "1w"},
      {"1w", 604800000, "1w"},
      {"90d", 7776000000, "90d"},
      {"1y", 31536000000, "1y"},
      {"1y2w3d4h5m6s7ms",
       31536000000 + 2 * 604800000LL + 3 * 86400000LL + 4 * 3600000LL + 5 * 60000LL + 6000 + 7,
       "382d4h5m6s7ms"},
  };
  for (const auto& c : cases) {
    auto d = Duration::Parse(c.in);
    ASSERT_TRUE(d.ok()) << c.in << ": " << d.status().ToString();
    EXPECT_EQ(d->millis(), c.ms) << c.in;
    EXPECT_EQ(d->ToString(), c.printed) << c.in;
  }
}

TEST(DurationTest, Rejects) {
  for (const char* bad : {"", "5", "5x", "1.5h", "-1s", "30s1m", "1m1m", "h", "1 m", "1hms"}) {
    auto d = Duration::Parse(bad);
    EXPECT_FALSE(d.ok()) << bad;
  }
  EXPECT_EQ(Duration::Parse("5x").status().message(), "not a valid duration string: \"5x\"");
  EXPECT_EQ(Duration::Parse("").status().message(), "empty duration string");
  EXPECT_FALSE(Duration::Parse("999999999999y").ok());
}

TEST(ByteSizeTest, ParseAndPrint) {
  struct Case {
    std::string in;
    int64_t bytes;
    std::string printed;
  };
  const std::vector<Case> cases = {
      {"0", 0, "0B"},
      {"100B", 100, "100B"},
      {"1KB", 1024, "1KiB"},
      {"10MB", 10 << 20, "10MiB"},
      {"10MiB", 10 << 20, "10MiB"},
      {"2GB", int64_t{2} << 30, "2GiB"},
      {"1536KB", 1536 * 1024, "1536KiB"},
  };
  for (const auto& c : cases) {
    auto b = ByteSize::Parse(c.in);
    ASSERT_TRUE(b.ok()) << c.in << ": " << b.status().ToString();
    EXPECT_EQ(b->bytes, c.bytes) << c.in;
    EXPECT_EQ(b->ToString(), c.printed) << c.in;
  }
  for (const char* bad : {"", "MB", "10", "10XB", "1.5MB"})
    EXPECT_FALSE(ByteSize::Parse(bad).ok()) << bad;
}

}  // namespace
}  // namespace kiln::config
