#include "pkg/tsdb/isolation.h"

#include <gtest/gtest.h>

namespace kiln::tsdb {
namespace {

TEST(IsolationTest, ReaderSeesOnlyFinishedAppends) {
  Isolation iso;
  uint64_t lw = 0;
  uint64_t a = iso.BeginAppend(&lw);
  iso.EndAppend(a);
  uint64_t b = iso.BeginAppend(&lw);  // still open when the reader starts
  IsolationState r = iso.OpenRead();
  uint64_t c = iso.BeginAppend(&lw);  // starts after the reader
  iso.EndAppend(b);
  iso.EndAppend(c);
  EXPECT_TRUE(r.Visible(a));
  EXPECT_FALSE(r.Visible(b));
  EXPECT_FALSE(r.Visible(c));
  IsolationState later = iso.OpenRead();
  EXPECT_TRUE(later.Visible(b));
  EXPECT_TRUE(later.Visible(c));
  iso.CloseRead(r);
  iso.CloseRead(later);
}

TEST(IsolationTest, LowWatermarkHeldByReadersAndOpenAppends) {
  Isolation iso;
  uint64_t lw = 0;
  EXPECT_EQ(iso.LowWatermark(), 1u);
  uint64_t a = iso.BeginAppend(&lw);
  EXPECT_EQ(lw, a);
  IsolationState r = iso.OpenRead();  // a is incomplete for r
  iso.EndAppend(a);
  uint64_t b = iso.BeginAppend(&lw);
  iso.EndAppend(b);
  // r cannot see a, so a's tags must survive.
  EXPECT_EQ(iso.LowWatermark(), a);
  iso.CloseRead(r);
  EXPECT_EQ(iso.LowWatermark(), b + 1);
  EXPECT_EQ(iso.OpenAppends(), 0u);
}

TEST(IsolationTest, ReaderWithoutIncompleteHoldsNextId) {
  Isolation iso;
  uint64_t lw = 0;
  uint64_t a = iso.BeginAppend(&lw);
  iso.EndAppend(a);
  IsolationState r = iso.OpenRead();
  uint64_t b = iso.BeginAppend(&lw);
  iso.EndAppend(b);
  // r sees a but not b: b's tags must be kept, a's may go.
  EXPECT_EQ(iso.LowWatermark(), b);
  iso.CloseRead(r);
}

}  // namespace
}  // namespace kiln::tsdb
