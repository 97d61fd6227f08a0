#include "pkg/util/coding.h"

#include <gtest/gtest.h>

#include <limits>

namespace kiln {
namespace {

TEST(CodingTest, VarintRoundTripMatchesGo) {
  struct Case {
    int64_t v;
    std::string bytes;  // Go's binary.PutVarint output
  } cases[] = {
      {0, std::string("\x00", 1)}, {-1, "\x01"}, {1, "\x02"}, {63, "\x7e"}, {-64, "\x7f"},
      {64, "\x80\x01"}, {300, "\xd8\x04"},
  };
  for (const auto& c : cases) {
    std::string buf;
    PutVarint(&buf, c.v);
    EXPECT_EQ(buf, c.bytes) << c.v;
    Decoder d(buf);
    EXPECT_EQ(d.Varint(), c.v);
    EXPECT_FALSE(d.err());
  }
  for (int64_t v : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    std::string buf;
    PutVarint(&buf, v);
    Decoder d(buf);
    EXPECT_EQ(d.Varint(), v);
  }
}

TEST(CodingTest, DecoderErrorsAreSticky) {
  Decoder d(std::string_view("\x80", 1));
  EXPECT_EQ(d.Uvarint(), 0u);
  EXPECT_TRUE(d.err());
  EXPECT_EQ(d.BE32(), 0u);
  EXPECT_TRUE(d.err());
}

TEST(CodingTest, BigEndian) {
  std::string buf;
  PutBE32(&buf, 0x01020304);
  PutBE64(&buf, 0x05060708090a0b0cULL);
  EXPECT_EQ(buf, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c");
  Decoder d(buf);
  EXPECT_EQ(d.BE32(), 0x01020304u);
  EXPECT_EQ(d.BE64(), 0x05060708090a0b0cULL);
  EXPECT_EQ(d.remaining(), 0u);
}

}  // namespace
}  // namespace kiln
