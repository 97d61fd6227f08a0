#include "pkg/tsdb/chunkenc/xor.h"

#include <bit>
#include <cstring>

#include "pkg/tsdb/chunkenc/bstream.h"
#include "pkg/util/coding.h"

namespace kiln::chunkenc {

namespace {

constexpr size_t kHeaderSize = 2;  // big-endian uint16 sample count
constexpr int kMaxVarintBytes = 10;
constexpr size_t kInitialCapacity = 128;  // as upstream; a 120-sample chunk is often smaller
// Upstream cuts head chunks at 120 samples; the appender sizes its buffer for that many.
constexpr int kTargetSamples = 120;
// The most a sample after the second takes: a 68-bit timestamp and a 77-bit value field.
constexpr size_t kMaxSampleBytes = (68 + 77 + 7) / 8;

// One 2-byte store (util/coding.h has no EncodeBE16).
void StoreBE16(char* p, uint16_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap16(v);
  std::memcpy(p, &v, sizeof v);
}

Status Truncated() { return Status::Corruption("xor chunk: unexpected end of data"); }

// Delta-of-delta buckets, numbered by how many of the tests dod != 0 and "does not fit 14,
// 17, 20 bits" hold (each bucket's range contains the smaller ones'): the prefix 0, 10,
// 110, 1110 or 1111 and the payload width after it.
struct DodBucket {
  uint64_t prefix;
  int prefix_bits;
  int payload_bits;
};
constexpr DodBucket kDodBuckets[] = {
    {0b0, 1, 0}, {0b10, 2, 14}, {0b110, 3, 17}, {0b1110, 4, 20}, {0b1111, 4, 64}};

// Whether `dod` fits the signed `nbits` bucket as upstream defines it: the range is
// [-(2^(n-1) - 1), 2^(n-1)], one more on the positive side than two's complement. Computed
// on the unsigned image so that it is one add and one compare.
constexpr bool FitsBucket(uint64_t dod, int nbits) {
  const uint64_t half = uint64_t{1} << (nbits - 1);
  return dod + (half - 1) < 2 * half;
}

// The decoder's view of the same buckets, indexed by the next 4 bits of the stream: the
// bits to consume (prefix and payload), the payload mask, and the payload value above
// which it stands for a negative number (bits - 2^payload_bits).
struct DodCode {
  int total_bits;
  int payload_bits;
  uint64_t mask;
  uint64_t max_positive;
};
constexpr DodCode MakeDodCode(unsigned top4) {
  int ones = 0;
  while (ones < 4 && (top4 & (8u >> ones)) != 0) ones++;
  const DodBucket& b = kDodBuckets[ones];
  if (b.payload_bits == 0 || b.payload_bits == 64) return {b.prefix_bits, b.payload_bits, 0, 0};
  return {b.prefix_bits + b.payload_bits, b.payload_bits, bits_internal::LowMask(b.payload_bits),
          uint64_t{1} << (b.payload_bits - 1)};
}
constexpr DodCode kDodCodes[16] = {
    MakeDodCode(0),  MakeDodCode(1),  MakeDodCode(2),  MakeDodCode(3),
    MakeDodCode(4),  MakeDodCode(5),  MakeDodCode(6),  MakeDodCode(7),
    MakeDodCode(8),  MakeDodCode(9),  MakeDodCode(10), MakeDodCode(11),
    MakeDodCode(12), MakeDodCode(13), MakeDodCode(14), MakeDodCode(15)};

// Reads a uvarint (at most 10 bytes) at the read position from one 128-bit peek.
bool ReadUvarint(BitReader* br, uint64_t* out) {
  if (br->overrun()) return false;
  uint64_t hi, lo;
  br->Peek128(&hi, &lo);
  uint64_t v = 0;
  for (int i = 0; i < kMaxVarintBytes; i++) {
    const auto b = static_cast<uint8_t>(i < 8 ? hi >> (56 - 8 * i) : lo >> (56 - 8 * (i - 8)));
    v |= uint64_t{b & 0x7fu} << (7 * i);
    if (b < 0x80) {
      br->Skip(static_cast<size_t>(8 * (i + 1)));
      *out = v;
      return !br->overrun();
    }
  }
  return false;
}

// Writes a uvarint with one write: its at most 10 bytes fit 128 bits.
void WriteUvarint(BitWriter* w, uint64_t v) {
  uint128 bits = 0;
  int n = 0;
  for (; v >= 0x80; v >>= 7, n += 8) bits = (bits << 8) | ((v & 0x7f) | 0x80);
  w->WriteWide((bits << 8) | v, n + 8);
}

// What an appender needs to continue a chunk: its sample count, the last sample, the
// last timestamp delta and the value window.
struct XorResumeState {
  int total = 0;
  int64_t t = 0;
  uint64_t vbits = 0;
  uint64_t tdelta = 0;
  int leading = 0;
  int trailing = 0;
};

// Decodes a value field that starts `offset` (<= 24) bits into the 128 bits hi:lo (hi:lo
// holding at least 121), updating the value window (sig, trailing) and *vbits. Returns the
// bits the field took, or -1 if it declares an impossible window.
//
// Field: 0 = unchanged, 10 = XOR in the previous window, 11 = new window (5 bits of
// leading zeros, 6 of significant bits, 0 meaning 64). Selecting the case with masks
// rather than branches measured slower, even on noisy gauges whose windows change often:
// it puts the header decode on the sample-to-sample dependency chain.
[[gnu::always_inline]] inline int DecodeValueField(uint64_t hi, uint64_t lo, int offset, int* sig,
                                                   int* trailing, uint64_t* vbits) {
  const uint64_t field = hi << offset;
  if ((field >> 63) == 0) return offset + 1;
  int start = offset + 2;
  if (((field >> 62) & 1) != 0) {
    const auto header = static_cast<int>((field >> 51) & 0x7ff);
    const int leading = header >> 6;
    *sig = ((header - 1) & 63) + 1;
    if (leading + *sig > 64) [[unlikely]] {
      return -1;
    }
    *trailing = 64 - leading - *sig;
    start = offset + 13;
  }
  // start <= 24 + 13, so the <= 64 value bits lie within hi:lo.
  const uint64_t rest = (hi << start) | ((lo >> 1) >> (63 - start));
  *vbits ^= (rest >> (64 - *sig)) << *trailing;
  return start + *sig;
}

// Decodes the bit stream of an XOR chunk, a batch of samples at a time: the decoding loop
// keeps its state in registers from sample to sample, and Next and At only step through
// the decoded batch. Not thread-safe.
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
    decoded_ = 0;
    t_ = 0;
    vbits_ = 0;
    tdelta_ = 0;
    leading_ = 0;
    trailing_ = 0;
    idx_ = 0;
    n_ = 0;
    pending_ = Status::OK();
    err_ = Status::OK();
  }

  ValueType Next() override {
    if (++idx_ < n_) [[likely]] {
      return ValueType::kFloat;
    }
    return NextBatch();
  }
  ValueType Seek(int64_t t) override;
  std::pair<int64_t, double> At() const override { return {ts_[idx_], DoubleFromBits(vs_[idx_])}; }
  int64_t AtT() const override { return ts_[idx_]; }
  Status err() const override { return err_; }

  // The state an appender resumes from, once every sample has been read.
  XorResumeState resume_state() const { return {total_, t_, vbits_, tdelta_, leading_, trailing_}; }
  size_t bits_read() const { return br_.bits_read(); }

 private:
  // Enough to amortise a batch's setup, small enough to stay in L1 and to waste little
  // when a query needs a few samples only.
  static constexpr int kBatch = 16;

  [[gnu::noinline]] ValueType NextBatch();
  // Decodes up to kBatch samples into ts_/vs_ and returns how many. At an error it stops
  // and leaves the error in pending_, to report once the good samples are consumed.
  int DecodeBatch();
  bool DecodeFirst();
  bool DecodeSecond();
  void SetPending(Status s) { pending_ = std::move(s); }

  std::shared_ptr<const void> keepalive_;  // keeps borrowed chunk bytes alive, may be null
  BitReader br_;
  int total_ = 0;    // samples the header announces
  int decoded_ = 0;  // samples decoded so far
  // Decoder state after the last decoded sample.
  int64_t t_ = 0;
  uint64_t vbits_ = 0;
  uint64_t tdelta_ = 0;  // unsigned so that wrap-around is defined, as in upstream
  int leading_ = 0;
  int trailing_ = 0;
  // The current batch; the current sample is index idx_ if idx_ < n_.
  int idx_ = 0;
  int n_ = 0;
  int64_t ts_[kBatch] = {};
  uint64_t vs_[kBatch] = {};
  Status pending_;  // an error met while decoding, reported after the samples before it
  Status err_;
};

ValueType XorIterator::NextBatch() {
  idx_ = 0;
  n_ = decoded_ < total_ && pending_.ok() ? DecodeBatch() : 0;
  if (n_ > 0) return ValueType::kFloat;
  if (!pending_.ok()) err_ = pending_;
  return ValueType::kNone;
}

ValueType XorIterator::Seek(int64_t t) {
  if (!err_.ok()) return ValueType::kNone;
  while (idx_ >= n_ || ts_[idx_] < t) {
    if (Next() == ValueType::kNone) return ValueType::kNone;
  }
  return ValueType::kFloat;
}

bool XorIterator::DecodeFirst() {
  uint64_t zigzag;
  if (!ReadUvarint(&br_, &zigzag) || !br_.ReadBits(64, &vbits_)) {
    SetPending(Truncated());
    return false;
  }
  t_ = static_cast<int64_t>(zigzag >> 1) ^ -static_cast<int64_t>(zigzag & 1);
  decoded_++;
  return true;
}

bool XorIterator::DecodeSecond() {
  if (!ReadUvarint(&br_, &tdelta_)) {
    SetPending(Truncated());
    return false;
  }
  t_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + tdelta_);
  uint64_t hi, lo;
  br_.Peek128(&hi, &lo);
  int sig = 64 - leading_ - trailing_;
  const int bits = DecodeValueField(hi, lo, 0, &sig, &trailing_, &vbits_);
  leading_ = 64 - sig - trailing_;
  if (bits < 0) {
    SetPending(Status::Corruption("xor chunk: bad value window"));
    return false;
  }
  br_.Skip(static_cast<size_t>(bits));
  if (br_.overrun()) {
    SetPending(Truncated());
    return false;
  }
  decoded_++;
  return true;
}

int XorIterator::DecodeBatch() {
  int n = 0;
  // The first two samples start with varints: the slow path, one at a time.
  while (decoded_ < 2 && decoded_ < total_ && n < kBatch) {
    if (!(decoded_ == 0 ? DecodeFirst() : DecodeSecond())) return n;
    ts_[n] = t_;
    vs_[n] = vbits_;
    n++;
  }
  const int end = n + std::min(kBatch - n, total_ - decoded_);
  const int start_n = n;
  size_t pos = br_.pos();
  const size_t limit = br_.limit();
  int64_t t = t_;
  uint64_t tdelta = tdelta_;
  uint64_t vbits = vbits_;
  int trailing = trailing_;
  int sig = 64 - leading_ - trailing;
  for (; n < end; n++) {
    // A sample takes at most 24 + 13 + 64 bits unless its timestamp needs the 64-bit
    // bucket: one 128-bit peek holds it. Prefix 0, 10, 110, 1110 or 1111 selects a bucket
    // of 0, 14, 17, 20 or 64 bits.
    uint64_t hi, lo;
    br_.PeekAt(pos, &hi, &lo);
    uint64_t dod;
    int offset;
    if ((hi >> 63) == 0) {
      // The bucket branches are predictable (scrapes keep one bucket for long runs), and a
      // predicted branch keeps the table lookup off the sample-to-sample dependency chain.
      dod = 0;
      offset = 1;
    } else if ((hi >> 62) == 2) {
      // Payloads above 2^13 stand for bits - 2^14 (see FitsBucket); adding 2^13 - 1 carries
      // into bit 14 exactly for those.
      const uint64_t bits = (hi >> 48) & 0x3fff;
      dod = bits - ((bits + 0x1fff) & 0x4000);
      offset = 16;
    } else {
      const DodCode& code = kDodCodes[hi >> 60];
      if (code.payload_bits != 64) {
        const uint64_t bits = (hi >> (64 - code.total_bits)) & code.mask;
        dod = bits - ((code.mask + 1) & -static_cast<uint64_t>(bits > code.max_positive));
        offset = code.total_bits;
      } else {
        dod = (hi << 4) | (lo >> 60);
        pos += 68;
        if (pos > limit) {
          SetPending(Truncated());
          break;
        }
        br_.PeekAt(pos, &hi, &lo);
        offset = 0;
      }
    }
    tdelta += dod;
    t = static_cast<int64_t>(static_cast<uint64_t>(t) + tdelta);
    const int bits = DecodeValueField(hi, lo, offset, &sig, &trailing, &vbits);
    if (bits < 0) [[unlikely]] {
      SetPending(Status::Corruption("xor chunk: bad value window"));
      break;
    }
    pos += static_cast<size_t>(bits);
    // Past the end the reader yields zeros; a sample that needed them is not in the chunk.
    if (pos > limit) [[unlikely]] {
      SetPending(Truncated());
      break;
    }
    ts_[n] = t;
    vs_[n] = vbits;
  }
  br_.set_pos(pos);
  t_ = t;
  tdelta_ = tdelta;
  vbits_ = vbits;
  leading_ = 64 - sig - trailing;
  trailing_ = trailing;
  decoded_ += n - start_n;
  return n;
}

}  // namespace

// Encodes samples at the end of an owned XorChunk. Not thread-safe.
class XorAppender final : public Appender {
 public:
  XorAppender(XorChunk* chunk, const XorResumeState& end, size_t bit_pos)
      : chunk_(chunk),
        w_(&chunk->owned_, bit_pos),
        num_(end.total),
        t_(end.t),
        vbits_(end.vbits),
        tdelta_(end.tdelta) {
    // Upstream restores the window from its iterator, which starts at 0/0; only a chunk
    // with no samples starts without a window. Mirrored for identical bytes.
    if (end.total > 0) SetWindow(end.leading, end.trailing);
  }

  void Append(int64_t t, double v) override;

 private:
  // A value's encoding: control bits and window header, then the significant XOR bits.
  struct ValueField {
    uint64_t head;
    int head_bits;
    uint64_t payload;
    int payload_bits;
  };

  [[gnu::noinline]] void AppendSlow(int64_t t, uint64_t vbits);
  ValueField EncodeValue(uint64_t vbits);
  ValueField NewWindow(uint64_t delta);
  void SetWindow(int leading, int trailing);
  size_t NextCapacity() const;
  void Publish(int64_t t, uint64_t vbits, uint64_t tdelta, char* buf, size_t size);

  XorChunk* chunk_;
  BitWriter w_;  // over chunk_->owned_, positioned at the end of the stream
  int num_;      // samples in the chunk, mirrored in its header
  int64_t t_;
  uint64_t vbits_;
  uint64_t tdelta_;
  // The value window: a XOR with no bits in outside_ is stored as its sig_ bits above
  // trailing_ zeros. No window yet: everything is outside.
  uint64_t outside_ = ~uint64_t{0};
  int trailing_ = 0;
  int sig_ = 0;
};

void XorAppender::Append(int64_t t, double v) {
  const uint64_t vbits = DoubleBits(v);
  const uint64_t tdelta = static_cast<uint64_t>(t) - static_cast<uint64_t>(t_);
  const uint64_t dod = tdelta - tdelta_;
  // The fast path: a third or later sample whose delta of delta fits the 14-bit bucket
  // (any regular or jittered scrape) and a buffer with room for it.
  if (num_ < 2 || !FitsBucket(dod, 14) || !w_.HasRoom()) [[unlikely]] {
    AppendSlow(t, vbits);
    return;
  }
  const bool dod_zero = dod == 0;
  const uint64_t ts_field = dod_zero ? 0 : (uint64_t{0b10} << 14) | (dod & 0x3fff);
  const int ts_bits = dod_zero ? 1 : 16;
  const ValueField f = EncodeValue(vbits);
  const uint64_t head = (ts_field << f.head_bits) | f.head;
  const int head_bits = ts_bits + f.head_bits;  // <= 29
  {
    BitWriter::Run run(&w_);
    if (head_bits + f.payload_bits <= BitWriter::kMaxFastBits) {
      run.Put((head << f.payload_bits) | f.payload, head_bits + f.payload_bits);
    } else {
      run.Put(head, head_bits);
      run.Put64(f.payload, f.payload_bits);
    }
    Publish(t, vbits, tdelta, run.data(), run.byte_size());
  }
}

void XorAppender::AppendSlow(int64_t t, uint64_t vbits) {
  if (!w_.HasRoom()) w_.Grow(NextCapacity());
  if (num_ == 0) {
    WriteUvarint(&w_, (static_cast<uint64_t>(t) << 1) ^ static_cast<uint64_t>(t >> 63));
    w_.WriteBits(vbits, 64);
    Publish(t, vbits, 0, w_.data(), w_.byte_size());
    return;
  }
  const uint64_t tdelta = static_cast<uint64_t>(t) - static_cast<uint64_t>(t_);
  if (num_ == 1) {
    WriteUvarint(&w_, tdelta);
  } else {
    // Delta of delta in the smallest bucket that holds it.
    const uint64_t dod = tdelta - tdelta_;
    const int bucket = static_cast<int>(dod != 0) + static_cast<int>(!FitsBucket(dod, 14)) +
                       static_cast<int>(!FitsBucket(dod, 17)) +
                       static_cast<int>(!FitsBucket(dod, 20));
    const DodBucket& b = kDodBuckets[bucket];
    w_.WriteBits(b.prefix, b.prefix_bits);
    w_.WriteBits(dod, b.payload_bits);
  }
  const ValueField f = EncodeValue(vbits);
  w_.WriteBits(f.head, f.head_bits);
  w_.WriteBits(f.payload, f.payload_bits);
  Publish(t, vbits, tdelta, w_.data(), w_.byte_size());
}

inline XorAppender::ValueField XorAppender::EncodeValue(uint64_t vbits) {
  const uint64_t delta = vbits ^ vbits_;
  if (delta == 0) return {0b0, 1, 0, 0};
  if ((delta & outside_) == 0) return {0b10, 2, delta >> trailing_, sig_};
  return NewWindow(delta);
}

inline XorAppender::ValueField XorAppender::NewWindow(uint64_t delta) {
  const int leading = std::min(std::countl_zero(delta), 31);  // stored in 5 bits
  const int trailing = std::countr_zero(delta);
  SetWindow(leading, trailing);
  // 64 significant bits are written as 0: it cannot be confused with a real 0, which
  // would have taken the unchanged case.
  const uint64_t header = (uint64_t{0b11} << 11) | (static_cast<uint64_t>(leading) << 6) |
                          static_cast<uint64_t>(sig_ & 63);
  return {header, 13, delta >> trailing, sig_};
}

// REQUIRES: leading + trailing < 64.
inline void XorAppender::SetWindow(int leading, int trailing) {
  trailing_ = trailing;
  sig_ = 64 - leading - trailing;
  outside_ = ~((~uint64_t{0} >> (64 - sig_)) << trailing);
}

// Commits a sample: the appender's state, the header count and the chunk's view.
// `buf` and `size` are the writer's buffer and byte_size(), passed in so that the fast
// path can take them from its registers.
inline void XorAppender::Publish(int64_t t, uint64_t vbits, uint64_t tdelta, char* buf,
                                 size_t size) {
  t_ = t;
  vbits_ = vbits;
  tdelta_ = tdelta;
  num_++;
  // The bit stream starts after the header, so the writer never stores over it.
  StoreBE16(buf, static_cast<uint16_t>(num_));
  chunk_->view_ = std::string_view(buf, size);
}

// The buffer size to grow to. Doubling from 128 bytes takes up to three reallocations
// (and copies) to reach a 120-sample chunk of noisy gauges; projecting the bytes per
// sample so far onto the 120 samples upstream cuts at usually takes one, and keeps head
// chunks close to their final size.
size_t XorAppender::NextCapacity() const {
  const size_t cap = w_.capacity();
  if (num_ < 2 || num_ >= kTargetSamples) return 2 * cap;
  const size_t projected =
      w_.byte_size() * static_cast<size_t>(kTargetSamples) / static_cast<size_t>(num_);
  return std::max(projected + projected / 8 + 2 * kMaxSampleBytes, cap + cap / 4);
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
  std::unique_ptr<Appender> app;
  if (view_.size() == kHeaderSize && NumSamples() == 0) {
    // A new chunk (the common case, once per 120 samples): nothing to decode.
    app.reset(new XorAppender(this, XorResumeState{}, kHeaderSize * 8));
  } else {
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
    app.reset(new XorAppender(this, it.resume_state(), bit_pos));
  }
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
