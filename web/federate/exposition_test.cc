// Accept negotiation and the two encodings of federated samples.
#include "web/federate/exposition.h"

#include <gtest/gtest.h>

namespace kiln::web::federate {
namespace {

TEST(NegotiateFormatTest, AsExpfmt) {
  const std::string proto =
      "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
      "encoding=delimited";
  EXPECT_EQ(NegotiateFormat(""), Format::kText);
  EXPECT_EQ(NegotiateFormat("*/*"), Format::kText);
  EXPECT_EQ(NegotiateFormat("text/plain;version=0.0.4"), Format::kText);
  EXPECT_EQ(NegotiateFormat(proto), Format::kProtoDelimited);
  // Prometheus's own scrape Accept header: protobuf first.
  EXPECT_EQ(NegotiateFormat(proto + ";q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.1"),
            Format::kProtoDelimited);
  // Quality decides, not order.
  EXPECT_EQ(NegotiateFormat("text/plain;q=0.9, " + proto), Format::kProtoDelimited);
  EXPECT_EQ(NegotiateFormat(proto + ";q=0.2, text/plain;q=0.9"), Format::kText);
  // Protobuf text encodings and other MetricFamily protos are not offered.
  EXPECT_EQ(NegotiateFormat("application/vnd.google.protobuf;proto=io.prometheus.client."
                            "MetricFamily;encoding=text"),
            Format::kText);
  EXPECT_EQ(NegotiateFormat("application/vnd.google.protobuf;proto=other;encoding=delimited"),
            Format::kText);
  EXPECT_EQ(ContentType(Format::kText), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(ContentType(Format::kProtoDelimited),
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
            "encoding=delimited");
}

TEST(EncodeFamiliesTest, Text) {
  std::vector<FederatedSample> s = {
      {model::Labels{{"__name__", "m"}, {"a", "x"}}, 5, 1.5},
      {model::Labels{{"__name__", "m"}, {"b", "y"}}, 6, -0.0},
      {model::Labels{{"a", "nameless"}}, 6, 1},
      {model::Labels{{"__name__", "n"}}, 7, 1e-7},
  };
  EXPECT_EQ(EncodeFamilies(Format::kText, s, {{"b", "ext"}}),
            "# TYPE m untyped\n"
            "m{a=\"x\",b=\"ext\"} 1.5 5\n"
            "m{b=\"y\"} 0 6\n"
            "# TYPE n untyped\n"
            "n{b=\"ext\"} 1e-07 7\n");
  EXPECT_EQ(EncodeFamilies(Format::kText, {{model::Labels{{"__name__", "n"}}, -1, 2}}, {}),
            "# TYPE n untyped\nn 2 -1\n");
  EXPECT_EQ(EncodeFamilies(Format::kText, {}, {}), "");
}

TEST(EncodeFamiliesTest, ProtobufDelimited) {
  std::vector<FederatedSample> s = {{model::Labels{{"__name__", "m"}, {"a", "x"}}, 300, 1.0}};
  const std::string got = EncodeFamilies(Format::kProtoDelimited, s, {});
  // Hand-assembled: MetricFamily{name:"m", type:UNTYPED, metric:[{label:[{a,x}],
  // untyped:{value:1}, timestamp_ms:300}]}, preceded by its varint length.
  const std::string metric = std::string(
                                 "\x0a\x06\x0a\x01"
                                 "a"
                                 "\x12\x01"
                                 "x",
                                 8) +
                             std::string("\x2a\x09\x09\x00\x00\x00\x00\x00\x00\xf0\x3f", 11) +
                             std::string("\x30\xac\x02", 3);
  const std::string family = std::string("\x0a\x01m\x18\x03\x22", 6) +
                             std::string(1, static_cast<char>(metric.size())) + metric;
  EXPECT_EQ(got, std::string(1, static_cast<char>(family.size())) + family);
  EXPECT_EQ(EncodeFamilies(Format::kProtoDelimited, {}, {}), "");
}

}  // namespace
}  // namespace kiln::web::federate
