#include "pkg/util/status.h"

#include <gtest/gtest.h>

#include "pkg/util/result.h"

namespace kiln {
namespace {

TEST(StatusTest, OkIsCheapAndEmpty) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(s.Wrap("ctx").ToString(), "OK");
}

TEST(StatusTest, WrapKeepsCode) {
  Status s = Status::Corruption("bad crc").Wrap("read segment 3");
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message(), "read segment 3: bad crc");
  EXPECT_EQ(s.ToString(), "corruption: read segment 3: bad crc");
}

Result<int> Half(int x) {
  if (x % 2) return Status::BadData("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  KILN_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(ResultTest, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_FALSE(Quarter(6).ok());
  EXPECT_EQ(Quarter(6).status().message(), "odd");
}

}  // namespace
}  // namespace kiln
