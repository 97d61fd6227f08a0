#include "pkg/tsdb/chunkenc/xor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "pkg/util/coding.h"

namespace kiln::chunkenc {
namespace {

struct S {
  int64_t t;
  uint64_t vbits;
};

S F(int64_t t, double v) { return {t, DoubleBits(v)}; }

constexpr uint64_t kStaleNaN = 0x7ff0000000000002;
constexpr uint64_t kPayloadNaN = 0xfff8dead0000beef;
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<S> Regular(int n, int64_t t0, int64_t step, double v0, double dv) {
  std::vector<S> out;
  for (int i = 0; i < n; i++) out.push_back(F(t0 + i * step, v0 + i * dv));
  return out;
}

std::vector<S> RandomDoubles(int n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<S> out;
  int64_t t = 1000;
  for (int i = 0; i < n; i++) {
    t += 1 + static_cast<int64_t>(rng() % 100000);
    out.push_back({t, rng()});  // any bit pattern, NaN payloads included
  }
  return out;
}

// Delta-of-delta values at and around every bucket edge: [-(2^(n-1)-1), 2^(n-1)].
std::vector<S> BucketEdges() {
  std::vector<S> out = {F(0, 1), F(100000000, 1)};
  int64_t delta = 100000000;
  for (int bits : {14, 17, 20}) {
    const int64_t half = int64_t{1} << (bits - 1);
    for (int64_t dod : {half, half + 1, -(half - 1), -half, half - 1, -(half - 2)}) {
      delta += dod;
      out.push_back(F(out.back().t + delta, 1));
    }
  }
  return out;
}

struct Case {
  const char* name;
  std::vector<S> samples;
};

std::vector<Case> Cases() {
  std::vector<Case> c;
  c.push_back({"single", {F(1700000000000, 42)}});
  c.push_back({"two", {F(-5, 1.5), F(10, -1.5)}});
  c.push_back({"constant_200", Regular(200, 1700000000000, 15000, 7, 0)});
  c.push_back({"counter_240", Regular(240, 1700000000000, 15000, 0, 17)});
  c.push_back({"gauge_decimals", Regular(130, 0, 10000, 0.01, 0.37)});
  c.push_back({"negative_timestamps", Regular(50, -1000000, 333, -2, 0.5)});
  c.push_back({"specials",
               {F(1, 0),
                {2, kStaleNaN},
                F(3, kInf),
                F(4, -kInf),
                F(5, -0.0),
                {6, kPayloadNaN},
                F(7, std::nan("")),
                F(8, 5e-324),
                F(9, 1.7976931348623157e308),
                {10, kStaleNaN},
                {11, kStaleNaN},
                F(12, 1)}});
  c.push_back(
      {"huge_jumps",
       {F(std::numeric_limits<int64_t>::min() / 2, 1), F(0, 2), F(1, 3),
        F(std::numeric_limits<int64_t>::max() / 2, 4), F(std::numeric_limits<int64_t>::max(), 5)}});
  c.push_back({"bucket_edges", BucketEdges()});
  c.push_back({"random_bits", RandomDoubles(300, 7)});
  // Values whose XOR has >= 32 leading zeros exercise the 5-bit clamp; alternating windows
  // exercise reuse and renewal.
  c.push_back({"leading_clamp",
               {{0, 0x4000000000000000},
                {1, 0x4000000000000001},
                {2, 0x4000000000000003},
                {3, 0x4000000100000000},
                {4, 0x4000000000000000},
                {5, 0xc000000000000001}}});
  return c;
}

std::unique_ptr<XorChunk> Encode(const std::vector<S>& samples) {
  auto chunk = std::make_unique<XorChunk>();
  auto app = chunk->NewAppender();
  EXPECT_TRUE(app.ok());
  for (const S& s : samples) (*app)->Append(s.t, DoubleFromBits(s.vbits));
  return chunk;
}

std::vector<S> Decode(const Chunk& chunk, Status* err) {
  std::vector<S> out;
  auto it = chunk.NewIterator();
  while (it->Next() == ValueType::kFloat) {
    auto [t, v] = it->At();
    EXPECT_EQ(it->AtT(), t);
    out.push_back({t, DoubleBits(v)});
  }
  *err = it->err();
  return out;
}

void ExpectSame(const std::vector<S>& got, const std::vector<S>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); i++) {
    EXPECT_EQ(got[i].t, want[i].t) << "sample " << i;
    EXPECT_EQ(got[i].vbits, want[i].vbits) << "sample " << i;
  }
}

// A reference encoder written straight from the format description (upstream
// tsdb/docs/format/chunks.md and bstream.md), one bit at a time and with no shortcuts, to
// check the word-at-a-time encoder against.
class ReferenceEncoder {
 public:
  std::string Encode(const std::vector<S>& samples) {
    bits_.clear();
    int64_t prev_t = 0;
    uint64_t prev_v = 0, prev_delta = 0;
    int leading = 0xff, trailing = 0;  // 0xff: no window yet
    for (size_t i = 0; i < samples.size(); i++) {
      const S& s = samples[i];
      if (i == 0) {
        Uvarint((static_cast<uint64_t>(s.t) << 1) ^ static_cast<uint64_t>(s.t >> 63));
        Bits(s.vbits, 64);
      } else {
        const uint64_t delta = static_cast<uint64_t>(s.t) - static_cast<uint64_t>(prev_t);
        if (i == 1) {
          Uvarint(delta);
        } else {
          const auto dod = static_cast<int64_t>(delta - prev_delta);
          auto fits = [&](int n) {
            return -((int64_t{1} << (n - 1)) - 1) <= dod && dod <= (int64_t{1} << (n - 1));
          };
          if (dod == 0) {
            Bits(0b0, 1);
          } else if (fits(14)) {
            Bits(0b10, 2);
            Bits(static_cast<uint64_t>(dod), 14);
          } else if (fits(17)) {
            Bits(0b110, 3);
            Bits(static_cast<uint64_t>(dod), 17);
          } else if (fits(20)) {
            Bits(0b1110, 4);
            Bits(static_cast<uint64_t>(dod), 20);
          } else {
            Bits(0b1111, 4);
            Bits(static_cast<uint64_t>(dod), 64);
          }
        }
        prev_delta = delta;
        const uint64_t x = s.vbits ^ prev_v;
        if (x == 0) {
          Bits(0b0, 1);
        } else {
          int lz = 0, tz = 0;
          while (((x >> (63 - lz)) & 1) == 0) lz++;
          while (((x >> tz) & 1) == 0) tz++;
          if (lz > 31) lz = 31;
          if (leading != 0xff && lz >= leading && tz >= trailing) {
            Bits(0b10, 2);
            Bits(x >> trailing, 64 - leading - trailing);
          } else {
            leading = lz;
            trailing = tz;
            Bits(0b11, 2);
            Bits(static_cast<uint64_t>(lz), 5);
            Bits(static_cast<uint64_t>(64 - lz - tz), 6);  // 64 wraps to 0
            Bits(x >> tz, 64 - lz - tz);
          }
        }
      }
      prev_t = s.t;
      prev_v = s.vbits;
    }
    std::string out(2, '\0');
    out[0] = static_cast<char>(samples.size() >> 8);
    out[1] = static_cast<char>(samples.size());
    for (size_t i = 0; i < bits_.size(); i++) {
      if (i % 8 == 0) out.push_back(0);
      if (bits_[i]) out.back() = static_cast<char>(out.back() | (0x80 >> (i % 8)));
    }
    return out;
  }

 private:
  // The low n bits of v, most significant first.
  void Bits(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; i--) bits_.push_back(((v >> i) & 1) != 0);
  }
  void Uvarint(uint64_t v) {
    for (; v >= 0x80; v >>= 7) Bits((v & 0x7f) | 0x80, 8);
    Bits(v, 8);
  }

  std::vector<bool> bits_;
};

// Random series that visit every timestamp bucket (and its edges) and every value case:
// repeats, XORs inside and outside the window, 64 significant bits, NaN payloads.
std::vector<S> RandomSeries(std::mt19937_64& rng) {
  const size_t n = 1 + rng() % 300;
  std::vector<S> out;
  int64_t t = static_cast<int64_t>(rng() % 2000000000000) - 1000000000000;
  int64_t delta = static_cast<int64_t>(rng() % 100000);
  uint64_t v = rng();
  for (size_t i = 0; i < n; i++) {
    switch (rng() % 8) {
      case 0:
        break;  // same delta: dod 0
      case 1:
        delta += static_cast<int64_t>(rng() % 16) - 8;  // scrape jitter
        break;
      case 2: {
        const int bits = 14 + static_cast<int>(rng() % 4) * 3;  // 14, 17, 20, 23
        const int64_t half = int64_t{1} << (bits - 1);
        const int64_t edges[] = {half, half + 1, -(half - 1), -half};
        delta += edges[rng() % 4];
        break;
      }
      case 3:
        delta += static_cast<int64_t>(rng() % (int64_t{1} << 40));  // 64-bit bucket
        break;
      default:
        delta += static_cast<int64_t>(rng() % 2001) - 1000;
    }
    if (delta < 0) delta = -delta;
    t += delta;
    switch (rng() % 6) {
      case 0:
        break;  // unchanged
      case 1:
        v ^= (rng() & 0xff) << 20;  // likely inside the window
        break;
      case 2:
        v ^= uint64_t{1} << 63 | 1;  // 64 significant bits
        break;
      case 3:
        v = DoubleBits(std::round(DoubleFromBits(v) * 100 + static_cast<double>(rng() % 7)) / 100);
        break;
      default:
        v = rng();
    }
    out.push_back({t, v});
  }
  return out;
}

TEST(XorChunkTest, MatchesReferenceEncoderAfterEveryAppend) {
  std::mt19937_64 rng(1234);
  ReferenceEncoder ref;
  for (int round = 0; round < 250; round++) {
    const auto samples = RandomSeries(rng);
    XorChunk chunk;
    auto app = chunk.NewAppender();
    ASSERT_TRUE(app.ok());
    std::vector<S> prefix;
    for (const S& s : samples) {
      (*app)->Append(s.t, DoubleFromBits(s.vbits));
      prefix.push_back(s);
      // Bytes() is complete after every append, across buffer growth too (checked in the
      // first rounds only: the reference re-encodes the whole prefix each time).
      if (round < 25 || prefix.size() == samples.size()) {
        ASSERT_EQ(chunk.Bytes(), ref.Encode(prefix))
            << "round " << round << " sample " << prefix.size();
      }
    }
    Status err;
    ExpectSame(Decode(chunk, &err), samples);
    ASSERT_TRUE(err.ok()) << err.ToString();
  }
}

// Resuming (which decodes the chunk) at every split point continues the chunk: the samples
// always decode, and the bytes are the same once a value window exists. Before that,
// upstream resumes with the iterator's 0/0 window rather than none, and so do we.
TEST(XorChunkTest, ResumesAtEverySplit) {
  std::mt19937_64 rng(99);
  for (int round = 0; round < 40; round++) {
    const auto samples = RandomSeries(rng);
    const std::string full(Encode(samples)->Bytes());
    bool window = false;  // whether some value so far differed from its predecessor
    for (size_t split = 2; split < samples.size(); split++) {
      window = window || samples[split - 1].vbits != samples[split - 2].vbits;
      auto chunk = FromOwnedData(
          Encoding::kXOR, std::string(Encode({samples.begin(), samples.begin() + split})->Bytes()));
      ASSERT_TRUE(chunk.ok());
      auto app = (*chunk)->NewAppender();
      ASSERT_TRUE(app.ok());
      for (size_t i = split; i < samples.size(); i++) {
        (*app)->Append(samples[i].t, DoubleFromBits(samples[i].vbits));
      }
      if (window) {
        ASSERT_EQ((*chunk)->Bytes(), full) << "round " << round << " split " << split;
      }
      Status err;
      ExpectSame(Decode(**chunk, &err), samples);
      ASSERT_TRUE(err.ok()) << err.ToString();
    }
  }
}

TEST(XorChunkTest, RoundTrip) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    auto chunk = Encode(c.samples);
    EXPECT_EQ(chunk->NumSamples(), static_cast<int>(c.samples.size()));
    EXPECT_EQ(DecodeBE16(chunk->Bytes().data()), c.samples.size());
    Status err;
    ExpectSame(Decode(*chunk, &err), c.samples);
    EXPECT_TRUE(err.ok()) << err.ToString();
    // The same bytes decode identically through a borrowed view.
    auto view = FromData(Encoding::kXOR, chunk->Bytes());
    ASSERT_TRUE(view.ok());
    ExpectSame(Decode(**view, &err), c.samples);
  }
}

TEST(XorChunkTest, ResumedAppenderWritesSameBytes) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const std::string full(Encode(c.samples)->Bytes());
    // Upstream restores no value window after exactly one sample, so resuming there yields
    // different (still decodable) bytes; from 2 samples on the bytes must be identical.
    for (size_t split : {size_t{0}, size_t{2}, c.samples.size() / 2, c.samples.size()}) {
      if (split == 1 || split > c.samples.size()) continue;
      std::vector<S> head(c.samples.begin(), c.samples.begin() + split);
      auto reloaded = FromOwnedData(Encoding::kXOR, std::string(Encode(head)->Bytes()));
      ASSERT_TRUE(reloaded.ok());
      auto app = (*reloaded)->NewAppender();
      ASSERT_TRUE(app.ok()) << app.status().ToString();
      for (size_t i = split; i < c.samples.size(); i++) {
        (*app)->Append(c.samples[i].t, DoubleFromBits(c.samples[i].vbits));
      }
      EXPECT_EQ((*reloaded)->Bytes(), full) << "split " << split;
    }
  }
}

TEST(XorChunkTest, CompactKeepsBytesAndAllowsResuming) {
  const auto samples = Regular(130, 0, 15000, 1, 0.5);
  const std::string full(Encode(samples)->Bytes());
  XorChunk chunk;
  {
    auto app = chunk.NewAppender();
    ASSERT_TRUE(app.ok());
    for (size_t i = 0; i < 60; i++) (*app)->Append(samples[i].t, DoubleFromBits(samples[i].vbits));
  }
  const std::string before(chunk.Bytes());
  chunk.Compact();
  EXPECT_EQ(chunk.Bytes(), before);
  auto app = chunk.NewAppender();
  ASSERT_TRUE(app.ok());
  for (size_t i = 60; i < samples.size(); i++) {
    (*app)->Append(samples[i].t, DoubleFromBits(samples[i].vbits));
  }
  EXPECT_EQ(chunk.Bytes(), full);
}

// Found by xor_fuzz: creating an appender may move the buffer, and Bytes() must follow it
// even if nothing is appended.
TEST(XorChunkTest, BytesValidAfterNewAppenderWithoutAppends) {
  for (const std::string& bytes :
       {std::string("\0\0", 2), std::string(Encode(Regular(3, 0, 1, 1, 1))->Bytes())}) {
    auto chunk = FromOwnedData(Encoding::kXOR, bytes);
    ASSERT_TRUE(chunk.ok());
    auto app = (*chunk)->NewAppender();
    ASSERT_TRUE(app.ok());
    EXPECT_EQ((*chunk)->Bytes(), bytes);
    Status err;
    EXPECT_EQ(Decode(**chunk, &err).size(), static_cast<size_t>(DecodeBE16(bytes.data())));
    EXPECT_TRUE(err.ok());
  }
}

TEST(XorChunkTest, AppendToViewCopiesFirst) {
  const std::string bytes(Encode(Regular(10, 0, 1000, 1, 1))->Bytes());
  const std::string original = bytes;
  auto view = FromData(Encoding::kXOR, bytes);
  ASSERT_TRUE(view.ok());
  auto app = (*view)->NewAppender();
  ASSERT_TRUE(app.ok());
  (*app)->Append(10000, 11);
  EXPECT_EQ(bytes, original);
  EXPECT_EQ((*view)->NumSamples(), 11);
  EXPECT_EQ((*view)->Bytes(), Encode(Regular(11, 0, 1000, 1, 1))->Bytes());
}

TEST(XorChunkTest, TruncatedDataIsAnErrorNeverWrongSamples) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const std::string full(Encode(c.samples)->Bytes());
    for (size_t len = 2; len < full.size(); len++) {
      auto chunk = FromData(Encoding::kXOR, std::string_view(full).substr(0, len));
      ASSERT_TRUE(chunk.ok());
      Status err;
      auto got = Decode(**chunk, &err);
      ASSERT_LT(got.size(), c.samples.size()) << "len " << len;
      EXPECT_TRUE(err.Is(StatusCode::kCorruption)) << "len " << len;
      ExpectSame(got, std::vector<S>(c.samples.begin(), c.samples.begin() + got.size()));
      EXPECT_FALSE((*chunk)->NewAppender().ok());
    }
  }
}

TEST(XorChunkTest, Seek) {
  auto chunk = Encode(Regular(100, 1000, 10, 0, 1));  // t = 1000, 1010, …, 1990
  struct Row {
    int64_t seek;
    ValueType want;
    int64_t want_t;
  } rows[] = {{0, ValueType::kFloat, 1000},    {1000, ValueType::kFloat, 1000},
              {1001, ValueType::kFloat, 1010}, {1500, ValueType::kFloat, 1500},
              {1200, ValueType::kFloat, 1500},  // never moves backwards
              {1990, ValueType::kFloat, 1990}, {1991, ValueType::kNone, 0}};
  auto it = chunk->NewIterator();
  for (const Row& r : rows) {
    ASSERT_EQ(it->Seek(r.seek), r.want) << r.seek;
    if (r.want == ValueType::kFloat) {
      EXPECT_EQ(it->AtT(), r.want_t);
    }
  }
  EXPECT_EQ(it->Next(), ValueType::kNone);
  EXPECT_TRUE(it->err().ok());
}

TEST(XorChunkTest, KeepaliveOutlivesChunk) {
  auto bytes = std::make_shared<std::string>(Encode(Regular(50, 0, 1000, 3, 1))->Bytes());
  const std::string_view view = *bytes;
  auto chunk = FromData(Encoding::kXOR, view, bytes);
  ASSERT_TRUE(chunk.ok());
  bytes.reset();
  auto it = (*chunk)->NewIterator();
  chunk = Status::Internal("drop the chunk");
  int n = 0;
  while (it->Next() == ValueType::kFloat) EXPECT_EQ(it->At().second, 3 + n++);
  EXPECT_EQ(n, 50);
}

TEST(XorChunkTest, IteratorReuse) {
  auto a = Encode(Regular(5, 0, 1, 1, 1));
  auto b = Encode(Regular(7, 100, 1, 2, 2));
  auto it = a->NewIterator();
  while (it->Next() != ValueType::kNone) {
  }
  Iterator* raw = it.get();
  it = b->NewIterator(std::move(it));
  EXPECT_EQ(it.get(), raw);
  ASSERT_EQ(it->Next(), ValueType::kFloat);
  EXPECT_EQ(it->At(), std::make_pair(int64_t{100}, 2.0));
}

// Arbitrary bytes must never crash the decoder or the appender (run under ASan in CI), and
// can never yield more samples than the header claims.
TEST(XorChunkTest, GarbageNeverCrashes) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 3000; round++) {
    std::string bytes(2 + rng() % 120, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    auto chunk = FromData(Encoding::kXOR, bytes);
    ASSERT_TRUE(chunk.ok());
    Status err;
    const auto got = Decode(**chunk, &err);
    EXPECT_LE(got.size(), DecodeBE16(bytes.data()));
    if (got.size() < DecodeBE16(bytes.data())) {
      EXPECT_FALSE(err.ok());
    }
    auto app = (*chunk)->NewAppender();
    if (app.ok()) (*app)->Append(INT64_MAX, 1);
    auto it = (*chunk)->NewIterator();
    it->Seek(static_cast<int64_t>(rng()));
  }
}

TEST(XorChunkTest, FromDataRejectsBadInput) {
  EXPECT_TRUE(FromData(Encoding::kXOR, "x").status().Is(StatusCode::kCorruption));
  EXPECT_TRUE(FromData(Encoding::kHistogram, "xyz").status().Is(StatusCode::kUnavailable));
  EXPECT_TRUE(FromData(static_cast<Encoding>(9), "xyz").status().Is(StatusCode::kCorruption));
  auto empty = NewChunk(Encoding::kXOR);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->NumSamples(), 0);
  EXPECT_EQ((*empty)->NewIterator()->Next(), ValueType::kNone);
}

}  // namespace
}  // namespace kiln::chunkenc
