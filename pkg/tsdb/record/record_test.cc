#include "pkg/tsdb/record/record.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "pkg/model/value.h"

namespace kiln::tsdb::record {
namespace {

std::string Hex(std::string_view s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Unhex(std::string_view h) {
  std::string out;
  std::string digits;
  for (char c : h) {
    if (c != ' ') digits.push_back(c);
  }
  for (size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Golden encodings worked out by hand from upstream's record.go: big-endian refs and base
// times, zig-zag varint deltas, raw IEEE-754 bits for values.
struct Golden {
  const char* name;
  std::function<void(std::string*)> encode;
  const char* hex;
  // Decodes `rec` and re-encodes what it got; must reproduce the bytes.
  std::function<Status(std::string_view, std::string*)> roundtrip;
};

template <typename T>
std::function<Status(std::string_view, std::string*)> Roundtrip(Status (*decode)(std::string_view,
                                                                                 std::vector<T>*),
                                                                void (*encode)(std::span<const T>,
                                                                               std::string*)) {
  return [=](std::string_view rec, std::string* out) {
    std::vector<T> v;
    Status s = decode(rec, &v);
    if (s.ok()) encode(v, out);
    return s;
  };
}

const std::vector<RefSeries> kSeries = {
    {1, model::Labels{{"__name__", "up"}, {"job", "a"}}},
    {300, model::Labels{{"x", "y"}}},
};
const std::vector<RefSample> kSamples = {{10, 1000, 1.5}, {12, 990, -2}, {9, 1001, 0}};
const std::vector<RefTombstone> kTombstones = {{3, {{0, 10}, {20, -1}}}};
const std::vector<RefMetadata> kMetadata = {{300, 1, "s", "h"}, {1, 2, "", ""}};
const std::vector<RefMmapMarker> kMarkers = {{1, 0x0000000100000002ull}};
const std::vector<RefExemplar> kExemplars = {{5, 100, 1, model::Labels{{"trace_id", "x"}}},
                                             {4, 99, 2, model::Labels{}}};

const std::vector<RefHistogramSample> kHistograms = {
    {2, 1000, {0, 1, 0.5, 3, 10, 12.5, {{0, 2}}, {}, {4, -1}, {}, {}}},
    {3, 999, {2, -1, 0, 0, 0, -0.5, {}, {{-2, 1}}, {}, {1}, {}}},
};
const std::vector<RefFloatHistogramSample> kFloatHistograms = {
    {5, 7, {0, kCustomBucketsSchema, 0, 0, 2, 3, {{0, 2}}, {}, {1, 1}, {}, {1, 2}}},
};

Status RoundtripHistograms(std::string_view rec, std::string* out) {
  std::vector<RefHistogramSample> v;
  Status s = DecodeHistogramSamples(rec, &v);
  if (s.ok()) EncodeHistogramSamples(v, GetType(rec), out);
  return s;
}

Status RoundtripFloatHistograms(std::string_view rec, std::string* out) {
  std::vector<RefFloatHistogramSample> v;
  Status s = DecodeFloatHistogramSamples(rec, &v);
  if (s.ok()) EncodeFloatHistogramSamples(v, GetType(rec), out);
  return s;
}

std::vector<Golden> Goldens() {
  return {
      {"series", [](std::string* d) { EncodeSeries(kSeries, d); },
       "01 0000000000000001 02 08 5f5f6e616d655f5f 02 7570 03 6a6f62 01 61"
       "   000000000000012c 01 01 78 01 79",
       Roundtrip(&DecodeSeries, &EncodeSeries)},
      {"samples", [](std::string* d) { EncodeSamples(kSamples, d); },
       "02 000000000000000a 00000000000003e8"
       "   00 00 3ff8000000000000"
       "   04 13 c000000000000000"
       "   01 02 0000000000000000",
       Roundtrip(&DecodeSamples, &EncodeSamples)},
      {"samples_empty", [](std::string* d) { EncodeSamples({}, d); }, "02",
       Roundtrip(&DecodeSamples, &EncodeSamples)},
      {"tombstones", [](std::string* d) { EncodeTombstones(kTombstones, d); },
       "03 0000000000000003 00 14 0000000000000003 28 01", nullptr},
      {"metadata", [](std::string* d) { EncodeMetadata(kMetadata, d); },
       "06 ac02 01 02 04 554e4954 01 73 04 48454c50 01 68"
       "   01 02 02 04 554e4954 00 04 48454c50 00",
       Roundtrip(&DecodeMetadata, &EncodeMetadata)},
      {"mmap_markers", [](std::string* d) { EncodeMmapMarkers(kMarkers, d); },
       "05 0000000000000001 0000000100000002", Roundtrip(&DecodeMmapMarkers, &EncodeMmapMarkers)},
      {"exemplars", [](std::string* d) { EncodeExemplars(kExemplars, d); },
       "04 0000000000000005 0000000000000064"
       "   00 00 3ff0000000000000 01 08 74726163655f6964 01 78"
       "   01 01 4000000000000000 00",
       Roundtrip(&DecodeExemplars, &EncodeExemplars)},
      {"histograms",
       [](std::string* d) { EncodeHistogramSamples(kHistograms, Type::kHistogramSamples, d); },
       "07 0000000000000002 00000000000003e8"
       "   00 00 00 02 3fe0000000000000 03 0a 4029000000000000 01 00 02 00 02 08 01 00"
       "   02 01 02 01 0000000000000000 00 00 bfe0000000000000 00 01 03 01 00 01 02",
       &RoundtripHistograms},
      {"custom_bucket_float_histograms",
       [](std::string* d) {
         EncodeFloatHistogramSamples(kFloatHistograms, Type::kCustomBucketsFloatHistogramSamples,
                                     d);
       },
       "0a 0000000000000005 0000000000000007"
       "   00 00 00 69 0000000000000000 0000000000000000 4000000000000000 4008000000000000"
       "   01 00 02 00 02 3ff0000000000000 3ff0000000000000 00"
       "   02 3ff0000000000000 4000000000000000",
       &RoundtripFloatHistograms},
  };
}

TEST(RecordTest, GoldenBytes) {
  for (const auto& g : Goldens()) {
    SCOPED_TRACE(g.name);
    std::string got = "prefix";
    g.encode(&got);
    EXPECT_EQ(Hex(got.substr(6)), Hex(Unhex(g.hex)));
    if (g.roundtrip) {
      std::string again;
      ASSERT_TRUE(g.roundtrip(Unhex(g.hex), &again).ok());
      EXPECT_EQ(Hex(again), Hex(Unhex(g.hex)));
    }
  }
}

// Every strict prefix longer than the type byte, and every record with a trailing byte,
// must be rejected as corruption, never decoded into partial garbage silently.
TEST(RecordTest, TruncatedOrPaddedRecordsAreCorruption) {
  for (const auto& g : Goldens()) {
    if (!g.roundtrip) continue;
    const std::string rec = Unhex(g.hex);
    for (size_t n = 2; n < rec.size(); n++) {
      std::string out;
      Status s = g.roundtrip(std::string_view(rec).substr(0, n), &out);
      // A prefix ending exactly between two entries is itself a valid, shorter record (for
      // samples and exemplars the bases alone are a valid empty record, as upstream).
      if (s.ok()) {
        EXPECT_TRUE(rec.starts_with(out)) << g.name << " prefix " << n;
        continue;
      }
      EXPECT_TRUE(s.Is(StatusCode::kCorruption)) << g.name << " prefix " << n;
    }
    std::string out;
    Status s = g.roundtrip(rec + '\x01', &out);
    EXPECT_TRUE(s.Is(StatusCode::kCorruption)) << g.name << ": " << s.ToString();
  }
}

TEST(RecordTest, WrongTypeIsCorruption) {
  std::string rec;
  EncodeSeries(kSeries, &rec);
  std::vector<RefSample> samples;
  EXPECT_TRUE(DecodeSamples(rec, &samples).Is(StatusCode::kCorruption));
  std::vector<RefSeries> series;
  EXPECT_TRUE(DecodeSeries("", &series).Is(StatusCode::kCorruption));
}

TEST(RecordTest, TombstonesDecodeOneIntervalEach) {
  std::string rec;
  EncodeTombstones(kTombstones, &rec);
  std::vector<RefTombstone> got;
  ASSERT_TRUE(DecodeTombstones(rec, &got).ok());
  std::vector<RefTombstone> want = {{3, {{0, 10}}}, {3, {{20, -1}}}};
  EXPECT_EQ(got, want);
}

TEST(RecordTest, SamplesKeepExactBitsAndExtremes) {
  const std::vector<RefSample> in = {
      {0, model::kMinTime + 1, model::StaleNaN()},
      {~0ull, model::kMaxTime, std::nan("")},
      {1ull << 40, 0, -0.0},
      {7, -5, std::numeric_limits<double>::infinity()},
  };
  std::string rec;
  EncodeSamples(in, &rec);
  std::vector<RefSample> out = {{99, 99, 99}};
  ASSERT_TRUE(DecodeSamples(rec, &out).ok());
  ASSERT_EQ(out.size(), in.size() + 1);  // appends
  for (size_t i = 0; i < in.size(); i++) {
    EXPECT_EQ(out[i + 1].ref, in[i].ref);
    EXPECT_EQ(out[i + 1].t, in[i].t);
    uint64_t a, b;
    std::memcpy(&a, &in[i].v, 8);
    std::memcpy(&b, &out[i + 1].v, 8);
    EXPECT_EQ(a, b);
  }
}

// Label sets from other writers may be unsorted or carry empty values; they decode to the
// same canonical Labels as upstream's builder yields.
TEST(RecordTest, SeriesLabelsAreCanonicalised) {
  struct {
    const char* name;
    const char* hex;  // one series with ref 1
    model::Labels want;
  } cases[] = {
      {"sorted", "01 0000000000000001 02 01 61 01 31 01 62 01 32",
       model::Labels{{"a", "1"}, {"b", "2"}}},
      {"unsorted", "01 0000000000000001 02 01 62 01 32 01 61 01 31",
       model::Labels{{"a", "1"}, {"b", "2"}}},
      {"empty_value", "01 0000000000000001 02 01 61 00 01 62 01 32", model::Labels{{"b", "2"}}},
      {"non_minimal_varint", "01 0000000000000001 01 8100 61 01 31", model::Labels{{"a", "1"}}},
      {"no_labels", "01 0000000000000001 00", model::Labels{}},
  };
  for (const auto& c : cases) {
    std::vector<RefSeries> got;
    ASSERT_TRUE(DecodeSeries(Unhex(c.hex), &got).ok()) << c.name;
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].labels, c.want) << c.name << ": " << got[0].labels.ToString();
    EXPECT_EQ(got[0].labels.Get("b"), c.want.Get("b"));
  }
}

TEST(RecordTest, MetadataSkipsUnknownFields) {
  // ref 7, type gauge, three fields: FOO=bar, HELP=h, UNIT=u.
  const std::string rec =
      Unhex("06 07 02 03 03 464f4f 03 626172 04 48454c50 01 68 04 554e4954 01 75");
  std::vector<RefMetadata> got;
  ASSERT_TRUE(DecodeMetadata(rec, &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], (RefMetadata{7, 2, "u", "h"}));
}

TEST(RecordTest, TypesAndNames) {
  struct {
    std::string rec;
    Type type;
    std::string_view name;
  } cases[] = {
      {"", Type::kUnknown, "unknown"},
      {"\x00", Type::kUnknown, "unknown"},
      {"\x01", Type::kSeries, "series"},
      {"\x02", Type::kSamples, "samples"},
      {"\x03", Type::kTombstones, "tombstones"},
      {"\x04", Type::kExemplars, "exemplars"},
      {"\x05", Type::kMmapMarkers, "mmapmarkers"},
      {"\x06", Type::kMetadata, "metadata"},
      {"\x07", Type::kHistogramSamples, "histogram_samples"},
      {"\x08", Type::kFloatHistogramSamples, "float_histogram_samples"},
      {"\x0a", Type::kCustomBucketsFloatHistogramSamples, "custom_buckets_float_histogram_samples"},
      {"\x0b", Type::kUnknown, "unknown"},
      {"\xff", Type::kUnknown, "unknown"},
  };
  for (const auto& c : cases) {
    std::string rec = c.rec;
    if (c.rec.empty() && c.type != Type::kUnknown) rec.push_back('\0');
    EXPECT_EQ(GetType(rec), c.type) << Hex(rec);
    EXPECT_EQ(TypeName(GetType(rec)), c.name);
  }
  EXPECT_EQ(GetType(std::string(1, '\0')), Type::kUnknown);
}

TEST(RecordTest, MetricTypeMapping) {
  for (auto t :
       {model::MetricType::kUnknown, model::MetricType::kCounter, model::MetricType::kGauge,
        model::MetricType::kHistogram, model::MetricType::kGaugeHistogram,
        model::MetricType::kSummary, model::MetricType::kInfo, model::MetricType::kStateset}) {
    EXPECT_EQ(FromRecordMetricType(static_cast<uint8_t>(ToRecordMetricType(t))), t);
  }
  EXPECT_EQ(static_cast<int>(ToRecordMetricType(model::MetricType::kSummary)), 5);
  EXPECT_EQ(FromRecordMetricType(200), model::MetricType::kUnknown);
}

}  // namespace
}  // namespace kiln::tsdb::record
