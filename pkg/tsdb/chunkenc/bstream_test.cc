#include "pkg/tsdb/chunkenc/bstream.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace kiln::chunkenc {
namespace {

struct Field {
  uint64_t value;
  int nbits;
};

// Reference packer: one bit at a time, most significant first, zero padded.
std::string PackBitByBit(const std::vector<Field>& fields) {
  std::string out;
  int used = 8;
  for (const Field& f : fields) {
    for (int i = f.nbits - 1; i >= 0; i--) {
      if (used == 8) {
        out.push_back(0);
        used = 0;
      }
      if ((f.value >> i) & 1) out.back() = static_cast<char>(out.back() | (0x80 >> used));
      used++;
    }
  }
  return out;
}

std::vector<Field> RandomFields(uint32_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<Field> fields;
  for (int i = 0; i < n; i++) {
    const int nbits = static_cast<int>(rng() % 65);
    const uint64_t v = rng() & (nbits == 64 ? ~uint64_t{0} : (uint64_t{1} << nbits) - 1);
    fields.push_back({v, nbits});
  }
  return fields;
}

TEST(BitWriterTest, MatchesBitByBitPacking) {
  for (uint32_t seed = 1; seed <= 50; seed++) {
    const auto fields = RandomFields(seed, 200);
    std::string got;
    BitWriter w(&got, 0);
    for (const Field& f : fields) {
      if (f.nbits == 1) {
        w.WriteBit(f.value != 0);
      } else if (f.nbits == 8 && seed % 2 == 0) {
        w.WriteByte(static_cast<uint8_t>(f.value));
      } else {
        w.WriteBits(f.value, f.nbits);
      }
    }
    ASSERT_EQ(got.substr(0, w.byte_size()), PackBitByBit(fields)) << "seed " << seed;
  }
}

TEST(BitWriterTest, IgnoresBitsAboveWidthAndResumesPartialByte) {
  std::string got("\xAB", 1);
  BitWriter w(&got, 8);
  w.WriteBits(0xFFFF'FFFF'FFFF'FFF5, 4);  // only the low 4 bits (0101) count
  EXPECT_EQ(w.bit_pos(), 12u);
  BitWriter resumed(&got, w.bit_pos());
  resumed.WriteBits(0b1, 1);
  EXPECT_EQ(resumed.byte_size(), 2u);
  EXPECT_EQ(got.substr(0, 2), std::string("\xAB\x58", 2));
  // Slack beyond the written bytes stays zero.
  EXPECT_EQ(got.find_first_not_of('\0', 2), std::string::npos);
}

TEST(BitReaderTest, ReadsBackEveryWidth) {
  for (uint32_t seed = 1; seed <= 50; seed++) {
    const auto fields = RandomFields(seed, 200);
    const std::string data = PackBitByBit(fields);
    BitReader r(data);
    size_t total = 0;
    for (const Field& f : fields) {
      if (f.nbits == 0) continue;
      uint64_t v = 0;
      if (f.nbits == 1) {
        bool b;
        ASSERT_TRUE(r.ReadBit(&b));
        v = b;
      } else {
        ASSERT_TRUE(r.ReadBits(f.nbits, &v));
      }
      ASSERT_EQ(v, f.value) << "seed " << seed;
      total += f.nbits;
      ASSERT_EQ(r.bits_read(), total);
    }
    // Only padding (< 8 bits) is left.
    uint64_t v;
    EXPECT_FALSE(r.ReadBits(8, &v));
  }
}

TEST(BitReaderTest, FailsAtEnd) {
  const std::string data("\x01\x02\x03", 3);
  BitReader r(data);
  uint64_t v;
  ASSERT_TRUE(r.ReadBits(20, &v));
  EXPECT_EQ(v, 0x01020u);
  EXPECT_FALSE(r.ReadBits(5, &v));
  BitReader empty{std::string_view()};
  bool b;
  EXPECT_FALSE(empty.ReadBit(&b));
}

}  // namespace
}  // namespace kiln::chunkenc
