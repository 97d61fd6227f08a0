// WAL record payloads in Prometheus's exact byte format (tsdb/record/record.go upstream,
// documented in tsdb/docs/format/wal.md): the first byte is the record Type, the rest a
// type-specific encoding. Kiln's WAL and checkpoints are readable by Prometheus and vice versa.
//
// Encoders append to a caller-owned buffer so a batch of records can share one allocation.
// Decoders append to the output vector and return kCorruption on malformed input (the output
// vector is then left in an unspecified but valid state). All functions are thread-safe
// (stateless).
//
// API stability: the head codes against this header; changes are additive only.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/model/metadata.h"
#include "pkg/util/status.h"

namespace kiln::tsdb::record {

// Record types, numbered as upstream (the V2 sample types of Prometheus 3.x are not
// supported and read as kUnknown).
enum class Type : uint8_t {
  kSeries = 1,
  kSamples = 2,
  kTombstones = 3,
  kExemplars = 4,
  kMmapMarkers = 5,
  kMetadata = 6,
  kHistogramSamples = 7,
  kFloatHistogramSamples = 8,
  kCustomBucketsHistogramSamples = 9,
  kCustomBucketsFloatHistogramSamples = 10,
  kUnknown = 255,
};

// The record's type from its first byte; kUnknown for an empty record or an unknown byte.
Type GetType(std::string_view rec);
// Upstream's lowercase names ("series", "samples", "tombstones", …, "unknown").
std::string_view TypeName(Type t);

// A head series id (upstream chunks.HeadSeriesRef).
using HeadSeriesRef = uint64_t;
// A reference into the head's memory-mapped chunk files (upstream chunks.ChunkDiskMapperRef).
using ChunkDiskMapperRef = uint64_t;

struct RefSeries {
  HeadSeriesRef ref = 0;
  model::Labels labels;
  friend bool operator==(const RefSeries&, const RefSeries&) = default;
};

struct RefSample {
  HeadSeriesRef ref = 0;
  int64_t t = 0;
  double v = 0;
};

// A deleted time range, both ends inclusive (upstream tombstones.Interval).
struct Interval {
  int64_t mint = 0;
  int64_t maxt = 0;
  friend bool operator==(const Interval&, const Interval&) = default;
};

// Upstream encodes one (ref, mint, maxt) triple per interval and decodes each triple as its
// own RefTombstone with a single interval.
struct RefTombstone {
  HeadSeriesRef ref = 0;
  std::vector<Interval> intervals;
  friend bool operator==(const RefTombstone&, const RefTombstone&) = default;
};

struct RefExemplar {
  HeadSeriesRef ref = 0;
  int64_t t = 0;
  double v = 0;
  model::Labels labels;
};

// Metric type numbering used inside Metadata records (upstream record.MetricType).
enum class MetricType : uint8_t {
  kUnknown = 0,
  kCounter = 1,
  kGauge = 2,
  kHistogram = 3,
  kGaugeHistogram = 4,
  kSummary = 5,
  kInfo = 6,
  kStateset = 7,
};
MetricType ToRecordMetricType(model::MetricType t);
// Unknown numbers map to model::MetricType::kUnknown.
model::MetricType FromRecordMetricType(uint8_t t);

struct RefMetadata {
  HeadSeriesRef ref = 0;
  uint8_t type = 0;  // a MetricType value; kept raw so unknown future types round-trip
  std::string unit;
  std::string help;
  friend bool operator==(const RefMetadata&, const RefMetadata&) = default;
};

// Marks that all samples of `ref` up to now are in the m-mapped chunk `mmap_ref` (OOO WBL).
struct RefMmapMarker {
  HeadSeriesRef ref = 0;
  ChunkDiskMapperRef mmap_ref = 0;
  friend bool operator==(const RefMmapMarker&, const RefMmapMarker&) = default;
};

// Native histograms as the WAL stores them (upstream model/histogram): sparse buckets
// described by spans; integer histograms hold bucket counts delta-encoded, float histograms
// absolute counts. Custom-bucket histograms (schema kCustomBucketsSchema) also carry their
// bucket bounds in custom_values.
inline constexpr int32_t kCustomBucketsSchema = -53;

struct HistogramSpan {
  int32_t offset = 0;
  uint32_t length = 0;
  friend bool operator==(const HistogramSpan&, const HistogramSpan&) = default;
};

struct Histogram {
  uint8_t counter_reset_hint = 0;
  int32_t schema = 0;
  double zero_threshold = 0;
  uint64_t zero_count = 0;
  uint64_t count = 0;
  double sum = 0;
  std::vector<HistogramSpan> positive_spans;
  std::vector<HistogramSpan> negative_spans;
  std::vector<int64_t> positive_buckets;
  std::vector<int64_t> negative_buckets;
  std::vector<double> custom_values;
  friend bool operator==(const Histogram&, const Histogram&) = default;
};

struct FloatHistogram {
  uint8_t counter_reset_hint = 0;
  int32_t schema = 0;
  double zero_threshold = 0;
  double zero_count = 0;
  double count = 0;
  double sum = 0;
  std::vector<HistogramSpan> positive_spans;
  std::vector<HistogramSpan> negative_spans;
  std::vector<double> positive_buckets;
  std::vector<double> negative_buckets;
  std::vector<double> custom_values;
  friend bool operator==(const FloatHistogram&, const FloatHistogram&) = default;
};

struct RefHistogramSample {
  HeadSeriesRef ref = 0;
  int64_t t = 0;
  Histogram h;
};

struct RefFloatHistogramSample {
  HeadSeriesRef ref = 0;
  int64_t t = 0;
  FloatHistogram fh;
};

// Encoders: append one complete record to *dst.
void EncodeSeries(std::span<const RefSeries> series, std::string* dst);
void EncodeSamples(std::span<const RefSample> samples, std::string* dst);
void EncodeTombstones(std::span<const RefTombstone> tombstones, std::string* dst);
void EncodeExemplars(std::span<const RefExemplar> exemplars, std::string* dst);
void EncodeMetadata(std::span<const RefMetadata> metadata, std::string* dst);
void EncodeMmapMarkers(std::span<const RefMmapMarker> markers, std::string* dst);
// Histogram records of type `type`: kHistogramSamples or kCustomBucketsHistogramSamples
// (resp. the float ones). As upstream, custom-bucket histograms go into their own record
// type so older readers can skip them; the caller splits them.
void EncodeHistogramSamples(std::span<const RefHistogramSample> histograms, Type type,
                            std::string* dst);
void EncodeFloatHistogramSamples(std::span<const RefFloatHistogramSample> histograms, Type type,
                                 std::string* dst);

// Decoders: append the record's contents to *out. kCorruption when the record has the
// wrong type, is truncated, or has trailing bytes.
Status DecodeSeries(std::string_view rec, std::vector<RefSeries>* out);
Status DecodeSamples(std::string_view rec, std::vector<RefSample>* out);
Status DecodeTombstones(std::string_view rec, std::vector<RefTombstone>* out);
Status DecodeExemplars(std::string_view rec, std::vector<RefExemplar>* out);
// Fields other than UNIT and HELP are skipped, as upstream does.
Status DecodeMetadata(std::string_view rec, std::vector<RefMetadata>* out);
Status DecodeMmapMarkers(std::string_view rec, std::vector<RefMmapMarker>* out);
// Accept both the exponential and the custom-bucket record type.
Status DecodeHistogramSamples(std::string_view rec, std::vector<RefHistogramSample>* out);
Status DecodeFloatHistogramSamples(std::string_view rec, std::vector<RefFloatHistogramSample>* out);

}  // namespace kiln::tsdb::record
