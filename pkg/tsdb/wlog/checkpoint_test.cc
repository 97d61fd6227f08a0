#include "pkg/tsdb/wlog/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "pkg/tsdb/wlog/test_util.h"

namespace kiln::tsdb::wlog {
namespace {

using namespace record;
using testing::TempDir;

// Decoded contents of a WAL or checkpoint directory.
struct Contents {
  std::vector<RefSeries> series;
  std::vector<RefSample> samples;
  std::vector<RefTombstone> tombstones;
  std::vector<RefMetadata> metadata;
  std::vector<RefExemplar> exemplars;
  std::vector<RefHistogramSample> histograms;
  std::vector<RefFloatHistogramSample> float_histograms;
};

Contents ReadContents(const std::string& dir) {
  Contents c;
  auto r = Reader::Open({{dir, -1, -1}});
  EXPECT_TRUE(r.ok());
  while ((*r)->Next()) {
    const std::string_view rec = (*r)->Record();
    Status s;
    switch (GetType(rec)) {
      case Type::kSeries:
        s = DecodeSeries(rec, &c.series);
        break;
      case Type::kSamples:
        s = DecodeSamples(rec, &c.samples);
        break;
      case Type::kTombstones:
        s = DecodeTombstones(rec, &c.tombstones);
        break;
      case Type::kMetadata:
        s = DecodeMetadata(rec, &c.metadata);
        break;
      case Type::kExemplars:
        s = DecodeExemplars(rec, &c.exemplars);
        break;
      case Type::kHistogramSamples:
      case Type::kCustomBucketsHistogramSamples:
        s = DecodeHistogramSamples(rec, &c.histograms);
        break;
      case Type::kFloatHistogramSamples:
        s = DecodeFloatHistogramSamples(rec, &c.float_histograms);
        break;
      default:
        ADD_FAILURE() << "unexpected record type " << int(rec[0]);
    }
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_TRUE((*r)->err().ok()) << (*r)->err().ToString();
  return c;
}

// Segment i holds series 10i..10i+9, samples at t = 100i + j for each, one tombstone, one
// exemplar and two metadata updates per series.
std::unique_ptr<WL> WriteSegments(const std::string& dir, int n) {
  Options o;
  auto wl = WL::Open(dir, o, Logger(LogLevel::kError));
  EXPECT_TRUE(wl.ok());
  for (int i = 0; i < n; i++) {
    std::vector<RefSeries> series;
    std::vector<RefSample> samples;
    std::vector<RefMetadata> meta;
    for (int j = 0; j < 10; j++) {
      const HeadSeriesRef ref = 10 * i + j;
      series.push_back({ref, model::Labels{{"__name__", "m"}, {"i", std::to_string(ref)}}});
      for (int t = 0; t < 100; t += 10) samples.push_back({ref, 100 * i + t, double(t)});
      meta.push_back({ref, 1, "old", "old"});
      meta.push_back({ref, 2, "u" + std::to_string(ref), "h"});
    }
    std::string s, sm, tomb, ex, md;
    EncodeSeries(series, &s);
    EncodeSamples(samples, &sm);
    const std::vector<RefTombstone> ts = {{HeadSeriesRef(10 * i), {{100 * i, 100 * i + 5}}}};
    EncodeTombstones(ts, &tomb);
    const std::vector<RefExemplar> es = {
        {HeadSeriesRef(10 * i), 100 * i + 1, 1, model::Labels{{"trace", "t"}}}};
    EncodeExemplars(es, &ex);
    EncodeMetadata(meta, &md);
    std::vector<RefHistogramSample> hs = {{HeadSeriesRef(10 * i + 1), 100 * i + 2, {}},
                                          {HeadSeriesRef(10 * i + 1), 100 * i + 60, {}}};
    hs[1].h.count = 7;
    hs[1].h.schema = kCustomBucketsSchema;
    hs[1].h.custom_values = {1, 5};
    std::string h, fh;
    EncodeHistogramSamples(hs, Type::kCustomBucketsHistogramSamples, &h);
    const std::vector<RefFloatHistogramSample> fhs = {
        {HeadSeriesRef(10 * i + 2), 100 * i + 70, {}}};
    EncodeFloatHistogramSamples(fhs, Type::kFloatHistogramSamples, &fh);
    const std::vector<std::string> recs = {s, sm, tomb, ex, md, h, fh};
    EXPECT_TRUE((*wl)->Log(std::span<const std::string>(recs)).ok());
    EXPECT_TRUE((*wl)->NextSegment().ok());
  }
  return std::move(wl).value();
}

TEST(CheckpointTest, KeepsOnlyWhatIsNeeded) {
  TempDir dir;
  auto wl = WriteSegments(dir.path(), 4);
  auto keep = [](HeadSeriesRef ref) { return ref % 2 == 0; };
  auto stats = Checkpoint(Logger(LogLevel::kError), wl.get(), 0, 2, keep, 150);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->total_series, 30);
  EXPECT_EQ(stats->dropped_series, 15);
  EXPECT_EQ(stats->total_samples, 300 + 9);
  EXPECT_EQ(stats->dropped_samples, 150 + 4);
  auto last = LastCheckpoint(dir.path());
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->index, 2);
  EXPECT_EQ(last->dir, dir.path() + "/checkpoint.00000002");

  Contents c = ReadContents(last->dir);
  ASSERT_EQ(c.series.size(), 15u);
  for (const auto& s : c.series) {
    EXPECT_EQ(s.ref % 2, 0u);
    EXPECT_EQ(s.labels.Get("i"), std::to_string(s.ref));
  }
  EXPECT_EQ(c.samples.size(), 150u);
  for (const auto& s : c.samples) EXPECT_GE(s.t, 150);
  // Tombstones end at 5, 105, 205: only the last one reaches mint.
  ASSERT_EQ(c.tombstones.size(), 1u);
  EXPECT_EQ(c.tombstones[0].ref, 20u);
  // Histograms at 2, 60, 70 in each segment: 160, 170, 202, 260, 270 reach mint 150.
  ASSERT_EQ(c.histograms.size(), 3u);
  EXPECT_EQ(c.histograms[0].t, 160);
  EXPECT_EQ(c.histograms[0].h.custom_values, (std::vector<double>{1, 5}));
  EXPECT_EQ(c.float_histograms.size(), 2u);
  ASSERT_EQ(c.exemplars.size(), 1u);
  EXPECT_EQ(c.exemplars[0].t, 201);
  ASSERT_EQ(c.metadata.size(), 15u);  // the newest per kept series only
  for (const auto& m : c.metadata) {
    EXPECT_EQ(m.type, 2);
    EXPECT_EQ(m.unit, "u" + std::to_string(m.ref));
  }
  EXPECT_FALSE(std::filesystem::exists(last->dir + ".tmp"));
}

TEST(CheckpointTest, BuildsOnPreviousCheckpointAndDeletes) {
  TempDir dir;
  auto wl = WriteSegments(dir.path(), 4);
  auto all = [](HeadSeriesRef) { return true; };
  ASSERT_TRUE(Checkpoint(Logger(LogLevel::kError), wl.get(), 0, 1, all, 0).ok());
  ASSERT_TRUE(wl->Truncate(2).ok());
  // A gap after the last checkpoint is refused.
  EXPECT_TRUE(Checkpoint(Logger(LogLevel::kError), wl.get(), 3, 3, all, 0)
                  .status()
                  .Is(StatusCode::kBadData));
  ASSERT_TRUE(Checkpoint(Logger(LogLevel::kError), wl.get(), 2, 3, all, 0).ok());
  Contents c = ReadContents(CheckpointDir(dir.path(), 3));
  EXPECT_EQ(c.series.size(), 40u);
  EXPECT_EQ(c.samples.size(), 400u);
  ASSERT_TRUE(DeleteCheckpoints(dir.path(), 3).ok());
  EXPECT_FALSE(std::filesystem::exists(CheckpointDir(dir.path(), 1)));
  EXPECT_EQ(LastCheckpoint(dir.path())->index, 3);
  // Leftover temp directories and unrelated names are ignored.
  std::filesystem::create_directory(dir.path() + "/checkpoint.00000009.tmp");
  std::filesystem::create_directory(dir.path() + "/checkpoint.x");
  EXPECT_EQ(LastCheckpoint(dir.path())->index, 3);
}

TEST(CheckpointTest, NotFoundAndCorruption) {
  TempDir dir;
  EXPECT_TRUE(LastCheckpoint(dir.path()).status().Is(StatusCode::kNotFound));
  auto wl = WriteSegments(dir.path(), 3);
  const std::string seg = SegmentName(dir.path(), 1);
  std::string bytes = testing::ReadFile(seg);
  bytes[20] ^= 0x55;
  testing::WriteFile(seg, bytes);
  auto all = [](HeadSeriesRef) { return true; };
  auto st = Checkpoint(Logger(LogLevel::kError), wl.get(), 0, 2, all, 0);
  EXPECT_TRUE(st.status().Is(StatusCode::kCorruption)) << st.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(CheckpointDir(dir.path(), 2)));
  EXPECT_FALSE(std::filesystem::exists(CheckpointDir(dir.path(), 2) + ".tmp"));
}

}  // namespace
}  // namespace kiln::tsdb::wlog
