#include "web/api/v1/params.h"

#include <gtest/gtest.h>

namespace kiln::web::api::v1 {
namespace {

// Expected values checked against Prometheus 2.42 (query?query=time()&time=…).
TEST(ParamsTest, ParseTime) {
  struct Case {
    const char* in;
    int64_t want_ms;
  } cases[] = {
      {"0", 0},
      {"4", 4000},
      {"1435781451.781", 1435781451781},
      {"1.25", 1250},
      {"0.0015", 2},  // fraction rounded half away from zero
      {"1.0000001", 1000},
      {"0.0009", 1},
      {"-1.5", -1500},
      {"-1.0005", -1000},  // -1.0005 is a hair above -1.0005 in binary
      {"1e3", 1000000},
      {"+2", 2000},
      {"2015-07-01T20:10:51.781Z", 1435781451781},
      {"2015-07-01T20:10:51Z", 1435781451000},
      {"2015-07-01T20:10:51.781+02:00", 1435774251781},
      {"2015-07-01T20:10:51.7819999Z", 1435781451781},  // nanoseconds truncated
      {"2016-02-29T00:00:00-00:30", 1456705800000},
      {"1969-12-31T23:59:59.5Z", -500},
      {"-292273086-05-16T16:47:06Z", kApiMinTimeMs},
      {"292277025-08-18T07:12:54.999999999Z", kApiMaxTimeMs},
  };
  for (const auto& c : cases) {
    auto got = ParseTime(c.in);
    ASSERT_TRUE(got.ok()) << c.in << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.want_ms) << c.in;
  }
}

TEST(ParamsTest, ParseTimeErrors) {
  for (const char* in :
       {"", "foo", " 1", "1 ", "0x10", "1_000", "NaN", "Inf", "1e400", "2015-07-01t20:10:51Z",
        "2015-07-01T20:10:51.1234567891Z", "2015-02-29T00:00:00Z", "2015-07-01T24:00:00Z",
        "2015-07-01 20:10:51Z", "2015-07-01T20:10:51", "2015-07-01T20:10:51+0200",
        "-292273086-05-17T16:47:06Z"}) {
    auto got = ParseTime(in);
    ASSERT_FALSE(got.ok()) << in;
    EXPECT_EQ(got.status().message(), "cannot parse " + GoQuote(in) + " to a valid timestamp");
  }
}

TEST(ParamsTest, ParseTimeParamWrapsLikeUpstream) {
  ApiRequest r;
  r.form = {{"time", "foo"}, {"time", "5"}};
  auto got = ParseTimeParam(r, "time", 7);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(
      got.status().message(),
      R"(invalid parameter "time": Invalid time value for 'time': cannot parse "foo" to a valid timestamp)");
  EXPECT_EQ(*ParseTimeParam(r, "start", 7), 7);
}

TEST(ParamsTest, ParseDuration) {
  struct Case {
    const char* in;
    int64_t want_ns;
  } cases[] = {
      {"15", 15000000000}, {"0.5", 500000000},       {"1e-3", 1000000}, {"-1", -1000000000},
      {"1m", 60000000000}, {"1h30m", 5400000000000}, {"5ms", 5000000},  {"1d", 86400000000000},
  };
  for (const auto& c : cases) {
    auto got = ParseDurationNs(c.in);
    ASSERT_TRUE(got.ok()) << c.in << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.want_ns) << c.in;
  }
  EXPECT_EQ(ParseDurationNs("foo").status().message(), R"(cannot parse "foo" to a valid duration)");
  EXPECT_EQ(ParseDurationNs("").status().message(), R"(cannot parse "" to a valid duration)");
  EXPECT_EQ(ParseDurationNs("1e10").status().message(),
            R"(cannot parse "1e10" to a valid duration. It overflows int64)");
}

TEST(ParamsTest, ParseLimit) {
  EXPECT_EQ(*ParseLimit(""), 0);
  EXPECT_EQ(*ParseLimit("0"), 0);
  EXPECT_EQ(*ParseLimit("+12"), 12);
  EXPECT_EQ(ParseLimit("x").status().message(), R"(strconv.Atoi: parsing "x": invalid syntax)");
  EXPECT_EQ(ParseLimit("1.5").status().message(), R"(strconv.Atoi: parsing "1.5": invalid syntax)");
  EXPECT_EQ(ParseLimit("99999999999999999999").status().message(),
            R"(strconv.Atoi: parsing "99999999999999999999": value out of range)");
  EXPECT_EQ(ParseLimit("-1").status().message(), "limit must be non-negative");
}

TEST(ParamsTest, ParseMatchers) {
  auto sets = ParseMatchersParam({"up", R"({job="a",x!="b"})"});
  ASSERT_TRUE(sets.ok()) << sets.status().ToString();
  ASSERT_EQ(sets->size(), 2u);
  EXPECT_EQ((*sets)[1].size(), 2u);
  EXPECT_EQ(ParseMatchersParam({R"({a=""})"}).status().message(),
            "match[] must contain at least one non-empty matcher");
  EXPECT_EQ(ParseMatchersParam({R"({a=~".*"})"}).status().message(),
            "match[] must contain at least one non-empty matcher");
  EXPECT_EQ(ParseMatchersParam({"foo("}).status().code(), StatusCode::kBadData);
}

TEST(ParamsTest, UnescapeLabelName) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"job", "job"},
      {"U__foo", "foo"},
      {"U__foo_2e_bar", "foo.bar"},
      {"U__a__b", "a_b"},
      {"U___1f600_", "\xf0\x9f\x98\x80"},
      {"U__foo_", "U__foo_"},            // dangling underscore
      {"U__foo_2e", "U__foo_2e"},        // unterminated code
      {"U__foo_zz_", "U__foo_zz_"},      // not hex
      {"U___1234567_", "U___1234567_"},  // too many digits
      {"U___d800_", "U___d800_"},        // surrogate
  };
  for (const auto& c : cases) EXPECT_EQ(UnescapeLabelName(c.in), c.want) << c.in;
}

TEST(ParamsTest, ParseUrlEncoded) {
  std::vector<Param> got;
  ParseUrlEncoded("a=1&match%5B%5D=up%7Bjob%3D%22x%22%7D&b=x+y&&c&bad=%zz&semi=1;2&d=%41", &got);
  std::vector<Param> want = {
      {"a", "1"}, {"match[]", R"(up{job="x"})"}, {"b", "x y"}, {"c", ""}, {"d", "A"}};
  EXPECT_EQ(got, want);
}

TEST(ParamsTest, FormValueOrderAndHeaders) {
  ApiRequest r;
  r.form = {{"query", "from_body"}, {"query", "from_url"}, {"match[]", "a"}, {"match[]", "b"}};
  r.headers = {{"Accept-Encoding", "gzip"}};
  EXPECT_EQ(r.FormValue("query"), "from_body");
  EXPECT_EQ(r.FormValue("missing"), "");
  EXPECT_EQ(r.FormValues("match[]"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.Header("accept-encoding"), "gzip");
}

}  // namespace
}  // namespace kiln::web::api::v1
