#include "pkg/tsdb/block/ulid.h"

#include <array>
#include <random>

namespace kiln::tsdb::block {
namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int DecodeChar(char c) {
  for (int i = 0; i < 32; i++) {
    if (kCrockford[i] == c) return i;
  }
  return -1;
}

}  // namespace

std::string NewUlid(int64_t ms) {
  // 128 bits: 16 bytes, big endian; time in the first 6.
  std::array<uint8_t, 16> b{};
  const auto t = static_cast<uint64_t>(ms);
  for (int i = 0; i < 6; i++) b[i] = static_cast<uint8_t>(t >> (40 - 8 * i));
  thread_local std::random_device rd;
  for (int i = 6; i < 16; i += 2) {
    const unsigned r = rd();
    b[i] = static_cast<uint8_t>(r);
    b[i + 1] = static_cast<uint8_t>(r >> 8);
  }
  // 26 characters of 5 bits cover 130 bits: the first character carries the top 3 bits.
  std::string out(26, '0');
  unsigned __int128 v = 0;
  for (uint8_t x : b) v = (v << 8) | x;
  for (int i = 25; i >= 0; i--) {
    out[i] = kCrockford[static_cast<unsigned>(v & 31)];
    v >>= 5;
  }
  return out;
}

std::optional<uint64_t> UlidTime(std::string_view ulid) {
  if (ulid.size() != 26 || ulid[0] > '7') return std::nullopt;
  unsigned __int128 v = 0;
  for (char c : ulid) {
    const int d = DecodeChar(c);
    if (d < 0) return std::nullopt;
    v = (v << 5) | static_cast<unsigned>(d);
  }
  return static_cast<uint64_t>(v >> 80);
}

}  // namespace kiln::tsdb::block
