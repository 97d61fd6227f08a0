// Wire-format checks: the generated messages must produce and accept the exact bytes
// upstream Prometheus uses, field number by field number.
#include <gtest/gtest.h>

#include <string>

#include "pkg/prompb/remote.pb.h"
#include "pkg/prompb/types.pb.h"
#include "pkg/prompb/write_v2.pb.h"

namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(PrompbTest, SampleWireBytes) {
  kiln::prompb::Sample s;
  s.set_value(1.0);
  s.set_timestamp(1000);
  // field 1 (fixed64) = 1.0, field 2 (varint) = 1000.
  std::string want = Bytes({0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x10, 0xe8, 0x07});
  EXPECT_EQ(s.SerializeAsString(), want);
}

TEST(PrompbTest, WriteRequestFieldNumbers) {
  // timeseries (1) { labels (1) { name (1) "a", value (2) "b" } }, metadata (3) {
  // type (1) COUNTER, metric_family_name (2) "m", help (4) "h", unit (5) "u" }.
  std::string wire = Bytes({0x0a, 0x08, 0x0a, 0x06, 0x0a, 0x01, 'a',  0x12, 0x01, 'b',  0x1a, 0x0b,
                            0x08, 0x01, 0x12, 0x01, 'm',  0x22, 0x01, 'h',  0x2a, 0x01, 'u'});
  kiln::prompb::WriteRequest req;
  ASSERT_TRUE(req.ParseFromString(wire));
  ASSERT_EQ(req.timeseries_size(), 1);
  ASSERT_EQ(req.timeseries(0).labels_size(), 1);
  EXPECT_EQ(req.timeseries(0).labels(0).name(), "a");
  EXPECT_EQ(req.timeseries(0).labels(0).value(), "b");
  ASSERT_EQ(req.metadata_size(), 1);
  EXPECT_EQ(req.metadata(0).type(), kiln::prompb::MetricMetadata::COUNTER);
  EXPECT_EQ(req.metadata(0).metric_family_name(), "m");
  EXPECT_EQ(req.metadata(0).help(), "h");
  EXPECT_EQ(req.metadata(0).unit(), "u");
  EXPECT_EQ(req.SerializeAsString(), wire);
}

TEST(PrompbTest, V2RequestFieldNumbers) {
  // symbols (4) "", "a"; timeseries (5) { labels_refs (1) packed [1, 1],
  // samples (2) { timestamp (2) 5 }, metadata (5) { type (1) GAUGE, help_ref (3) 1 } }.
  std::string wire = Bytes({0x22, 0x00, 0x22, 0x01, 'a',  0x2a, 0x0e, 0x0a, 0x02, 0x01, 0x01,
                            0x12, 0x02, 0x10, 0x05, 0x2a, 0x04, 0x08, 0x02, 0x18, 0x01});
  kiln::prompb::writev2::Request req;
  ASSERT_TRUE(req.ParseFromString(wire));
  ASSERT_EQ(req.symbols_size(), 2);
  ASSERT_EQ(req.timeseries_size(), 1);
  const auto& ts = req.timeseries(0);
  ASSERT_EQ(ts.labels_refs_size(), 2);
  EXPECT_EQ(ts.labels_refs(1), 1u);
  ASSERT_EQ(ts.samples_size(), 1);
  EXPECT_EQ(ts.samples(0).timestamp(), 5);
  EXPECT_EQ(ts.metadata().type(), kiln::prompb::writev2::Metadata::METRIC_TYPE_GAUGE);
  EXPECT_EQ(ts.metadata().help_ref(), 1u);
  EXPECT_EQ(req.SerializeAsString(), wire);
}

TEST(PrompbTest, V1MessageParsesAsEmptyV2) {
  // The 2.0 Request reserves fields 1-3, so a 1.0 body yields no series (only unknown fields).
  kiln::prompb::WriteRequest v1;
  auto* ts = v1.add_timeseries();
  auto* l = ts->add_labels();
  l->set_name("__name__");
  l->set_value("up");
  ts->add_samples()->set_value(1);
  kiln::prompb::writev2::Request v2;
  ASSERT_TRUE(v2.ParseFromString(v1.SerializeAsString()));
  EXPECT_EQ(v2.timeseries_size(), 0);
  EXPECT_EQ(v2.symbols_size(), 0);
}

TEST(PrompbTest, HistogramSignedFieldsUseZigZag) {
  kiln::prompb::Histogram h;
  h.set_schema(-1);
  h.add_positive_deltas(-2);
  // schema (4, sint32) -1 → zigzag 1; positive_deltas (12, packed sint64) [-2] → [3].
  EXPECT_EQ(h.SerializeAsString(), Bytes({0x20, 0x01, 0x62, 0x01, 0x03}));
}

TEST(PrompbTest, ChunkedReadResponseFieldNumbers) {
  kiln::prompb::ChunkedReadResponse r;
  r.set_query_index(3);
  auto* c = r.add_chunked_series()->add_chunks();
  c->set_type(kiln::prompb::Chunk::XOR);
  c->set_data("x");
  // chunked_series (1) { chunks (2) { type (3) 1, data (4) "x" } }, query_index (2) 3.
  EXPECT_EQ(r.SerializeAsString(),
            Bytes({0x0a, 0x07, 0x12, 0x05, 0x18, 0x01, 0x22, 0x01, 'x', 0x10, 0x03}));
}

}  // namespace
