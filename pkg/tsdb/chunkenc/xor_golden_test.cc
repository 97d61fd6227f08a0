// Golden test against real Prometheus: promtool (2.42) writes a block from an OpenMetrics
// file; every chunk in its chunks/000001 segment must decode to the samples we wrote, and
// re-encoding those samples must give exactly promtool's bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "pkg/tsdb/chunkenc/xor.h"
#include "pkg/util/coding.h"
#include "pkg/util/crc32c.h"

namespace kiln::chunkenc {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPromtool = "/usr/bin/promtool";
constexpr int64_t kBlockStartSec = 1700006400;  // a multiple of 2h, so one block holds all

struct Sample {
  int64_t t;
  uint64_t vbits;
};

// One OpenMetrics sample line's timestamp and value text, and what Prometheus parses them to:
// int64(seconds * 1000) truncated, as its OpenMetrics parser does.
struct Line {
  std::string ts;
  std::string value;
};

Sample Parse(const Line& l) {
  const double sec = std::strtod(l.ts.c_str(), nullptr);
  double v;
  if (l.value == "NaN") {
    v = DoubleFromBits(0x7ff8000000000001);  // Go's math.NaN()
  } else {
    v = std::strtod(l.value.c_str(), nullptr);
  }
  return {static_cast<int64_t>(sec * 1000), DoubleBits(v)};
}

std::string Ts(int64_t ms) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000));
  return buf;
}

std::string Num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Series in label order (the order the block writes them), each within the first 2h.
std::vector<std::pair<std::string, std::vector<Line>>> Series() {
  std::mt19937_64 rng(42);
  const int64_t t0 = kBlockStartSec * 1000;
  std::vector<std::pair<std::string, std::vector<Line>>> out;
  std::vector<Line> counter, gauge, constant, special;
  double c = 0, g = 20;
  for (int i = 0; i < 240; i++) {
    const int64_t t = t0 + i * 15000 + static_cast<int64_t>(rng() % 7);  // ms jitter
    c += static_cast<double>(rng() % 1000);
    g = std::round((g + static_cast<double>(static_cast<int>(rng() % 200) - 100) / 100) * 100) /
        100;
    counter.push_back({Ts(t), Num(c)});
    gauge.push_back({Ts(t), Num(g)});
    constant.push_back({Ts(t0 + i * 30000), "1"});
  }
  // Irregular gaps hit every delta-of-delta bucket, including the 64-bit one (a 30 minute
  // gap followed by 1s), and values hit the special encodings.
  const double specials[] = {0,       -0.0,    1e308, 5e-324, NAN,  INFINITY,     -INFINITY,
                             3.14159, -2.5e-7, 1,     1,      1e-3, 123456789.125};
  int64_t t = t0;
  const int64_t edge_gaps[] = {1, 2, 7, 1000, 8192, 8193, 65536, 65537, 524288, 524289};
  for (int i = 0; i < 150; i++) {
    if (i < 20) {
      t += edge_gaps[i % std::size(edge_gaps)];
    } else if (i == 20) {
      t += 1800000;
    } else {
      t += 1 + static_cast<int64_t>(rng() % 1000);
    }
    special.push_back({Ts(t), Num(specials[rng() % std::size(specials)])});
  }
  out.push_back({"a_counter_total", counter});
  out.push_back({"b_gauge", gauge});
  out.push_back({"c_constant", constant});
  out.push_back({"d_special", special});
  return out;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Splits a block chunk segment (upstream tsdb/docs/format/chunks.md) into chunk datas.
std::vector<std::string> SplitSegment(const std::string& seg) {
  EXPECT_EQ(DecodeBE32(seg.data()), 0x85BD40DDu);
  Decoder d(std::string_view(seg).substr(8));
  std::vector<std::string> chunks;
  while (d.remaining() > 0) {
    const uint64_t len = d.Uvarint();
    const std::string_view enc_and_data = d.Bytes(len + 1);
    const uint32_t crc = d.BE32();
    EXPECT_FALSE(d.err());
    EXPECT_EQ(crc, Crc32c(enc_and_data));
    EXPECT_EQ(enc_and_data[0], static_cast<char>(Encoding::kXOR));
    chunks.emplace_back(enc_and_data.substr(1));
  }
  return chunks;
}

TEST(XorGoldenTest, MatchesPromtoolBlockChunks) {
  if (!fs::exists(kPromtool)) GTEST_SKIP() << "promtool not installed";
  char tmpl[] = "/tmp/kiln_xor_golden_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const fs::path dir(tmpl);

  std::vector<Sample> want;
  std::ofstream om(dir / "in.om");
  for (const auto& [name, lines] : Series()) {
    om << "# TYPE " << name << " gauge\n";
    for (const Line& l : lines) {
      om << name << "{job=\"golden\"} " << l.value << " " << l.ts << "\n";
      want.push_back(Parse(l));
    }
  }
  om << "# EOF\n";
  om.close();

  const std::string cmd = std::string(kPromtool) + " tsdb create-blocks-from openmetrics " +
                          (dir / "in.om").string() + " " + (dir / "out").string() + " >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::vector<fs::path> blocks;
  for (const auto& e : fs::directory_iterator(dir / "out")) blocks.push_back(e.path());
  ASSERT_EQ(blocks.size(), 1u);

  std::vector<Sample> got;
  const auto chunks = SplitSegment(ReadFile(blocks[0] / "chunks" / "000001"));
  EXPECT_GT(chunks.size(), 4u);  // 120-sample chunks: some series span several
  for (const std::string& data : chunks) {
    auto chunk = FromData(Encoding::kXOR, data);
    ASSERT_TRUE(chunk.ok());
    XorChunk reencoded;
    auto app = reencoded.NewAppender();
    ASSERT_TRUE(app.ok());
    auto it = (*chunk)->NewIterator();
    while (it->Next() == ValueType::kFloat) {
      const auto [t, v] = it->At();
      got.push_back({t, DoubleBits(v)});
      (*app)->Append(t, v);
    }
    ASSERT_TRUE(it->err().ok()) << it->err().ToString();
    ASSERT_EQ(reencoded.Bytes(), std::string_view(data)) << "chunk " << got.size();
  }
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); i++) {
    ASSERT_EQ(got[i].t, want[i].t) << i;
    ASSERT_EQ(got[i].vbits, want[i].vbits) << i;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kiln::chunkenc
