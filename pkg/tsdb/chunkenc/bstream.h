// Bit-level writer and reader shared by every chunk encoding.
//
// Bits are packed most-significant first into bytes, exactly as Prometheus's bstream
// (upstream tsdb/docs/bstream.md), so a stream written here is byte-identical to one written
// by Prometheus for the same sequence of writes. The last byte is zero-padded.
//
// Neither class is thread-safe.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace kiln::chunkenc {

namespace bits_internal {

// The low `n` bits set, for 0 <= n <= 64.
inline constexpr uint64_t LowMask(int n) { return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1; }

inline uint64_t LoadBE64(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

inline void StoreBE64(void* p, uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  std::memcpy(p, &v, sizeof v);
}

}  // namespace bits_internal

// Writes bits into a byte string it does not own, a 64-bit word at a time: the current word
// is kept in a register and stored (never re-loaded) after every write, so appends do not
// stall on store-to-load forwarding. The string carries slack: it is longer than the bytes
// written so far (it grows by doubling, in whole words), and every bit after the write
// position is zero. The written bytes are always the first byte_size() bytes of the string,
// so a reader may look at them between any two writes.
class BitWriter {
 public:
  // REQUIRES: every bit of *dst at or after `bit_pos` is zero.
  BitWriter(std::string* dst, size_t bit_pos) : dst_(dst), bit_pos_(bit_pos) {
    Reserve();
    acc_ = bits_internal::LoadBE64(dst_->data() + WordOffset());
  }

  // Bits written so far, counting from the start of the string.
  size_t bit_pos() const { return bit_pos_; }
  // Bytes that hold written bits; the unused low bits of the last one are zero.
  size_t byte_size() const { return (bit_pos_ + 7) / 8; }

  void WriteBit(bool bit) { WriteBits(bit, 1); }
  void WriteByte(uint8_t b) { WriteBits(b, 8); }

  // Writes the low `n` bits of `v`, most significant first. REQUIRES: 0 <= n <= 64.
  void WriteBits(uint64_t v, int n) {
    if (n == 0) return;
    v &= bits_internal::LowMask(n);
    const int room = 64 - static_cast<int>(bit_pos_ & 63);
    if (n < room) {
      acc_ |= v << (room - n);
      bit_pos_ += n;
      Store();
      return;
    }
    acc_ |= v >> (n - room);
    Store();
    bit_pos_ += n;
    const int rest = n - room;  // bits of v that go into the next word
    acc_ = rest == 0 ? 0 : v << (64 - rest);
    Reserve();
    Store();
  }

 private:
  size_t WordOffset() const { return (bit_pos_ >> 6) << 3; }
  // Makes sure the current word lies inside the string.
  void Reserve() {
    const size_t need = WordOffset() + 8;
    if (need > dst_->size()) dst_->resize(std::max(need, dst_->size() * 2), '\0');
  }
  void Store() { bits_internal::StoreBE64(dst_->data() + WordOffset(), acc_); }

  std::string* dst_;
  size_t bit_pos_;
  uint64_t acc_;  // the 64-bit word holding bit_pos_, as it is in memory (big-endian)
};

// Reads bits from an immutable byte range, refilling a 64-bit buffer a word at a time.
// Reads past the end fail (return false) and leave the reader unusable.
class BitReader {
 public:
  explicit BitReader(std::string_view data)
      : begin_(reinterpret_cast<const uint8_t*>(data.data())),
        p_(begin_),
        end_(begin_ + data.size()) {}

  // Number of bits consumed so far.
  size_t bits_read() const { return static_cast<size_t>(p_ - begin_) * 8 - valid_; }

  bool ReadBit(bool* bit) {
    if (valid_ == 0 && !Refill()) return false;
    valid_--;
    *bit = (buf_ >> valid_) & 1;
    return true;
  }

  // Reads `n` bits into the low bits of *out. REQUIRES: 1 <= n <= 64.
  bool ReadBits(int n, uint64_t* out) {
    if (n <= valid_) {
      valid_ -= n;
      *out = (buf_ >> valid_) & bits_internal::LowMask(n);
      return true;
    }
    const int high_bits = valid_;
    const uint64_t high = buf_ & bits_internal::LowMask(high_bits);
    const int need = n - high_bits;
    if (!Refill() || need > valid_) return false;
    valid_ -= need;
    const uint64_t low = (buf_ >> valid_) & bits_internal::LowMask(need);
    *out = need == 64 ? low : (high << need) | low;
    return true;
  }

  // Fast paths for decoders: bits already in the buffer can be peeked and skipped without
  // bounds checks. REQUIRES for both: n <= buffered().
  int buffered() const { return valid_; }
  uint64_t PeekBuffered(int n) const { return (buf_ >> (valid_ - n)) & bits_internal::LowMask(n); }
  void SkipBuffered(int n) { valid_ -= n; }

  bool ReadByte(uint8_t* b) {
    uint64_t v;
    if (!ReadBits(8, &v)) return false;
    *b = static_cast<uint8_t>(v);
    return true;
  }

 private:
  // Loads the next (up to) 8 bytes into the buffer, discarding what was left in it.
  bool Refill() {
    const size_t left = static_cast<size_t>(end_ - p_);
    if (left >= 8) {
      buf_ = bits_internal::LoadBE64(p_);
      p_ += 8;
      valid_ = 64;
      return true;
    }
    if (left == 0) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < left; i++) v = (v << 8) | p_[i];
    p_ = end_;
    buf_ = v;
    valid_ = static_cast<int>(8 * left);
    return true;
  }

  const uint8_t* begin_;
  const uint8_t* p_;  // next byte to load into buf_
  const uint8_t* end_;
  uint64_t buf_ = 0;  // the low valid_ bits are unread, most significant first
  int valid_ = 0;
};

}  // namespace kiln::chunkenc
