// Histogram sample records (types 7-10), laid out as upstream's EncodeHistogram and
// EncodeFloatHistogram: base ref and time as big-endian 64-bit, then per sample zig-zag
// deltas and the histogram. Integer and float histograms differ only in how counts and
// buckets are stored (varints vs raw float bits), so one template serves both.
#include "pkg/tsdb/record/record.h"
#include "pkg/util/coding.h"

namespace kiln::tsdb::record {
namespace {

void PutCount(std::string* dst, uint64_t v) { PutUvarint(dst, v); }
void PutCount(std::string* dst, double v) { PutBE64(dst, DoubleBits(v)); }
void PutBucket(std::string* dst, int64_t v) { PutVarint(dst, v); }
void PutBucket(std::string* dst, double v) { PutBE64(dst, DoubleBits(v)); }
void GetCount(Decoder* d, uint64_t* v) { *v = d->Uvarint(); }
void GetCount(Decoder* d, double* v) { *v = d->BE64Float(); }
void GetBucket(Decoder* d, int64_t* v) { *v = d->Varint(); }
void GetBucket(Decoder* d, double* v) { *v = d->BE64Float(); }

void PutSpans(std::string* dst, const std::vector<HistogramSpan>& spans) {
  PutUvarint(dst, spans.size());
  for (const auto& s : spans) {
    PutVarint(dst, s.offset);
    PutUvarint(dst, s.length);
  }
}

// Reads a length prefix, refusing lengths the remaining bytes cannot hold (each element
// takes at least one byte), so garbage cannot trigger a huge allocation.
bool GetLength(Decoder* d, size_t* n) {
  const uint64_t v = d->Uvarint();
  if (d->err() || v > d->remaining()) return false;
  *n = static_cast<size_t>(v);
  return true;
}

bool GetSpans(Decoder* d, std::vector<HistogramSpan>* spans) {
  size_t n;
  if (!GetLength(d, &n)) return false;
  spans->resize(n);
  for (auto& s : *spans) {
    s.offset = static_cast<int32_t>(d->Varint());
    s.length = static_cast<uint32_t>(d->Uvarint());
  }
  return !d->err();
}

template <typename T>
bool GetBuckets(Decoder* d, std::vector<T>* buckets) {
  size_t n;
  if (!GetLength(d, &n)) return false;
  buckets->resize(n);
  for (auto& b : *buckets) GetBucket(d, &b);
  return !d->err();
}

template <typename H>
void PutHistogram(std::string* dst, const H& h) {
  dst->push_back(static_cast<char>(h.counter_reset_hint));
  PutVarint(dst, h.schema);
  PutBE64(dst, DoubleBits(h.zero_threshold));
  PutCount(dst, h.zero_count);
  PutCount(dst, h.count);
  PutBE64(dst, DoubleBits(h.sum));
  PutSpans(dst, h.positive_spans);
  PutSpans(dst, h.negative_spans);
  PutUvarint(dst, h.positive_buckets.size());
  for (auto b : h.positive_buckets) PutBucket(dst, b);
  PutUvarint(dst, h.negative_buckets.size());
  for (auto b : h.negative_buckets) PutBucket(dst, b);
  if (h.schema == kCustomBucketsSchema) {
    PutUvarint(dst, h.custom_values.size());
    for (double v : h.custom_values) PutBE64(dst, DoubleBits(v));
  }
}

template <typename H>
bool GetHistogram(Decoder* d, H* h) {
  h->counter_reset_hint = d->Byte();
  h->schema = static_cast<int32_t>(d->Varint());
  h->zero_threshold = d->BE64Float();
  GetCount(d, &h->zero_count);
  GetCount(d, &h->count);
  h->sum = d->BE64Float();
  if (!GetSpans(d, &h->positive_spans) || !GetSpans(d, &h->negative_spans) ||
      !GetBuckets(d, &h->positive_buckets) || !GetBuckets(d, &h->negative_buckets)) {
    return false;
  }
  if (h->schema == kCustomBucketsSchema && !GetBuckets(d, &h->custom_values)) return false;
  return !d->err();
}

const auto& Get(const RefHistogramSample& s) { return s.h; }
const auto& Get(const RefFloatHistogramSample& s) { return s.fh; }
auto* Get(RefHistogramSample* s) { return &s->h; }
auto* Get(RefFloatHistogramSample* s) { return &s->fh; }

template <typename S>
void EncodeAll(std::span<const S> samples, Type type, std::string* dst) {
  dst->push_back(static_cast<char>(type));
  if (samples.empty()) return;
  const S& first = samples[0];
  PutBE64(dst, first.ref);
  PutBE64(dst, static_cast<uint64_t>(first.t));
  for (const auto& s : samples) {
    PutVarint(dst, static_cast<int64_t>(s.ref - first.ref));
    PutVarint(dst, static_cast<int64_t>(static_cast<uint64_t>(s.t) - first.t));
    PutHistogram(dst, Get(s));
  }
}

template <typename S>
Status DecodeAll(std::string_view rec, Type a, Type b, std::vector<S>* out) {
  Decoder dec(rec);
  const uint8_t type = dec.Byte();
  if (dec.err() || (type != static_cast<uint8_t>(a) && type != static_cast<uint8_t>(b))) {
    return Status::Corruption("invalid record type " + std::to_string(type) + ", expected " +
                              std::string(TypeName(a)));
  }
  if (dec.remaining() == 0) return Status::OK();
  const uint64_t base_ref = dec.BE64();
  const uint64_t base_time = dec.BE64();
  size_t n = 0;
  while (dec.remaining() > 0 && !dec.err()) {
    S s;
    s.ref = base_ref + static_cast<uint64_t>(dec.Varint());
    s.t = static_cast<int64_t>(base_time + static_cast<uint64_t>(dec.Varint()));
    if (!GetHistogram(&dec, Get(&s))) {
      return Status::Corruption("decode error after " + std::to_string(n) + " histograms");
    }
    out->push_back(std::move(s));
    n++;
  }
  if (dec.err()) {
    return Status::Corruption("decode error after " + std::to_string(n) + " histograms");
  }
  return Status::OK();
}

}  // namespace

void EncodeHistogramSamples(std::span<const RefHistogramSample> histograms, Type type,
                            std::string* dst) {
  EncodeAll(histograms, type, dst);
}

void EncodeFloatHistogramSamples(std::span<const RefFloatHistogramSample> histograms, Type type,
                                 std::string* dst) {
  EncodeAll(histograms, type, dst);
}

Status DecodeHistogramSamples(std::string_view rec, std::vector<RefHistogramSample>* out) {
  return DecodeAll(rec, Type::kHistogramSamples, Type::kCustomBucketsHistogramSamples, out);
}

Status DecodeFloatHistogramSamples(std::string_view rec,
                                   std::vector<RefFloatHistogramSample>* out) {
  return DecodeAll(rec, Type::kFloatHistogramSamples, Type::kCustomBucketsFloatHistogramSamples,
                   out);
}

}  // namespace kiln::tsdb::record
