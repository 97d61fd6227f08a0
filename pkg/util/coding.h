// Byte encodings shared by the on-disk formats (WAL records, index, chunks): Go-compatible
// varints (unsigned LEB128 and zig-zag signed) and big-endian fixed-width integers.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace kiln {

inline void PutUvarint(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

inline void PutVarint(std::string* dst, int64_t v) {
  PutUvarint(dst, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

inline void PutBE16(std::string* dst, uint16_t v) {
  dst->push_back(static_cast<char>(v >> 8));
  dst->push_back(static_cast<char>(v));
}

inline void PutBE32(std::string* dst, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) dst->push_back(static_cast<char>(v >> s));
}

inline void PutBE64(std::string* dst, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) dst->push_back(static_cast<char>(v >> s));
}

inline void EncodeBE32(char* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = static_cast<char>(v >> (24 - 8 * i));
}

inline void EncodeBE64(char* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = static_cast<char>(v >> (56 - 8 * i));
}

inline uint16_t DecodeBE16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}

inline uint32_t DecodeBE32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

inline uint64_t DecodeBE64(const char* p) {
  return (uint64_t{DecodeBE32(p)} << 32) | DecodeBE32(p + 4);
}

// Cursor over an immutable byte string. Reads past the end set a sticky error and return 0,
// so a decoder checks err() once at the end, as Prometheus's encoding.Decbuf does.
class Decoder {
 public:
  explicit Decoder(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  bool err() const { return err_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const char* position() const { return p_; }

  uint64_t Uvarint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return Fail();
      const uint8_t b = static_cast<uint8_t>(*p_++);
      v |= uint64_t{b & 0x7fu} << shift;
      if (b < 0x80) return v;
    }
    return Fail();
  }
  int64_t Varint() {
    const uint64_t u = Uvarint();
    return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
  }
  uint8_t Byte() {
    if (p_ >= end_) return static_cast<uint8_t>(Fail());
    return static_cast<uint8_t>(*p_++);
  }
  uint32_t BE32() {
    if (remaining() < 4) return static_cast<uint32_t>(Fail());
    const uint32_t v = DecodeBE32(p_);
    p_ += 4;
    return v;
  }
  uint64_t BE64() {
    if (remaining() < 8) return Fail();
    const uint64_t v = DecodeBE64(p_);
    p_ += 8;
    return v;
  }
  double BE64Float() {
    const uint64_t bits = BE64();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }
  std::string_view Bytes(size_t n) {
    if (remaining() < n) {
      Fail();
      return {};
    }
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  // A uvarint length followed by that many bytes.
  std::string_view UvarintBytes() {
    const uint64_t n = Uvarint();
    if (err_) return {};
    return Bytes(n);
  }

 private:
  uint64_t Fail() {
    err_ = true;
    p_ = end_;
    return 0;
  }
  const char* p_;
  const char* end_;
  bool err_ = false;
};

inline void PutUvarintBytes(std::string* dst, std::string_view s) {
  PutUvarint(dst, s.size());
  dst->append(s);
}

inline uint64_t DoubleBits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

inline double DoubleFromBits(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

}  // namespace kiln
