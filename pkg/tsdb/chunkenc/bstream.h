// Bit-level writer and reader shared by every chunk encoding.
//
// Bits are packed most-significant first into bytes, exactly as Prometheus's bstream
// (upstream tsdb/docs/bstream.md), so a stream written here is byte-identical to one written
// by Prometheus for the same sequence of writes. The last byte is zero-padded.
//
// Both work a word at a time. The writer keeps the unfinished byte in a 64-bit accumulator
// and stores whole words without ever loading from the buffer (no store-to-load stalls);
// its Run keeps that state in registers for the writes of one sample. The reader peeks at
// the 128 bits at any bit position with two loads, so a decoder takes a whole sample (for
// XOR at most 24 + 13 + 64 bits in the common case) from one peek and keeps its position
// in a register. unsigned __int128 is a GCC/Clang extension; both compile it to register
// pairs.
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

__extension__ typedef unsigned __int128 uint128;

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

inline uint128 LoadBE128(const uint8_t* p) {
  return (uint128{LoadBE64(p)} << 64) | LoadBE64(p + 8);
}

}  // namespace bits_internal

// Writes bits into a byte string it does not own. The string carries slack: it is longer
// than the bytes written so far and every byte after the write position is zero, so the
// written bytes are always the first byte_size() bytes of the string and a reader may look
// at them between any two writes. Only one writer may be in use on a string at a time (a
// writer caches the string's buffer, which growing moves).
//
// State: byte_ is the byte holding the write position, fill_ (0..7) the bits of it already
// written, and acc_ holds those fill_ bits at its top followed by zeros. A write ORs the new
// bits below them and stores the accumulator at byte_ (8 bytes, 16 for PutWide), then
// retires the whole bytes from it.
class BitWriter {
 public:
  // The widest field one Run::Put takes: with up to 7 bits pending, 7 + 56 bits fit 64.
  static constexpr int kMaxFastBits = 56;
  // The widest field one PutWide takes: with up to 7 bits pending, 7 + 120 bits fit 128.
  static constexpr int kMaxWideBits = 120;

  // REQUIRES: every bit of *dst at or after `bit_pos` is zero.
  BitWriter(std::string* dst, size_t bit_pos)
      : dst_(dst), byte_(bit_pos / 8), fill_(static_cast<int>(bit_pos % 8)) {
    Attach();
    if (!HasRoom()) Grow(2 * cap_);
    acc_ = uint64_t{base_[byte_]} << 56;
  }

  // Bits written so far, counting from the start of the string.
  size_t bit_pos() const { return byte_ * 8 + static_cast<size_t>(fill_); }
  // Bytes that hold written bits; the unused low bits of the last one are zero.
  size_t byte_size() const { return byte_ + (fill_ != 0); }
  size_t capacity() const { return cap_; }
  // The string's buffer (moved by Grow).
  char* data() const { return reinterpret_cast<char*>(base_); }

  void WriteBit(bool bit) { WriteBits(bit, 1); }
  void WriteByte(uint8_t b) { WriteBits(b, 8); }

  // Writes the low `n` bits of `v`, most significant first, growing the string as needed.
  // REQUIRES: 0 <= n <= 64.
  void WriteBits(uint64_t v, int n) {
    if (n == 0) return;
    if (!HasRoom()) Grow(2 * cap_);
    PutWide(v & bits_internal::LowMask(n), n);
  }

  // Writes `v` in `n` bits, growing the string as needed. REQUIRES: 1 <= n <= kMaxWideBits,
  // v < 2^n.
  void WriteWide(uint128 v, int n) {
    if (!HasRoom()) Grow(2 * cap_);
    PutWide(v, n);
  }

  // Whether the next PutWide fits without growing.
  bool HasRoom() const { return byte_ + kStoreBytes <= cap_; }

  // Reallocates the string to `capacity` bytes (at least enough for the next PutWide),
  // zero-filled after the written bytes. Out of line: it is the rare path.
  [[gnu::noinline]] void Grow(size_t capacity) {
    capacity = std::max(capacity, byte_ + 2 * kStoreBytes);
    // A fresh string gets exactly this capacity; resize() on the old one would at least
    // double it, and head chunks are many.
    std::string bigger(capacity, '\0');
    if (cap_ > 0) std::memcpy(bigger.data(), base_, std::min(cap_, capacity));
    dst_->swap(bigger);
    Attach();
  }

  // The hot path: a run of writes with no growth checks, on a copy of the writer's state
  // that the compiler keeps in registers (stores into the buffer could alias the writer's
  // members, forcing reloads after each one). Committed back when the run ends.
  //
  //   { BitWriter::Run run(&w); run.Put(a, 16); run.Put64(b, 50); }
  //
  // REQUIRES: HasRoom() at the start, and the run advances at most kStoreBytes - 8 bytes.
  // No other use of the writer while the run lives.
  class Run {
   public:
    explicit Run(BitWriter* w)
        : w_(w), base_(w->base_), byte_(w->byte_), acc_(w->acc_), fill_(w->fill_) {}
    ~Run() {
      w_->byte_ = byte_;
      w_->fill_ = fill_;
      w_->acc_ = acc_;
    }
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

    // As BitWriter's, for the run's writes so far.
    char* data() const { return reinterpret_cast<char*>(base_); }
    size_t byte_size() const { return byte_ + (fill_ != 0); }

    // Writes `v` in `n` bits, without masking. REQUIRES: 1 <= n <= kMaxFastBits, v < 2^n.
    void Put(uint64_t v, int n) {
      acc_ |= v << (64 - fill_ - n);
      fill_ += n;
      bits_internal::StoreBE64(base_ + byte_, acc_);
      const int done = fill_ >> 3;  // whole bytes finished, at most 7
      byte_ += static_cast<size_t>(done);
      acc_ <<= 8 * done;
      fill_ &= 7;
    }
    // Like Put, for 1 <= n <= 64.
    void Put64(uint64_t v, int n) {
      if (n > kMaxFastBits) [[unlikely]] {
        Put(v >> 32, n - 32);
        v &= 0xffffffff;
        n = 32;
      }
      Put(v, n);
    }

   private:
    BitWriter* const w_;
    uint8_t* const base_;
    size_t byte_;
    uint64_t acc_;
    int fill_;
  };

  // Writes `v` in `n` bits with no growth check and no masking, through a 128-bit
  // accumulator. REQUIRES: 1 <= n <= kMaxWideBits, v < 2^n,
  // HasRoom().
  void PutWide(uint128 v, int n) {
    uint128 acc = (uint128{acc_} << 64) | (v << (128 - fill_ - n));
    bits_internal::StoreBE64(base_ + byte_, static_cast<uint64_t>(acc >> 64));
    bits_internal::StoreBE64(base_ + byte_ + 8, static_cast<uint64_t>(acc));
    const int total = fill_ + n;
    const int done = total >> 3;  // whole bytes finished, at most 15
    byte_ += static_cast<size_t>(done);
    acc <<= 8 * done;
    acc_ = static_cast<uint64_t>(acc >> 64);
    fill_ = total & 7;
  }

 private:
  // Every write stores 16 bytes from byte_.
  static constexpr size_t kStoreBytes = 16;

  void Attach() {
    base_ = reinterpret_cast<uint8_t*>(dst_->data());
    cap_ = dst_->size();
  }

  std::string* dst_;
  uint8_t* base_ = nullptr;  // dst_->data()
  size_t cap_ = 0;           // dst_->size()
  size_t byte_;
  int fill_;
  uint64_t acc_ = 0;
};

// Reads bits from an immutable byte range by loading the 16 bytes around the read position
// (Window), so a decoder can take a whole sample from one load. Reading past the end yields
// zero bits and sets overrun(); the checked reads then fail. The range itself is never read
// out of bounds: its last 16 bytes are copied into a zero-padded buffer that loads near the
// end come from.
class BitReader {
 public:
  // Window() holds at least this many bits from the read position on.
  static constexpr int kWindowBits = 121;

  explicit BitReader(std::string_view data)
      : data_(reinterpret_cast<const uint8_t*>(data.data())),
        size_(data.size()),
        tail_start_(data.size() > kTail ? data.size() - kTail : 0) {
    std::memset(tail_, 0, sizeof tail_);
    if (size_ > 0) std::memcpy(tail_, data_ + tail_start_, size_ - tail_start_);
  }

  // Number of bits consumed so far.
  size_t bits_read() const { return pos_; }
  // Whether more bits were consumed than the data holds (the excess read as zeros).
  bool overrun() const { return pos_ > size_ * 8; }

  // The bits from bit `pos` on, zeros past the end: *hi gets 64 of them (bit `pos` at the
  // top), *lo at least the following 57. Does not move the reader, so a decoder can keep
  // its position in a register. REQUIRES: pos <= limit().
  void PeekAt(size_t pos, uint64_t* hi, uint64_t* lo) const {
    const size_t byte = pos >> 3;
    // Both pointers stay inside their buffers: byte <= size_, and byte - tail_start_ <=
    // kTail leaves 16 bytes in tail_.
    const uint8_t* src = byte < tail_start_ ? data_ + byte : tail_ + (byte - tail_start_);
    const uint64_t w0 = bits_internal::LoadBE64(src);
    const uint64_t w1 = bits_internal::LoadBE64(src + 8);
    const int shift = static_cast<int>(pos & 7);
    *hi = (w0 << shift) | ((w1 >> 1) >> (63 - shift));
    *lo = w1 << shift;
  }
  // PeekAt(pos()). REQUIRES: !overrun().
  void Peek128(uint64_t* hi, uint64_t* lo) const { PeekAt(pos_, hi, lo); }
  // The same bits as one 128-bit value; only the top kWindowBits are guaranteed.
  uint128 Window() const {
    uint64_t hi, lo;
    Peek128(&hi, &lo);
    return (uint128{hi} << 64) | lo;
  }
  void Skip(size_t n) { pos_ += n; }
  size_t pos() const { return pos_; }
  // Moves to bit `pos` (e.g. after decoding with PeekAt).
  void set_pos(size_t pos) { pos_ = pos; }
  // The bit count past which reads overrun.
  size_t limit() const { return size_ * 8; }

  // Reads `n` bits into the low bits of *out. False if that went past the end (the reader
  // stays overrun). REQUIRES: 1 <= n <= 64.
  bool ReadBits(int n, uint64_t* out) {
    if (overrun()) return false;
    *out = static_cast<uint64_t>(Window() >> (128 - n));
    pos_ += static_cast<size_t>(n);
    return !overrun();
  }

  bool ReadBit(bool* bit) {
    uint64_t v;
    if (!ReadBits(1, &v)) return false;
    *bit = v != 0;
    return true;
  }

  bool ReadByte(uint8_t* b) {
    uint64_t v;
    if (!ReadBits(8, &v)) return false;
    *b = static_cast<uint8_t>(v);
    return true;
  }

 private:
  static constexpr size_t kTail = 16;

  const uint8_t* data_;
  size_t size_;
  size_t tail_start_;        // offset of the first byte copied into tail_
  size_t pos_ = 0;           // bits consumed
  uint8_t tail_[2 * kTail];  // data_[tail_start_, size_), then zeros
};

}  // namespace kiln::chunkenc
