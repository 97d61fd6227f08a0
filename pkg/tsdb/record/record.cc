#include "pkg/tsdb/record/record.h"

#include <string>

#include "pkg/util/coding.h"

namespace kiln::tsdb::record {
namespace {

constexpr std::string_view kUnitField = "UNIT";
constexpr std::string_view kHelpField = "HELP";

void PutType(Type t, std::string* dst) { dst->push_back(static_cast<char>(t)); }

void EncodeLabels(const model::Labels& labels, std::string* dst) {
  PutUvarint(dst, labels.size());
  for (const auto& l : labels) {
    PutUvarintBytes(dst, l.name);
    PutUvarintBytes(dst, l.value);
  }
}

size_t UvarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

// The WAL stores a label set as a count followed by uvarint-prefixed names and values,
// which is exactly model::Labels' own buffer after the count. When the pairs are already
// canonical (names strictly ascending, no empty value, minimal varints), as every writer
// produces them, the bytes are adopted in one copy. Otherwise they are sorted and cleaned
// like upstream's scratch builder does.
model::Labels DecodeLabels(Decoder* dec) {
  const uint64_t n = dec->Uvarint();
  const char* begin = dec->position();
  bool canonical = true;
  size_t canonical_size = 0;
  std::string_view prev;
  for (uint64_t i = 0; i < n && !dec->err(); i++) {
    const std::string_view name = dec->UvarintBytes();
    const std::string_view value = dec->UvarintBytes();
    canonical = canonical && !value.empty() && (i == 0 || prev < name);
    canonical_size +=
        UvarintSize(name.size()) + name.size() + UvarintSize(value.size()) + value.size();
    prev = name;
  }
  if (dec->err()) return {};
  const std::string_view bytes(begin, static_cast<size_t>(dec->position() - begin));
  if (canonical && canonical_size == bytes.size()) {
    return model::Labels::FromEncoded(std::string(bytes));
  }
  Decoder again(bytes);
  std::vector<model::Label> labels;
  for (uint64_t i = 0; i < n; i++) {
    const std::string_view name = again.UvarintBytes();
    const std::string_view value = again.UvarintBytes();
    labels.push_back({std::string(name), std::string(value)});
  }
  return model::Labels::FromVector(std::move(labels));
}

// Checks the type byte; on success `dec` is positioned after it.
Status ExpectType(Decoder* dec, Type want) {
  const uint8_t got = dec->Byte();
  if (dec->err() || got != static_cast<uint8_t>(want)) {
    return Status::Corruption("invalid record type " + std::to_string(got) + ", expected " +
                              std::string(TypeName(want)));
  }
  return Status::OK();
}

// The common epilogue of every decoder: a short read or leftover bytes are corruption.
Status Finish(const Decoder& dec, std::string_view what, size_t decoded) {
  if (dec.err()) {
    return Status::Corruption("decode error after " + std::to_string(decoded) + " " +
                              std::string(what));
  }
  if (dec.remaining() > 0) {
    return Status::Corruption("unexpected " + std::to_string(dec.remaining()) +
                              " bytes left in entry");
  }
  return Status::OK();
}

}  // namespace

Type GetType(std::string_view rec) {
  if (rec.empty()) return Type::kUnknown;
  const auto t = static_cast<uint8_t>(rec[0]);
  if (t >= static_cast<uint8_t>(Type::kSeries) &&
      t <= static_cast<uint8_t>(Type::kCustomBucketsFloatHistogramSamples)) {
    return static_cast<Type>(t);
  }
  return Type::kUnknown;
}

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kSeries:
      return "series";
    case Type::kSamples:
      return "samples";
    case Type::kTombstones:
      return "tombstones";
    case Type::kExemplars:
      return "exemplars";
    case Type::kMmapMarkers:
      return "mmapmarkers";
    case Type::kMetadata:
      return "metadata";
    case Type::kHistogramSamples:
      return "histogram_samples";
    case Type::kFloatHistogramSamples:
      return "float_histogram_samples";
    case Type::kCustomBucketsHistogramSamples:
      return "custom_buckets_histogram_samples";
    case Type::kCustomBucketsFloatHistogramSamples:
      return "custom_buckets_float_histogram_samples";
    case Type::kUnknown:
      break;
  }
  return "unknown";
}

MetricType ToRecordMetricType(model::MetricType t) {
  switch (t) {
    case model::MetricType::kCounter:
      return MetricType::kCounter;
    case model::MetricType::kGauge:
      return MetricType::kGauge;
    case model::MetricType::kHistogram:
      return MetricType::kHistogram;
    case model::MetricType::kGaugeHistogram:
      return MetricType::kGaugeHistogram;
    case model::MetricType::kSummary:
      return MetricType::kSummary;
    case model::MetricType::kInfo:
      return MetricType::kInfo;
    case model::MetricType::kStateset:
      return MetricType::kStateset;
    case model::MetricType::kUnknown:
      break;
  }
  return MetricType::kUnknown;
}

model::MetricType FromRecordMetricType(uint8_t t) {
  switch (static_cast<MetricType>(t)) {
    case MetricType::kCounter:
      return model::MetricType::kCounter;
    case MetricType::kGauge:
      return model::MetricType::kGauge;
    case MetricType::kHistogram:
      return model::MetricType::kHistogram;
    case MetricType::kGaugeHistogram:
      return model::MetricType::kGaugeHistogram;
    case MetricType::kSummary:
      return model::MetricType::kSummary;
    case MetricType::kInfo:
      return model::MetricType::kInfo;
    case MetricType::kStateset:
      return model::MetricType::kStateset;
    case MetricType::kUnknown:
      break;
  }
  return model::MetricType::kUnknown;
}

void EncodeSeries(std::span<const RefSeries> series, std::string* dst) {
  PutType(Type::kSeries, dst);
  for (const auto& s : series) {
    PutBE64(dst, s.ref);
    EncodeLabels(s.labels, dst);
  }
}

// Samples: base ref and base time of the first sample as big-endian 64-bit, then for every
// sample (the first included) zig-zag varint deltas to the bases and the raw float bits.
void EncodeSamples(std::span<const RefSample> samples, std::string* dst) {
  PutType(Type::kSamples, dst);
  if (samples.empty()) return;
  const RefSample& first = samples[0];
  PutBE64(dst, first.ref);
  PutBE64(dst, static_cast<uint64_t>(first.t));
  for (const auto& s : samples) {
    PutVarint(dst, static_cast<int64_t>(s.ref - first.ref));
    PutVarint(dst, static_cast<int64_t>(static_cast<uint64_t>(s.t) - first.t));
    PutBE64(dst, DoubleBits(s.v));
  }
}

void EncodeTombstones(std::span<const RefTombstone> tombstones, std::string* dst) {
  PutType(Type::kTombstones, dst);
  for (const auto& s : tombstones) {
    for (const auto& iv : s.intervals) {
      PutBE64(dst, s.ref);
      PutVarint(dst, iv.mint);
      PutVarint(dst, iv.maxt);
    }
  }
}

void EncodeExemplars(std::span<const RefExemplar> exemplars, std::string* dst) {
  PutType(Type::kExemplars, dst);
  if (exemplars.empty()) return;
  const RefExemplar& first = exemplars[0];
  PutBE64(dst, first.ref);
  PutBE64(dst, static_cast<uint64_t>(first.t));
  for (const auto& e : exemplars) {
    PutVarint(dst, static_cast<int64_t>(e.ref - first.ref));
    PutVarint(dst, static_cast<int64_t>(static_cast<uint64_t>(e.t) - first.t));
    PutBE64(dst, DoubleBits(e.v));
    EncodeLabels(e.labels, dst);
  }
}

// Metadata: uvarint ref, type byte, then a field count and name/value pairs, so readers can
// skip fields they do not know. Upstream always writes UNIT then HELP.
void EncodeMetadata(std::span<const RefMetadata> metadata, std::string* dst) {
  PutType(Type::kMetadata, dst);
  for (const auto& m : metadata) {
    PutUvarint(dst, m.ref);
    dst->push_back(static_cast<char>(m.type));
    PutUvarint(dst, 2);
    PutUvarintBytes(dst, kUnitField);
    PutUvarintBytes(dst, m.unit);
    PutUvarintBytes(dst, kHelpField);
    PutUvarintBytes(dst, m.help);
  }
}

void EncodeMmapMarkers(std::span<const RefMmapMarker> markers, std::string* dst) {
  PutType(Type::kMmapMarkers, dst);
  for (const auto& m : markers) {
    PutBE64(dst, m.ref);
    PutBE64(dst, m.mmap_ref);
  }
}

Status DecodeSeries(std::string_view rec, std::vector<RefSeries>* out) {
  Decoder dec(rec);
  KILN_RETURN_IF_ERROR(ExpectType(&dec, Type::kSeries));
  size_t n = 0;
  while (dec.remaining() > 0 && !dec.err()) {
    RefSeries s;
    s.ref = dec.BE64();
    s.labels = DecodeLabels(&dec);
    if (dec.err()) break;
    out->push_back(std::move(s));
    n++;
  }
  return Finish(dec, "series", n);
}

Status DecodeSamples(std::string_view rec, std::vector<RefSample>* out) {
  Decoder dec(rec);
  KILN_RETURN_IF_ERROR(ExpectType(&dec, Type::kSamples));
  if (dec.remaining() == 0) return Status::OK();
  const uint64_t base_ref = dec.BE64();
  const uint64_t base_time = dec.BE64();
  out->reserve(out->size() + dec.remaining() / 10);
  size_t n = 0;
  while (dec.remaining() > 0 && !dec.err()) {
    const int64_t dref = dec.Varint();
    const int64_t dtime = dec.Varint();
    const uint64_t bits = dec.BE64();
    if (dec.err()) break;
    out->push_back({base_ref + static_cast<uint64_t>(dref),
                    static_cast<int64_t>(base_time + static_cast<uint64_t>(dtime)),
                    DoubleFromBits(bits)});
    n++;
  }
  return Finish(dec, "samples", n);
}

Status DecodeTombstones(std::string_view rec, std::vector<RefTombstone>* out) {
  Decoder dec(rec);
  KILN_RETURN_IF_ERROR(ExpectType(&dec, Type::kTombstones));
  size_t n = 0;
  while (dec.remaining() > 0 && !dec.err()) {
    const uint64_t ref = dec.BE64();
    const int64_t mint = dec.Varint();
    const int64_t maxt = dec.Varint();
    if (dec.err()) break;
    out->push_back({ref, {{mint, maxt}}});
    n++;
  }
  return Finish(dec, "tombstones", n);
}

Status DecodeExemplars(std::string_view rec, std::vector<RefExemplar>* out) {
  Decoder dec(rec);
  KILN_RETURN_IF_ERROR(ExpectType(&dec, Type::kExemplars));
  if (dec.remaining() == 0) return Status::OK();
  const uint64_t base_ref = dec.BE64();
  const uint64_t base_time = dec.BE64();
  size_t n = 0;
  while (dec.remaining() > 0 && !dec.err()) {
    RefExemplar e;
    e.ref = base_ref + static_cast<uint64_t>(dec.Varint());
    e.t = static_cast<int64_t>(base_time + static_cast<uint64_t>(dec.Varint()));
    e.v = DoubleFromBits(dec.BE64());
    e.labels = DecodeLabels(&dec);
    if (dec.err()) break;
    out->push_back(std::move(e));
    n++;
  }
  return Finish(dec, "exemplars", n);
}

Status DecodeMetadata(std::string_view rec, std::vector<RefMetadata>* out) {
  Decoder dec(rec);
  KILN_RETURN_IF_ERROR(ExpectType(&dec, Type::kMetadata));
  size_t n = 0;
  while (dec.remaining() > 0 && !dec.err()) {
    RefMetadata m;
    m.ref = dec.Uvarint();
    m.type = dec.Byte();
    const uint64_t fields = dec.Uvarint();
    for (uint64_t i = 0; i < fields && !dec.err(); i++) {
      const std::string_view name = dec.UvarintBytes();
      const std::string_view value = dec.UvarintBytes();
      if (name == kUnitField) m.unit = value;
      if (name == kHelpField) m.help = value;
    }
    if (dec.err()) break;
    out->push_back(std::move(m));
    n++;
  }
  return Finish(dec, "metadata", n);
}

Status DecodeMmapMarkers(std::string_view rec, std::vector<RefMmapMarker>* out) {
  Decoder dec(rec);
  KILN_RETURN_IF_ERROR(ExpectType(&dec, Type::kMmapMarkers));
  size_t n = 0;
  while (dec.remaining() > 0 && !dec.err()) {
    const uint64_t ref = dec.BE64();
    const uint64_t mmap_ref = dec.BE64();
    if (dec.err()) break;
    out->push_back({ref, mmap_ref});
    n++;
  }
  return Finish(dec, "mmap markers", n);
}

}  // namespace kiln::tsdb::record
