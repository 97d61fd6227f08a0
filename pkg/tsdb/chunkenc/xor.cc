#include "pkg/tsdb/chunkenc/xor.h"

#include <bit>

#include "pkg/tsdb/chunkenc/bstream.h"
#include "pkg/util/coding.h"

namespace kiln::chunkenc {

namespace {

constexpr size_t kHeaderSize = 2;    // big-endian uint16 sample count
constexpr uint8_t kNoWindow = 0xff;  // no leading/trailing window chosen yet
constexpr int kMaxVarintBytes = 10;
constexpr size_t kInitialCapacity = 128;  // as upstream; a 120-sample chunk is often smaller

Status Truncated() { return Status::Corruption("xor chunk: unexpected end of data"); }

// Whether `x` fits the signed `nbits` bucket as upstream defines it: the range is
// [-(2^(n-1) - 1), 2^(n-1)], one more on the positive side than two's complement.
bool FitsBucket(int64_t x, int nbits) {
  const int64_t half = int64_t{1} << (nbits - 1);
  return -(half - 1) <= x && x <= half;
}

bool ReadUvarint(BitReader* br, uint64_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < kMaxVarintBytes; i++) {
    uint8_t b;
    if (!br->ReadByte(&b)) return false;
    v |= uint64_t{b & 0x7fu} << (7 * i);
    if (b < 0x80) {
      *out = v;
      return true;
    }
  }
  return false;
}

void WriteUvarint(BitWriter* w, uint64_t v) {
  while (v >= 0x80) {
    w->WriteByte(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  w->WriteByte(static_cast<uint8_t>(v));
}

// Decodes the bit stream of an XOR chunk. Not thread-safe.
class XorIterator final : public Iterator {
 public:
  XorIterator(std::string_view chunk, std::shared_ptr<const void> keepalive)
      : br_(std::string_view()) {
    Reset(chunk, std::move(keepalive));
  }

  // REQUIRES: chunk.size() >= kHeaderSize.
  void Reset(std::string_view chunk, std::shared_ptr<const void> keepalive) {
    keepalive_ = std::move(keepalive);
    br_ = BitReader(chunk.substr(kHeaderSize));
    total_ = DecodeBE16(chunk.data());
    read_ = 0;
    t_ = 0;
    vbits_ = 0;
    tdelta_ = 0;
    leading_ = 0;
    trailing_ = 0;
    err_ = Status::OK();
  }

  ValueType Next() override;
  ValueType Seek(int64_t t) override;
  std::pair<int64_t, double> At() const override { return {t_, DoubleFromBits(vbits_)}; }
  int64_t AtT() const override { return t_; }
  Status err() const override { return err_; }

  // State an appender resumes from.
  int total() const { return total_; }
  int64_t t() const { return t_; }
  uint64_t vbits() const { return vbits_; }
  uint64_t tdelta() const { return tdelta_; }
  uint8_t leading() const { return leading_; }
  uint8_t trailing() const { return trailing_; }
  size_t bits_read() const { return br_.bits_read(); }

 private:
  ValueType ReadFirst();
  ValueType ReadSecond();
  bool ReadDeltaOfDelta(int64_t* dod);
  ValueType ReadValue();
  ValueType Fail(Status s) {
    err_ = std::move(s);
    return ValueType::kNone;
  }

  std::shared_ptr<const void> keepalive_;  // keeps borrowed chunk bytes alive, may be null
  BitReader br_;
  int total_ = 0;
  int read_ = 0;
  int64_t t_ = 0;
  uint64_t vbits_ = 0;
  uint64_t tdelta_ = 0;  // unsigned so that wrap-around is defined, as in upstream
  uint8_t leading_ = 0;
  uint8_t trailing_ = 0;
  Status err_;
};

ValueType XorIterator::Next() {
  if (!err_.ok() || read_ == total_) return ValueType::kNone;
  if (read_ == 0) return ReadFirst();
  if (read_ == 1) return ReadSecond();
  int64_t dod;
  if (!ReadDeltaOfDelta(&dod)) return Fail(Truncated());
  tdelta_ += static_cast<uint64_t>(dod);
  t_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + tdelta_);
  return ReadValue();
}

ValueType XorIterator::Seek(int64_t t) {
  if (!err_.ok()) return ValueType::kNone;
  while (read_ == 0 || t_ < t) {
    if (Next() == ValueType::kNone) return ValueType::kNone;
  }
  return ValueType::kFloat;
}

ValueType XorIterator::ReadFirst() {
  uint64_t zigzag;
  if (!ReadUvarint(&br_, &zigzag) || !br_.ReadBits(64, &vbits_)) return Fail(Truncated());
  t_ = static_cast<int64_t>(zigzag >> 1) ^ -static_cast<int64_t>(zigzag & 1);
  read_++;
  return ValueType::kFloat;
}

ValueType XorIterator::ReadSecond() {
  if (!ReadUvarint(&br_, &tdelta_)) return Fail(Truncated());
  t_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + tdelta_);
  return ReadValue();
}

bool XorIterator::ReadDeltaOfDelta(int64_t* dod) {
  // Prefix 0, 10, 110, 1110 or 1111 selects a bucket of 0, 14, 17, 20 or 64 bits.
  int ones = 0;
  if (br_.buffered() >= 4) {
    const auto top = static_cast<uint8_t>(br_.PeekBuffered(4) << 4);
    ones = std::countl_one(top);  // at most 4: the low nibble is zero
    br_.SkipBuffered(ones == 4 ? 4 : ones + 1);
  } else {
    for (; ones < 4; ones++) {
      bool bit;
      if (!br_.ReadBit(&bit)) return false;
      if (!bit) break;
    }
  }
  static constexpr int kBucketBits[] = {0, 14, 17, 20, 64};
  const int sz = kBucketBits[ones];
  if (sz == 0) {
    *dod = 0;
    return true;
  }
  uint64_t bits;
  if (!br_.ReadBits(sz, &bits)) return false;
  if (sz < 64 && bits > (uint64_t{1} << (sz - 1))) bits -= uint64_t{1} << sz;
  *dod = static_cast<int64_t>(bits);
  return true;
}

ValueType XorIterator::ReadValue() {
  // Control bits: 0 = value unchanged, 10 = XOR in the previous window, 11 = new window.
  bool changed, new_window = false;
  if (br_.buffered() >= 2) {
    const uint64_t control = br_.PeekBuffered(2);
    changed = control >= 2;
    new_window = control == 3;
    br_.SkipBuffered(changed ? 2 : 1);
  } else {
    if (!br_.ReadBit(&changed)) return Fail(Truncated());
    if (changed && !br_.ReadBit(&new_window)) return Fail(Truncated());
  }
  if (changed) {
    if (new_window) {
      uint64_t header;  // 5 bits leading zeros, 6 bits significant bits
      if (!br_.ReadBits(11, &header)) return Fail(Truncated());
      const int leading = static_cast<int>(header >> 6);
      int sig = static_cast<int>(header & 63);
      if (sig == 0) sig = 64;  // 64 does not fit in 6 bits; 0 never occurs otherwise
      if (leading + sig > 64) return Fail(Status::Corruption("xor chunk: bad value window"));
      leading_ = static_cast<uint8_t>(leading);
      trailing_ = static_cast<uint8_t>(64 - leading - sig);
    }
    const int sig = 64 - leading_ - trailing_;
    uint64_t bits;
    if (!br_.ReadBits(sig, &bits)) return Fail(Truncated());
    vbits_ ^= bits << trailing_;
  }
  read_++;
  return ValueType::kFloat;
}

}  // namespace

// Encodes samples at the end of an owned XorChunk. Not thread-safe.
class XorAppender final : public Appender {
 public:
  XorAppender(XorChunk* chunk, const XorIterator& end, size_t bit_pos)
      : chunk_(chunk),
        w_(&chunk->owned_, bit_pos),
        num_(static_cast<uint16_t>(end.total())),
        t_(end.t()),
        vbits_(end.vbits()),
        tdelta_(end.tdelta()),
        // Upstream restores the window from its iterator, which starts at 0/0; only a chunk
        // with no samples starts without a window. Mirrored for identical bytes.
        leading_(end.total() == 0 ? kNoWindow : end.leading()),
        trailing_(end.trailing()) {}

  void Append(int64_t t, double v) override;

 private:
  static void WriteDeltaOfDelta(BitWriter* w, int64_t dod);
  void WriteValue(BitWriter* w, uint64_t vbits);

  XorChunk* chunk_;
  BitWriter w_;   // over chunk_->owned_, positioned at the end of the stream
  uint16_t num_;  // samples in the chunk, mirrored in its header
  int64_t t_;
  uint64_t vbits_;
  uint64_t tdelta_;
  uint8_t leading_;
  uint8_t trailing_;
};

void XorAppender::Append(int64_t t, double v) {
  const uint64_t vbits = DoubleBits(v);
  uint64_t tdelta = 0;
  // A local copy of the writer lets the compiler keep its state in registers: stores into
  // the byte buffer could otherwise alias the member.
  BitWriter w = w_;
  if (num_ == 0) {
    WriteUvarint(&w, (static_cast<uint64_t>(t) << 1) ^ static_cast<uint64_t>(t >> 63));
    w.WriteBits(vbits, 64);
  } else {
    tdelta = static_cast<uint64_t>(t) - static_cast<uint64_t>(t_);
    if (num_ == 1) {
      WriteUvarint(&w, tdelta);
    } else {
      WriteDeltaOfDelta(&w, static_cast<int64_t>(tdelta - tdelta_));
    }
    WriteValue(&w, vbits);
  }
  w_ = w;
  t_ = t;
  vbits_ = vbits;
  tdelta_ = tdelta;
  num_++;
  // The header goes after the bit writer's word stores, which may have covered it.
  std::string& buf = chunk_->owned_;
  buf[0] = static_cast<char>(num_ >> 8);
  buf[1] = static_cast<char>(num_);
  chunk_->view_ = std::string_view(buf.data(), w.byte_size());
}

inline void XorAppender::WriteDeltaOfDelta(BitWriter* w, int64_t dod) {
  const uint64_t u = static_cast<uint64_t>(dod);
  if (dod == 0) {
    w->WriteBit(false);
  } else if (FitsBucket(dod, 14)) {
    w->WriteBits((uint64_t{0b10} << 14) | (u & 0x3fff), 16);
  } else if (FitsBucket(dod, 17)) {
    w->WriteBits((uint64_t{0b110} << 17) | (u & 0x1ffff), 20);
  } else if (FitsBucket(dod, 20)) {
    w->WriteBits((uint64_t{0b1110} << 20) | (u & 0xfffff), 24);
  } else {
    w->WriteBits(0b1111, 4);
    w->WriteBits(u, 64);
  }
}

inline void XorAppender::WriteValue(BitWriter* w, uint64_t vbits) {
  const uint64_t delta = vbits ^ vbits_;
  if (delta == 0) {
    w->WriteBit(false);
    return;
  }
  // Leading zeros are stored in 5 bits, so clamp at 31.
  const int leading = std::min(std::countl_zero(delta), 31);
  const int trailing = std::countr_zero(delta);
  if (leading_ != kNoWindow && leading >= leading_ && trailing >= trailing_) {
    const int sig = 64 - leading_ - trailing_;
    if (sig <= 62) {
      w->WriteBits((uint64_t{0b10} << sig) | (delta >> trailing_), sig + 2);
    } else {
      w->WriteBits(0b10, 2);
      w->WriteBits(delta >> trailing_, sig);
    }
    return;
  }
  leading_ = static_cast<uint8_t>(leading);
  trailing_ = static_cast<uint8_t>(trailing);
  const int sig = 64 - leading - trailing;
  // 64 significant bits are written as 0: it cannot be confused with a real 0, which
  // would have taken the delta == 0 branch.
  const uint64_t header = (uint64_t{0b11} << 11) | (uint64_t(leading) << 6) | uint64_t(sig & 63);
  if (sig <= 51) {
    w->WriteBits((header << sig) | (delta >> trailing), sig + 13);
  } else {
    w->WriteBits(header, 13);
    w->WriteBits(delta >> trailing, sig);
  }
}

XorChunk::XorChunk() : owned_(kInitialCapacity, '\0'), view_(owned_.data(), kHeaderSize) {}

XorChunk::XorChunk(std::string data) : owned_(std::move(data)), view_(owned_) {}

std::unique_ptr<XorChunk> XorChunk::View(std::string_view data,
                                         std::shared_ptr<const void> keepalive) {
  return std::unique_ptr<XorChunk>(new XorChunk(ViewTag{}, data, std::move(keepalive)));
}

int XorChunk::NumSamples() const { return DecodeBE16(view_.data()); }

Result<std::unique_ptr<Appender>> XorChunk::NewAppender() {
  if (is_view_) {
    owned_.assign(view_);
    keepalive_.reset();
    view_ = owned_;
    is_view_ = false;
  }
  XorIterator it(view_, nullptr);
  while (it.Next() != ValueType::kNone) {
  }
  if (!it.err().ok()) return it.err().Wrap("xor chunk appender");
  const size_t bit_pos = kHeaderSize * 8 + it.bits_read();
  if (view_.size() * 8 - bit_pos >= 8) {
    return Status::Corruption("xor chunk appender: trailing bytes after the last sample");
  }
  // The writer ORs bits in, so padding bits must be zero even if the stored ones were not.
  if (bit_pos % 8 != 0) {
    owned_[bit_pos / 8] = static_cast<char>(owned_[bit_pos / 8] & (0xff << (8 - bit_pos % 8)));
  }
  auto app = std::unique_ptr<Appender>(new XorAppender(this, it, bit_pos));
  view_ = std::string_view(owned_.data(), view_.size());  // the writer may have grown owned_
  return app;
}

void XorChunk::Compact() {
  if (is_view_ || owned_.size() == view_.size()) return;
  owned_.resize(view_.size());
  owned_.shrink_to_fit();
  view_ = owned_;
}

std::unique_ptr<Iterator> XorChunk::NewIterator(std::unique_ptr<Iterator> reuse) const {
  if (auto* x = dynamic_cast<XorIterator*>(reuse.get())) {
    x->Reset(view_, is_view_ ? keepalive_ : nullptr);
    return reuse;
  }
  return std::make_unique<XorIterator>(view_, is_view_ ? keepalive_ : nullptr);
}

}  // namespace kiln::chunkenc
