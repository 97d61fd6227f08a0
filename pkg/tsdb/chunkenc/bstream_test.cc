#include "pkg/tsdb/chunkenc/bstream.h"

#include <gtest/gtest.h>

#include <memory>
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

// The unchecked fast path writes the same bits as the checked one, with several writes
// per run and runs of every length, across growth between runs.
TEST(BitWriterTest, RunMatchesBitByBitPacking) {
  for (uint32_t seed = 1; seed <= 50; seed++) {
    std::mt19937_64 rng(seed);
    std::vector<Field> fields;
    std::string got(3, '\0');  // tiny, so that Grow runs many times
    BitWriter w(&got, 0);
    while (fields.size() < 300) {
      if (!w.HasRoom()) w.Grow(w.capacity() + 1 + rng() % 40);
      BitWriter::Run run(&w);
      // One run may advance at most 8 bytes: at most 64 bits, as Put and Put64 fields.
      int budget = 64;
      while (budget > 0 && fields.size() < 300) {
        const bool wide = rng() % 3 == 0;
        const int max = std::min(budget, wide ? 64 : BitWriter::kMaxFastBits);
        const int nbits = 1 + static_cast<int>(rng() % static_cast<uint64_t>(max));
        const uint64_t v = rng() & bits_internal::LowMask(nbits);
        if (wide) {
          run.Put64(v, nbits);
        } else {
          run.Put(v, nbits);
        }
        fields.push_back({v, nbits});
        budget -= nbits;
      }
    }
    EXPECT_EQ(w.capacity(), got.size());
    ASSERT_EQ(got.substr(0, w.byte_size()), PackBitByBit(fields)) << "seed " << seed;
    EXPECT_EQ(got.find_first_not_of('\0', w.byte_size()), std::string::npos);
  }
}

TEST(BitWriterTest, GrowKeepsBytesAndGivesExactCapacity) {
  std::string buf;
  BitWriter w(&buf, 0);
  w.WriteBits(0xabcdef, 24);
  w.Grow(1000);
  EXPECT_EQ(buf.size(), 1000u);
  EXPECT_EQ(w.capacity(), 1000u);
  EXPECT_EQ(buf.substr(0, 3), "\xab\xcd\xef");
  EXPECT_EQ(buf.find_first_not_of('\0', 3), std::string::npos);
  // Too small a request still leaves room for the next write.
  w.Grow(1);
  EXPECT_TRUE(w.HasRoom());
  EXPECT_EQ(buf.substr(0, 3), "\xab\xcd\xef");
}

TEST(BitWriterTest, WriteWideTakesUpTo120Bits) {
  std::mt19937_64 rng(3);
  std::vector<Field> fields;
  std::string got;
  BitWriter w(&got, 0);
  for (int i = 0; i < 200; i++) {
    const int nbits = 1 + static_cast<int>(rng() % BitWriter::kMaxWideBits);
    const uint64_t hi = nbits > 64 ? rng() & bits_internal::LowMask(nbits - 64) : 0;
    const uint64_t lo = nbits >= 64 ? rng() : rng() & bits_internal::LowMask(nbits);
    w.WriteWide((uint128{hi} << 64) | lo, nbits);
    if (nbits > 64) fields.push_back({hi, nbits - 64});
    fields.push_back({lo, std::min(nbits, 64)});
  }
  ASSERT_EQ(got.substr(0, w.byte_size()), PackBitByBit(fields));
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

// PeekAt sees the bits at any position, the data's last bytes and the zeros after them
// included, and never reads outside the data (run under ASan).
TEST(BitReaderTest, PeekAtAnyPosition) {
  std::mt19937_64 rng(5);
  for (size_t size :
       {size_t{0}, size_t{1}, size_t{7}, size_t{15}, size_t{16}, size_t{17}, size_t{40}}) {
    // An exactly sized heap copy, so that ASan catches any read past it.
    auto data = std::make_unique<char[]>(size == 0 ? 1 : size);
    for (size_t i = 0; i < size; i++) data[i] = static_cast<char>(rng());
    const std::string_view view(data.get(), size);
    const BitReader r(view);
    auto bit = [&](size_t i) { return i < size * 8 && ((data[i / 8] >> (7 - i % 8)) & 1) != 0; };
    for (size_t pos = 0; pos <= size * 8; pos++) {
      uint64_t hi, lo;
      r.PeekAt(pos, &hi, &lo);
      for (int i = 0; i < BitReader::kWindowBits; i++) {
        const bool got = i < 64 ? (hi >> (63 - i)) & 1 : (lo >> (127 - i)) & 1;
        ASSERT_EQ(got, bit(pos + static_cast<size_t>(i))) << "size " << size << " pos " << pos;
      }
    }
  }
}

}  // namespace
}  // namespace kiln::chunkenc
