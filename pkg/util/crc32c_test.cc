#include "pkg/util/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace kiln {
namespace {

// Known answers from RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check value.
TEST(Crc32cTest, KnownAnswers) {
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62a8ab43u);
  std::string ascending;
  for (int i = 0; i < 32; i++) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(ascending), 0x46dd794eu);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string data;
  for (int i = 0; i < 1000; i++) data.push_back(static_cast<char>(i * 7));
  uint32_t c = 0;
  for (size_t i = 0; i < data.size(); i += 37) {
    c = Crc32cExtend(c, data.data() + i, std::min<size_t>(37, data.size() - i));
  }
  EXPECT_EQ(c, Crc32c(data));
}

}  // namespace
}  // namespace kiln
