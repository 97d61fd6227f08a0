#include "pkg/util/float_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace kiln {
namespace {

// Expected strings are what Go's strconv.FormatFloat(v, fmt, -1, 64) returns.
struct Case {
  double v;
  const char* f;
  const char* g;
  const char* e;
};

TEST(FloatFormatTest, MatchesGo) {
  const Case cases[] = {
      {0, "0", "0", "0e+00"},
      {1, "1", "1", "1e+00"},
      {-2.5, "-2.5", "-2.5", "-2.5e+00"},
      {0.1, "0.1", "0.1", "1e-01"},
      {100000, "100000", "100000", "1e+05"},
      {1e6, "1000000", "1e+06", "1e+06"},
      {1066154, "1066154", "1.066154e+06", "1.066154e+06"},
      {0.0001, "0.0001", "0.0001", "1e-04"},
      {0.00001, "0.00001", "1e-05", "1e-05"},
      {1e21, "1000000000000000000000", "1e+21", "1e+21"},
      {123.456, "123.456", "123.456", "1.23456e+02"},
      {1.0 / 3, "0.3333333333333333", "0.3333333333333333", "3.333333333333333e-01"},
      {5e-324, nullptr, "5e-324", "5e-324"},
      {1.7976931348623157e308, nullptr, "1.7976931348623157e+308", "1.7976931348623157e+308"},
  };
  for (const auto& c : cases) {
    if (c.f) EXPECT_EQ(FormatFloatF(c.v), c.f) << c.v;
    EXPECT_EQ(FormatFloatG(c.v), c.g) << c.v;
    EXPECT_EQ(FormatFloatE(c.v), c.e) << c.v;
  }
}

TEST(FloatFormatTest, Specials) {
  EXPECT_EQ(FormatFloatF(std::nan("")), "NaN");
  EXPECT_EQ(FormatFloatG(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatFloatF(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatFloatF(-0.0), "-0");
}

}  // namespace
}  // namespace kiln
