#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "pkg/textparse/metrics.pb.h"
#include "pkg/textparse/openmetrics_parser.h"
#include "pkg/textparse/parser.h"
#include "pkg/textparse/prom_parser.h"
#include "pkg/textparse/protobuf_parser.h"
#include "pkg/textparse/text_scanner.h"

namespace kiln::textparse {
namespace {

namespace pb = io::prometheus::client;
using internal::FormatOpenMetricsFloat;

std::string TestData(const std::string& name) {
  const char* src = std::getenv("KILN_SOURCE_DIR");
  std::ifstream in(std::string(src ? src : ".") + "/pkg/textparse/testdata/" + name,
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Quote(std::string_view s) {
  std::string out;
  model::AppendGoQuoted(&out, s);
  return out;
}

// Renders every entry of `p` in the canonical form used by the *.golden files.
std::string Dump(Parser* p) {
  std::string out;
  model::LabelsBuilder b;
  for (;;) {
    Entry e = p->Next();
    switch (e) {
      case Entry::kComment:
        out += "comment: " + std::string(p->Comment()) + "\n";
        break;
      case Entry::kHelp:
        out += "help: " + std::string(p->Help().first) + " " + Quote(p->Help().second) + "\n";
        break;
      case Entry::kType:
        out += "type: " + std::string(p->Type().first) + " " +
               std::string(model::MetricTypeName(p->Type().second)) + "\n";
        break;
      case Entry::kUnit:
        out += "unit: " + std::string(p->Unit().first) + " " + std::string(p->Unit().second) + "\n";
        break;
      case Entry::kSeries: {
        double v;
        std::optional<model::Timestamp> ts;
        p->Series(&v, &ts);
        p->Labels(&b);
        out += "series: " + b.Build().ToString() + " " + FormatOpenMetricsFloat(v);
        if (ts) out += " @" + std::to_string(*ts);
        if (auto ct = p->CreatedTimestamp()) out += " ct=" + std::to_string(*ct);
        Exemplar ex;
        if (p->GetExemplar(&ex)) {
          out += " exemplar=" + ex.labels.ToString() + " " + FormatOpenMetricsFloat(ex.value);
          if (ex.timestamp) out += " @" + std::to_string(*ex.timestamp);
        }
        out += "\n";
        break;
      }
      case Entry::kEOF:
        return out + "eof\n";
      case Entry::kInvalid:
        return out + "error: " + p->err().message() + "\n";
    }
  }
}

TEST(FormatTest, OpenMetricsFloatMatchesGo) {
  // Expected strings are Go's strconv.FormatFloat(v, 'g', -1, 64) plus ".0" for integers.
  const std::vector<std::pair<double, std::string>> cases = {
      {1, "1.0"},
      {0, "0.0"},
      {0.5, "0.5"},
      {2.5, "2.5"},
      {100000, "100000.0"},
      {1e6, "1e+06"},
      {1234567, "1.234567e+06"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {-0.035, "-0.035"},
      {1e21, "1e+21"},
      {0.1 + 0.2, "0.30000000000000004"},
      {INFINITY, "+Inf"},
      {-INFINITY, "-Inf"},
      {NAN, "NaN"},
  };
  for (const auto& [v, want] : cases) EXPECT_EQ(FormatOpenMetricsFloat(v), want) << v;
}

TEST(FormatTest, ParseGoFloat) {
  double v;
  for (const char* ok : {"1", "-1.5", "+3", "1e3", ".5", "5.", "NaN", "nan", "+Inf", "-inf", "Inf",
                         "infinity", "1E-2"}) {
    EXPECT_TRUE(internal::ParseGoFloat(ok, &v)) << ok;
  }
  for (const char* bad : {"", "abc", "0x10", "1_000", "0x1p3", "1.5.5", "--1", "+-1", "1e"}) {
    EXPECT_FALSE(internal::ParseGoFloat(bad, &v)) << bad;
  }
}

// The fast path for plain decimals must return exactly what from_chars (= strtod = Go's
// ParseFloat) returns, bit for bit, signed zeros included.
TEST(FormatTest, ParseGoFloatEqualsFromChars) {
  std::vector<std::string> cases = {
      "0",
      "-0",
      "+0",
      "0.0",
      "-0.0",
      "00",
      "000.000",
      ".0",
      "0.",
      "1",
      "-1",
      "10",
      "42.5",
      "0.1",
      "0.2",
      "0.3",
      "0.30000000000000004",
      "1.7976931348623157",
      "4.9406564584124654",
      "2.2250738585072014",
      "9007199254740991",
      "9007199254740992",
      "9007199254740993",
      "-9007199254740993",
      "18446744073709551615",
      "18446744073709551616",
      "1234567890123456789",
      "12345678901234567890",
      "0.0000000000000000000001",
      "0.00000000000000000000001",
      "1.0000000000000000000001",
      "123456.7890123456789",
      "0.1234567890123456789",
      "99999999999999999999999",
      "3.14159265358979323846",
      "1e3",
      "1.5e-7",
      "1E22",
      "1e23",
      "NaN",
      "+Inf",
      "-Inf",
      "inf",
      "0x10",
      "1_0",
      ".",
      "-",
      "+",
      "",
      "1..2",
      "1.2.3",
      "-.5",
      "+.5",
      "5.",
      "--5",
      "+-5",
      "1.5 ",
      " 1.5",
      "1,5",
  };
  std::mt19937_64 rng(20261122);
  for (int i = 0; i < 300000; ++i) {
    // Random digit strings of 1..24 digits with the point anywhere (or nowhere), and a sign.
    const int n = 1 + static_cast<int>(rng() % 24);
    std::string d;
    for (int j = 0; j < n; ++j) d += static_cast<char>('0' + rng() % 10);
    const int point = static_cast<int>(rng() % (n + 2)) - 1;  // -1: none
    if (point >= 0) d.insert(d.begin() + point, '.');
    switch (rng() % 4) {
      case 0:
        d = "-" + d;
        break;
      case 1:
        d = "+" + d;
        break;
    }
    cases.push_back(std::move(d));
  }
  for (const std::string& c : cases) {
    double got = 12345;
    const bool ok = internal::ParseGoFloat(c, &got);
    // Reference: from_chars on the unsigned body, as the general path minus its special words.
    std::string_view body = c;
    bool neg = false;
    if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
      neg = body[0] == '-';
      body.remove_prefix(1);
    }
    double want = 0;
    auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), want);
    const bool want_ok = !body.empty() && body[0] != '+' && body[0] != '-' && ec == std::errc() &&
                         end == body.data() + body.size() &&
                         body.find_first_of("xX_pP") == std::string_view::npos;
    if (!want_ok) {
      // Only the words the general path accepts may differ from from_chars here.
      if (ok) EXPECT_TRUE(std::isnan(got) || std::isinf(got)) << c;
      continue;
    }
    if (neg) want = -want;
    ASSERT_TRUE(ok) << c;
    EXPECT_EQ(std::bit_cast<uint64_t>(got), std::bit_cast<uint64_t>(want)) << c;
  }
}

// Parses `in` feeding each series line the text of the series at the same position in
// `hints`, as a scrape cache does; returns Dump()'s output and how many hints matched.
std::string HintedDump(const std::string& in, const std::vector<std::string>& hints, int* matched) {
  PromParser p(in);
  std::string out;
  model::LabelsBuilder b;
  size_t n = 0;
  *matched = 0;
  for (;;) {
    p.HintNextSeries(n < hints.size() ? std::string_view(hints[n]) : std::string_view());
    Entry e = p.Next();
    if (e == Entry::kEOF) return out + "eof\n";
    if (e == Entry::kInvalid) return out + "error: " + p.err().message() + "\n";
    if (e == Entry::kType) out += "type: " + std::string(p.Type().first) + "\n";
    if (e != Entry::kSeries) continue;
    double v;
    std::optional<model::Timestamp> ts;
    std::string_view text = p.Series(&v, &ts);
    if (p.SeriesMatchedHint()) {
      ++*matched;
      EXPECT_EQ(text, hints[n]);
    }
    p.Labels(&b);
    out += "series: " + std::string(text) + " " + b.Build().ToString() + " " +
           FormatOpenMetricsFloat(v);
    if (ts) out += " @" + std::to_string(*ts);
    out += "\n";
    ++n;
  }
}

TEST(PromParserTest, HintsGiveTheSameResultAsAFullScan) {
  const std::string page1 =
      "a 1\n"
      "a{x=\"1\"} 2\n"
      "# TYPE c histogram\n"
      "b{x=\"va} l,ue\",y=\"q\\\"uo\\\\te\"} 3\n"
      "{\"my.metric\",z=\"1\"} 4\n"
      "c_bucket{le=\"1\"} 5\n"
      "d\t6\n"
      "e{x=\"1\"} 7 1000\n"
      "f{x=\"1\"} 8\n";
  std::vector<std::string> hints;
  {
    PromParser p(page1);
    double v;
    std::optional<model::Timestamp> ts;
    for (Entry e = p.Next(); e != Entry::kEOF; e = p.Next()) {
      ASSERT_NE(e, Entry::kInvalid) << p.err().ToString();
      if (e == Entry::kSeries) hints.emplace_back(p.Series(&v, &ts));
    }
  }
  ASSERT_EQ(hints.size(), 8u);
  int matched = 0;
  // Unchanged series texts match (whatever the values), and give the same labels.
  const std::string page2 =
      "a 10\n"
      "a{x=\"1\"}\t20 5\n"
      "# TYPE c histogram\n"
      "b{x=\"va} l,ue\",y=\"q\\\"uo\\\\te\"} 30\n"
      "{\"my.metric\",z=\"1\"}  4.5\n"
      "c_bucket{le=\"1\"} 50\n"
      "d 60\n"
      "e{x=\"1\"} 70 2000\n"
      "f{x=\"1\"} +Inf\n";
  std::string hinted = HintedDump(page2, hints, &matched);
  EXPECT_EQ(matched, 8);
  EXPECT_EQ(hinted, HintedDump(page2, {}, &matched));
  EXPECT_EQ(matched, 0);
  EXPECT_NE(hinted.find("{__name__=\"c_bucket\", le=\"1.0\"}"), std::string::npos) << hinted;

  // Texts that only start like the hint, or hints at the wrong positions, do not match.
  const std::string page3 =
      "a{x=\"1\"} 1\n"         // hint "a": followed by '{'
      "a 2\n"                  // hint a{x="1"}
      "b{x=\"va} l,ue\"} 3\n"  // a prefix of the hint
      "{\"my.metric\",z=\"1\",w=\"2\"} 4\n"
      "c_bucket{le=\"1\"}\n";  // no value: the same error as without hints
  std::string with = HintedDump(page3, hints, &matched);
  EXPECT_EQ(matched, 0);
  EXPECT_EQ(with, HintedDump(page3, {}, &matched));
  EXPECT_NE(with.find("error: line 5: expected value after metric"), std::string::npos) << with;

  // A hint run into the end of the buffer, and one followed by no blank.
  for (const std::string& tail : {std::string("f{x=\"1\"}"), std::string("f{x=\"1\"}8\n")}) {
    std::vector<std::string> h = {"f{x=\"1\"}"};
    EXPECT_EQ(HintedDump(tail, h, &matched), HintedDump(tail, {}, &matched)) << tail;
    EXPECT_EQ(matched, 0);
  }
}

TEST(PromParserTest, TrickyGolden) {
  std::string in = TestData("tricky.prom");
  PromParser p(in);
  EXPECT_EQ(Dump(&p), TestData("tricky.prom.golden"));
}

TEST(OpenMetricsParserTest, TrickyGolden) {
  std::string in = TestData("tricky.om");
  OpenMetricsParser p(in);
  EXPECT_EQ(Dump(&p), TestData("tricky.om.golden"));
}

TEST(OpenMetricsParserTest, SkipCreatedSeriesKeepsCreatedTimestamp) {
  std::string in = TestData("tricky.om");
  OpenMetricsParser p(in, ParserOptions{.skip_created_series = true});
  std::string out = Dump(&p);
  EXPECT_EQ(out.find("_created"), std::string::npos) << out;
  EXPECT_NE(out.find("{__name__=\"foo_total\"} 17.0 @1520879607789 ct=1520430000123"),
            std::string::npos)
      << out;
}

TEST(PromParserTest, SeriesTextIsRawAndStable) {
  std::string in = "a{x=\"1\",y=\"2\"} 1 5\nb 2\n";
  PromParser p(in);
  double v;
  std::optional<model::Timestamp> ts;
  ASSERT_EQ(p.Next(), Entry::kSeries);
  EXPECT_EQ(p.Series(&v, &ts), "a{x=\"1\",y=\"2\"}");
  EXPECT_EQ(v, 1);
  EXPECT_EQ(ts, 5);
  ASSERT_EQ(p.Next(), Entry::kSeries);
  EXPECT_EQ(p.Series(&v, &ts), "b");
  EXPECT_FALSE(ts.has_value());
  EXPECT_EQ(p.Next(), Entry::kEOF);
  EXPECT_EQ(p.Next(), Entry::kEOF);
}

struct ErrorCase {
  std::string format;  // "text" or "om"
  std::string input;
  std::string want;
};

TEST(ParserTest, Errors) {
  const std::vector<ErrorCase> cases = {
      {"text", "metric\n", "line 1: expected value after metric, got \"\""},
      {"text", "ok 1\nmetric{a=\"b} 1\n", "line 2: unterminated quoted string"},
      {"text", "metric{a=b} 1\n", "line 1: expected label value, got \"b} 1\""},
      {"text", "metric{a=\"b\" c=\"d\"} 1\n",
       "line 1: expected comma or closing brace, got \"c=\\\"d\\\"} 1\""},
      {"text", "metric{1a=\"b\"} 1\n", "line 1: expected label name, got \"1a=\\\"b\\\"} 1\""},
      {"text", "metric 1 2 3\n", "line 1: expected next entry after timestamp, got \"3\""},
      {"text", "metric abc\n", "line 1: strconv.ParseFloat: parsing \"abc\": invalid syntax"},
      {"text", "metric 0x1p3\n", "line 1: strconv.ParseFloat: parsing \"0x1p3\": invalid syntax"},
      {"text", "metric 1 1.5\n", "line 1: invalid timestamp \"1.5\""},
      {"text", "\n\n# TYPE m countr\n", "line 3: invalid metric type \"countr\""},
      {"text", "# HELP\n", "line 1: expected metric name after HELP, got \"\""},
      {"text", "{a=\"b\"} 1\n", "line 1: metric name not set while parsing: \"{a=\\\"b\\\"}\""},
      {"text", "9metric 1\n", "line 1: expected metric name, got \"9metric 1\""},
      {"text", "ok 1\nm{a=\"b\",c=\"\xff\"} 1\n", "line 2: invalid UTF-8 label value"},
      {"om", "m{a=\"\xc3\x28\"} 1\n# EOF\n", "line 1: invalid UTF-8 label value"},
      {"om", "a 1\n", "line 2: data does not end with # EOF"},
      {"om", "a 1\n# EOF\nb 1\n", "line 3: unexpected data after # EOF"},
      {"om", "a 1\n\nb 1\n# EOF\n", "line 2: unexpected empty line"},
      {"om", "# random comment\n# EOF\n",
       "line 1: expected a valid start token, got \"# random comment\""},
      {"om", "a 1 abc\n# EOF\n", "line 1: invalid timestamp \"abc\""},
      {"om", "a 1 # 5\n# EOF\n", "line 1: expected label set for exemplar, got \"5\""},
      {"om", "# TYPE a untyped\n# EOF\n", "line 1: invalid metric type \"untyped\""},
  };
  for (const auto& c : cases) {
    std::unique_ptr<Parser> p;
    if (c.format == "om") {
      p = std::make_unique<OpenMetricsParser>(c.input);
    } else {
      p = std::make_unique<PromParser>(c.input);
    }
    std::string out = Dump(p.get());
    auto pos = out.rfind("error: ");
    ASSERT_NE(pos, std::string::npos) << c.input << " parsed: " << out;
    EXPECT_EQ(out.substr(pos + 7), c.want + "\n") << c.input;
  }
}

std::string Delimited(const std::vector<pb::MetricFamily>& families) {
  std::string out;
  for (const auto& mf : families) {
    std::string msg = mf.SerializeAsString();
    uint64_t n = msg.size();
    while (n >= 0x80) {
      out.push_back(static_cast<char>(n | 0x80));
      n >>= 7;
    }
    out.push_back(static_cast<char>(n));
    out += msg;
  }
  return out;
}

std::vector<pb::MetricFamily> SampleFamilies() {
  std::vector<pb::MetricFamily> fams(4);
  fams[0].set_name("requests_total");
  fams[0].set_help("Requests.");
  fams[0].set_type(pb::COUNTER);
  auto* m = fams[0].add_metric();
  auto* l = m->add_label();
  l->set_name("path");
  l->set_value("/a\"b");
  m->mutable_counter()->set_value(42);
  m->mutable_counter()->mutable_created_timestamp()->set_seconds(1700000000);
  m->mutable_counter()->mutable_created_timestamp()->set_nanos(250000000);
  auto* ex = m->mutable_counter()->mutable_exemplar();
  ex->set_value(1);
  auto* el = ex->add_label();
  el->set_name("trace_id");
  el->set_value("t1");
  fams[1].set_name("temp");
  fams[1].set_type(pb::GAUGE);
  fams[1].set_unit("celsius");
  m = fams[1].add_metric();
  m->mutable_gauge()->set_value(-3.5);
  m->set_timestamp_ms(1234);
  fams[2].set_name("rpc");
  fams[2].set_type(pb::SUMMARY);
  m = fams[2].add_metric();
  m->mutable_summary()->set_sample_count(10);
  m->mutable_summary()->set_sample_sum(2.5);
  auto* q = m->mutable_summary()->add_quantile();
  q->set_quantile(0.5);
  q->set_value(0.2);
  q = m->mutable_summary()->add_quantile();
  q->set_quantile(1);
  q->set_value(0.9);
  fams[3].set_name("lat");
  fams[3].set_type(pb::HISTOGRAM);
  m = fams[3].add_metric();
  auto* h = m->mutable_histogram();
  h->set_sample_count(3);
  h->set_sample_sum(1.5);
  auto* bk = h->add_bucket();
  bk->set_upper_bound(0.1);
  bk->set_cumulative_count(1);
  bk = h->add_bucket();
  bk->set_upper_bound(1);
  bk->set_cumulative_count(2);
  bk->mutable_exemplar()->set_value(0.7);
  return fams;
}

TEST(ProtobufParserTest, ExpandsFamiliesAsPrometheus) {
  std::string in = Delimited(SampleFamilies());
  ProtobufParser p(in);
  EXPECT_EQ(Dump(&p),
            "help: requests_total \"Requests.\"\n"
            "type: requests_total counter\n"
            "series: {__name__=\"requests_total\", path=\"/a\\\"b\"} 42.0 ct=1700000000250 "
            "exemplar={trace_id=\"t1\"} 1.0\n"
            "type: temp gauge\n"
            "unit: temp celsius\n"
            "series: {__name__=\"temp\"} -3.5 @1234\n"
            "type: rpc summary\n"
            "series: {__name__=\"rpc_count\"} 10.0\n"
            "series: {__name__=\"rpc_sum\"} 2.5\n"
            "series: {__name__=\"rpc\", quantile=\"0.5\"} 0.2\n"
            "series: {__name__=\"rpc\", quantile=\"1.0\"} 0.9\n"
            "type: lat histogram\n"
            "series: {__name__=\"lat_count\"} 3.0\n"
            "series: {__name__=\"lat_sum\"} 1.5\n"
            "series: {__name__=\"lat_bucket\", le=\"0.1\"} 1.0\n"
            "series: {__name__=\"lat_bucket\", le=\"1.0\"} 2.0 exemplar={} 0.7\n"
            "series: {__name__=\"lat_bucket\", le=\"+Inf\"} 3.0\n"
            "eof\n");
}

TEST(ProtobufParserTest, SeriesTextIdentifiesSeries) {
  std::string in = Delimited(SampleFamilies());
  ProtobufParser p(in);
  std::set<std::string> seen;
  double v;
  std::optional<model::Timestamp> ts;
  int n = 0;
  for (Entry e; (e = p.Next()) != Entry::kEOF;) {
    ASSERT_NE(e, Entry::kInvalid) << p.err().ToString();
    if (e != Entry::kSeries) continue;
    ++n;
    seen.insert(std::string(p.Series(&v, &ts)));
  }
  EXPECT_EQ(n, 11);  // 1 counter, 1 gauge, 2+2 summary, 2+2+1 histogram
  EXPECT_EQ(seen.size(), 11u);
  EXPECT_TRUE(seen.contains("lat_bucket{le=\"+Inf\"}"));
  EXPECT_TRUE(seen.contains("requests_total{path=\"/a\\\"b\"}"));
}

// Fuzz findings: label pairs are bytes on the wire. Names and values must be UTF-8 and
// names non-empty (upstream's messages), and UTF-8 names that hold delimiters are quoted in
// the series text so different label sets never share it (the scrape cache's key).
TEST(ProtobufParserTest, ValidatesNamesAndKeepsSeriesTextUnambiguous) {
  auto family = [](const std::string& name, std::vector<std::pair<std::string, std::string>> ls) {
    pb::MetricFamily mf;
    mf.set_name(name);
    mf.set_type(pb::GAUGE);
    auto* m = mf.add_metric();
    for (const auto& [n, v] : ls) {
      auto* l = m->add_label();
      l->set_name(n);
      l->set_value(v);
    }
    m->mutable_gauge()->set_value(1);
    return mf;
  };
  auto series_text = [](const pb::MetricFamily& mf) {
    std::string in = Delimited({mf});
    ProtobufParser p(in);
    double v;
    std::optional<model::Timestamp> ts;
    for (Entry e; (e = p.Next()) != Entry::kEOF;) {
      if (e == Entry::kInvalid) return "error: " + p.err().message();
      if (e == Entry::kSeries) return std::string(p.Series(&v, &ts));
    }
    return std::string("none");
  };
  const std::string a = series_text(family("x", {{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(a, "x{a=\"1\",b=\"2\"}");
  EXPECT_EQ(series_text(family("x", {{"a=\"1\",b", "2"}})), "x{\"a=\\\"1\\\",b\"=\"2\"}");
  EXPECT_EQ(series_text(family("x{a=\"1\",b=\"2\"}", {})), "{\"x{a=\\\"1\\\",b=\\\"2\\\"}\"}");
  EXPECT_EQ(series_text(family("my.metric", {{"a.b", "v"}})), "{\"my.metric\",\"a.b\"=\"v\"}");

  EXPECT_EQ(series_text(family("", {})), "error: invalid metric name: ");
  EXPECT_EQ(series_text(family("x\xff", {})), "error: invalid metric name: x\xff");
  EXPECT_EQ(series_text(family("x", {{"", "v"}})), "error: invalid label name: ");
  EXPECT_EQ(series_text(family("x", {{"a", "\xc3("}})), "error: invalid label value: \xc3(");
  pb::MetricFamily bad_help = family("x", {});
  bad_help.set_help("\xed\xa0\x80");  // a UTF-16 surrogate
  EXPECT_EQ(series_text(bad_help), "error: invalid help for metric \"x\": \xed\xa0\x80");

  // A `__name__` pair or a repeated name: Prometheus 2.42's head refuses such a series,
  // unless the pair's value is empty (dropped first).
  EXPECT_EQ(series_text(family("x", {{"a", "1"}, {"__name__", "y"}})),
            "error: label name \"__name__\" is not unique: invalid sample");
  EXPECT_EQ(series_text(family("x", {{"a", "1"}, {"b", "2"}, {"a", "3"}})),
            "error: label name \"a\" is not unique: invalid sample");
  for (const auto& ls : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {{"a", "1"}, {"__name__", ""}, {"a", ""}}, {{"a", ""}, {"a", "1"}}}) {
    const std::string in = Delimited({family("x", ls)});
    ProtobufParser p(in);
    ASSERT_EQ(p.Next(), Entry::kType);
    ASSERT_EQ(p.Next(), Entry::kSeries) << p.err().ToString();
    model::LabelsBuilder b;
    p.Labels(&b);
    EXPECT_EQ(b.Build().ToString(), "{__name__=\"x\", a=\"1\"}");
  }
}

TEST(FormatTest, IsValidUtf8MatchesGo) {
  for (const char* ok : {"", "abc", "h\xc3\xa9llo", "\xe2\x98\x83", "\xf0\x9f\x98\x80",
                         "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"}) {
    EXPECT_TRUE(IsValidUtf8(ok)) << ok;
  }
  for (const char* bad :
       {"\xff", "\xc0\x80", "\xc3", "\xe0\x80\x80", "\xed\xa0\x80", "\xf0\x80\x80\x80",
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "a\x80", "\xe2\x98"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
}

TEST(ProtobufParserTest, Truncated) {
  std::string in = Delimited(SampleFamilies());
  in.resize(in.size() - 3);
  ProtobufParser p(in);
  std::string out = Dump(&p);
  EXPECT_NE(out.find("error: protobuf: message of"), std::string::npos) << out;
}

TEST(NewParserTest, ContentTypeSelection) {
  struct Case {
    std::string content_type;
    std::string fallback;
    std::string want;  // parser kind or "error"
  };
  const std::vector<Case> cases = {
      {"text/plain; version=0.0.4; charset=utf-8", "", "text"},
      {"text/plain;version=1.0.0", "", "text"},
      {"application/openmetrics-text; version=1.0.0; charset=utf-8", "", "om"},
      {"Application/OpenMetrics-Text;version=0.0.1", "", "om"},
      {"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
       "encoding=delimited",
       "", "proto"},
      {"", "", "error"},
      {"", "PrometheusText0.0.4", "text"},
      {"application/json", "", "error"},
      {"application/json", "OpenMetricsText1.0.0", "om"},
      {"garbage", "PrometheusProto", "proto"},
      {"", "Bogus", "error"},
  };
  for (const auto& c : cases) {
    auto p = NewParser("", c.content_type, c.fallback);
    std::string got = "error";
    if (p.ok()) {
      Parser* raw = p->get();
      got = dynamic_cast<PromParser*>(raw)          ? "text"
            : dynamic_cast<OpenMetricsParser*>(raw) ? "om"
                                                    : "proto";
    }
    EXPECT_EQ(got, c.want) << c.content_type << " / " << c.fallback;
  }
  auto blank = NewParser("", "", "");
  EXPECT_EQ(blank.status().message(),
            "non-compliant scrape target sending blank Content-Type and no "
            "fallback_scrape_protocol specified for target");
}

// Random byte edits of valid inputs must never crash, loop, or read out of bounds (run this
// under KILN_SANITIZE to check the latter); every run ends in kEOF or kInvalid.
// Inputs libFuzzer found (pkg/textparse/testdata/fuzz/<format>/regression-*, also fuzz
// seeds): each must parse to its end; the ASan/UBSan build (make asan-test) checks it does so
// without undefined behaviour.
TEST(FuzzRegressionTest, InputsParseToTheEnd) {
  const std::vector<std::pair<std::string, std::string>> formats = {
      {"prom", "text/plain; version=0.0.4"},
      {"openmetrics", "application/openmetrics-text; version=1.0.0"},
      {"protobuf",
       "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
       "encoding=delimited"}};
  const char* src = std::getenv("KILN_SOURCE_DIR");
  int n = 0;
  for (const auto& [dir, content_type] : formats) {
    std::filesystem::path base =
        std::filesystem::path(src ? src : ".") / "pkg/textparse/testdata/fuzz" / dir;
    for (const auto& f : std::filesystem::directory_iterator(base)) {
      if (!f.path().filename().string().starts_with("regression-")) continue;
      std::string in = TestData("fuzz/" + dir + "/" + f.path().filename().string());
      auto p = NewParser(in, content_type, "");
      ASSERT_TRUE(p.ok());
      std::string out = Dump(p->get());
      EXPECT_TRUE(out.ends_with("eof\n") || out.find("error: ") != std::string::npos) << f.path();
      ++n;
    }
  }
  EXPECT_GT(n, 0);
}

TEST(FuzzRegressionTest, OutOfRangeTimestampsBecomeGoMinInt64) {
  // Go's int64() of a float beyond int64 (or NaN) is math.MinInt64 on amd64; the sample then
  // fails its append as out of bounds instead of failing the scrape, as upstream.
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(internal::GoFloatToInt64(1.5444e64), kMin);
  EXPECT_EQ(internal::GoFloatToInt64(-1e19), kMin);
  EXPECT_EQ(internal::GoFloatToInt64(9223372036854775808.0), kMin);
  EXPECT_EQ(internal::GoFloatToInt64(NAN), kMin);
  EXPECT_EQ(internal::GoFloatToInt64(-9223372036854775808.0), kMin);
  EXPECT_EQ(internal::GoFloatToInt64(1520879607789.9), 1520879607789);
  EXPECT_EQ(internal::GoFloatToInt64(-2.7), -2);

  std::string om =
      "# TYPE a counter\na_total 1 15444444444444444444444444444444444444444444444444444444.5\n"
      "a_created 1e300\n# EOF\n";
  OpenMetricsParser p(om);
  EXPECT_EQ(Dump(&p),
            "type: a counter\n"
            "series: {__name__=\"a_total\"} 1.0 @-9223372036854775808 ct=-9223372036854775808\n"
            "series: {__name__=\"a_created\"} 1e+300\neof\n");

  // A protobuf created timestamp whose milliseconds overflow int64 wraps around as in Go.
  pb::MetricFamily mf;
  mf.set_name("c_total");
  mf.set_type(pb::COUNTER);
  auto* m = mf.add_metric();
  m->mutable_counter()->set_value(1);
  m->mutable_counter()->mutable_created_timestamp()->set_seconds(
      std::numeric_limits<int64_t>::max());
  std::string in = Delimited({mf});
  ProtobufParser pp(in);
  EXPECT_NE(Dump(&pp).find("series: {__name__=\"c_total\"} 1.0 ct=-1000\n"), std::string::npos);
}

TEST(ParserTest, SurvivesMutatedInput) {
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"text/plain", TestData("tricky.prom")},
      {"application/openmetrics-text", TestData("tricky.om")},
      {"application/vnd.google.protobuf", Delimited(SampleFamilies())},
  };
  std::mt19937 rng(42);
  const std::string alphabet = "{}=\",# \n\\abc019.eE+-_:\t";
  model::LabelsBuilder b;
  for (const auto& [ct, seed] : seeds) {
    for (int iter = 0; iter < 1500; ++iter) {
      std::string in = seed;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < edits && !in.empty(); ++k) {
        size_t pos = rng() % in.size();
        switch (rng() % 3) {
          case 0:
            in[pos] = alphabet[rng() % alphabet.size()];
            break;
          case 1:
            in.erase(pos, 1 + rng() % 8);
            break;
          default:
            in.insert(pos, 1, static_cast<char>(rng() % 256));
        }
      }
      auto p = NewParser(in, ct, "");
      ASSERT_TRUE(p.ok());
      int steps = 0;
      Entry e;
      while ((e = (*p)->Next()) != Entry::kEOF && e != Entry::kInvalid) {
        ASSERT_LT(++steps, 100000) << "parser does not terminate";
        if (e == Entry::kSeries) {
          double v;
          std::optional<model::Timestamp> ts;
          (*p)->Series(&v, &ts);
          (*p)->Labels(&b);
          Exemplar ex;
          (*p)->GetExemplar(&ex);
          (*p)->CreatedTimestamp();
        }
      }
      EXPECT_EQ((*p)->Next(), e);
    }
  }
}

// Runs the real node exporter on a free local port for the duration of a test.
class NodeExporter {
 public:
  NodeExporter() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    close(fd);
    std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
    pid_ = fork();
    if (pid_ == 0) {
      freopen("/dev/null", "w", stderr);  // collectors missing in containers log noisily
      execl("/usr/bin/prometheus-node-exporter", "prometheus-node-exporter", listen.c_str(),
            "--log.level=error", static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~NodeExporter() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  // GETs /metrics with `accept`, retrying while the exporter starts.
  httplib::Result Get(const std::string& accept) {
    httplib::Client cli("127.0.0.1", port_);
    cli.set_read_timeout(10, 0);
    for (int i = 0; i < 1000; ++i) {
      auto res = cli.Get("/metrics", {{"Accept", accept}});
      if (res && res->status == 200) return res;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return cli.Get("/metrics", {{"Accept", accept}});
  }

 private:
  int port_ = 0;
  pid_t pid_ = -1;
};

// Parses a whole scrape; returns the label sets of all series (as strings).
std::set<std::string> ParseAll(const std::string& body, const std::string& content_type,
                               int* series, std::string* error) {
  std::set<std::string> out;
  auto p = NewParser(body, content_type, "");
  if (!p.ok()) {
    *error = p.status().ToString();
    return out;
  }
  model::LabelsBuilder b;
  for (Entry e; (e = (*p)->Next()) != Entry::kEOF;) {
    if (e == Entry::kInvalid) {
      *error = (*p)->err().ToString();
      return out;
    }
    if (e != Entry::kSeries) continue;
    ++*series;
    (*p)->Labels(&b);
    out.insert(b.Build().ToString());
  }
  return out;
}

TEST(NodeExporterTest, ParsesRealScrapesInEveryFormat) {
  if (!std::filesystem::exists("/usr/bin/prometheus-node-exporter")) GTEST_SKIP();
  NodeExporter ne;
  auto text = ne.Get("text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
  ASSERT_TRUE(text) << "node exporter did not answer";
  std::string error;
  int text_series = 0;
  auto text_set =
      ParseAll(text->body, text->get_header_value("Content-Type"), &text_series, &error);
  ASSERT_EQ(error, "");
  // Independent count: every non-empty line not starting with '#' is one sample.
  int lines = 0;
  std::istringstream in(text->body);
  for (std::string line; std::getline(in, line);) lines += !line.empty() && line[0] != '#';
  EXPECT_EQ(text_series, lines);
  EXPECT_GT(text_series, 200);
  EXPECT_TRUE(std::any_of(text_set.begin(), text_set.end(), [](const std::string& s) {
    return s.starts_with("{__name__=\"node_exporter_build_info\"");
  }));

  auto proto = ne.Get(
      "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
      "encoding=delimited");
  ASSERT_TRUE(proto);
  ASSERT_NE(proto->get_header_value("Content-Type").find("protobuf"), std::string::npos);
  int proto_series = 0;
  auto proto_set =
      ParseAll(proto->body, proto->get_header_value("Content-Type"), &proto_series, &error);
  ASSERT_EQ(error, "");
  // The same exporter exposes the same series in both formats (values may move between
  // scrapes, label sets do not); a handful of scrape-handler series may appear in between.
  std::vector<std::string> only_text;
  std::set_difference(text_set.begin(), text_set.end(), proto_set.begin(), proto_set.end(),
                      std::back_inserter(only_text));
  EXPECT_LE(only_text.size(), 2u) << (only_text.empty() ? "" : only_text[0]);
  EXPECT_GT(proto_series, 200);

  auto om = ne.Get("application/openmetrics-text;version=1.0.0");
  ASSERT_TRUE(om);
  int om_series = 0;
  ParseAll(om->body, om->get_header_value("Content-Type"), &om_series, &error);
  ASSERT_EQ(error, "") << om->get_header_value("Content-Type");
  // node_exporter serves OpenMetrics when asked; then the text must have ended with # EOF.
  if (om->get_header_value("Content-Type").starts_with("application/openmetrics-text")) {
    EXPECT_TRUE(om->body.ends_with("# EOF\n"));
  }
  EXPECT_GT(om_series, 200);
}

}  // namespace
}  // namespace kiln::textparse
