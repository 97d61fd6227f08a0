#include "web/api/v1/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>

namespace kiln::web::api::v1 {
namespace {

std::string Quoted(std::string_view s) {
  std::string out;
  JsonWriter::AppendQuoted(&out, s);
  return out;
}

std::string Num(double v) {
  std::string out;
  JsonWriter::AppendNumber(&out, v);
  return out;
}

// Expected values are what Go's encoding/json (and Prometheus's jsoniter config compatible
// with it) print for the same input.
TEST(JsonWriterTest, EscapesLikeGo) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {"plain", R"("plain")"},
      {"a\"b\\c", R"("a\"b\\c")"},
      {"\n\r\t", R"("\n\r\t")"},
      {std::string("\b\f\x01\x1f", 4), R"("\u0008\u000c\u0001\u001f")"},
      {"<op:*> & >", R"("\u003cop:*\u003e \u0026 \u003e")"},
      {"\x7f", "\"\x7f\""},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
       "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
      {"\xe2\x80\xa8\xe2\x80\xa9", R"("\u2028\u2029")"},
      {"bad\xff", R"("bad\ufffd")"},
      {"\xc0\xaf", R"("\ufffd\ufffd")"},            // overlong '/'
      {"\xed\xa0\x80", R"("\ufffd\ufffd\ufffd")"},  // a surrogate
      {"\xe2\x82", R"("\ufffd\ufffd")"},            // truncated sequence
      {"host-1:9100", R"("host-1:9100")"},
      {"a<b\xc3\xa9\"c", R"("a\u003cb)"
                         "\xc3\xa9"
                         R"(\"c")"},
  };
  for (const auto& c : cases) EXPECT_EQ(Quoted(c.in), c.want) << c.in;
}

TEST(JsonWriterTest, NumbersLikeGo) {
  struct Case {
    double in;
    const char* want;
  } cases[] = {
      {0, "0"},
      {1, "1"},
      {-2.5, "-2.5"},
      {0.000053, "0.000053"},
      {1e-6, "0.000001"},
      {1e-7, "1e-7"},
      {1.5e-10, "1.5e-10"},
      {1e20, "100000000000000000000"},
      {1e21, "1e+21"},
      {123456789.125, "123456789.125"},
      {-0.0, "-0"},
      {1.1794769188332208e+19, "11794769188332208000"},  // Go's digits, not the exact integer
      {9007199254740991, "9007199254740991"},
  };
  for (const auto& c : cases) EXPECT_EQ(Num(c.in), c.want) << c.in;
  EXPECT_EQ(Num(NAN), "null");
}

TEST(JsonWriterTest, InsertsCommas) {
  std::string out;
  {
    JsonWriter w(&out);
    w.BeginObject().Key("a").BeginArray().Int(1).String("x").Bool(true).Null().EndArray();
    w.Key("b").BeginObject().EndObject().Key("c").BeginArray().BeginArray().EndArray();
    w.BeginArray().Uint(2).EndArray().EndArray().Key("d").Raw("[1,2]").EndObject();
  }
  EXPECT_EQ(out, R"({"a":[1,"x",true,null],"b":{},"c":[[],[2]],"d":[1,2]})");
}

TEST(JsonWriterTest, StreamsInChunks) {
  std::vector<std::string> chunks;
  {
    JsonWriter w(
        [&](std::string_view c) {
          chunks.emplace_back(c);
          return true;
        },
        16);
    w.BeginArray();
    for (int i = 0; i < 100; ++i) w.String("value");
    w.EndArray();
  }
  ASSERT_GT(chunks.size(), 10u);
  std::string joined;
  for (const auto& c : chunks) {
    EXPECT_LT(c.size(), 64u);
    joined += c;
  }
  EXPECT_EQ(joined.front(), '[');
  EXPECT_EQ(joined.back(), ']');
  EXPECT_EQ(joined.size(), 2 + 100 * 7 + 99);
}

TEST(JsonWriterTest, StopsWhenSinkFails) {
  int calls = 0;
  JsonWriter w(
      [&](std::string_view) {
        ++calls;
        return false;
      },
      4);
  w.BeginArray();
  for (int i = 0; i < 10; ++i) w.String("abcdef");
  w.EndArray();
  w.Flush();
  EXPECT_TRUE(w.failed());
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace kiln::web::api::v1
