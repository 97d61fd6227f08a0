#include "pkg/remote/write_handler.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <snappy.h>

#include <fcntl.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "pkg/model/value.h"
#include "pkg/prompb/remote.pb.h"
#include "pkg/prompb/write_v2.pb.h"

namespace kiln::remote {
namespace {

namespace v2 = prompb::writev2;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr const char* kV1Type = "application/x-protobuf";
constexpr const char* kV2Type = "application/x-protobuf;proto=io.prometheus.write.v2.Request";

// A small storage with head-like rules: per-series timestamps must increase, a repeated
// timestamp must repeat the value, nothing older than kNow - 1h. Series labelled fault="io"
// fail with an I/O error; fault="meta" refuses metadata. Thread-safe (mu_).
class FakeStorage : public storage::Appendable {
 public:
  std::unique_ptr<storage::Appender> NewAppender() override;

  std::map<std::string, std::vector<model::Sample>> samples;  // committed, by series string
  std::map<std::string, model::Metadata> metadata;            // committed, by series string
  bool fail_commit = false;
  int commits = 0;
  int rollbacks = 0;
  std::mutex mu;
};

class FakeAppender : public storage::Appender {
 public:
  explicit FakeAppender(FakeStorage* s) : s_(s) {}

  Result<storage::SeriesRef> Append(storage::SeriesRef, const model::Labels& ls, int64_t t,
                                    double v) override {
    if (ls.Get("fault") == "io") return Status::IOError("write to WAL: broken pipe");
    if (t < kNow - 3'600'000) return Status::OutOfBounds("out of bounds");
    std::string key = ls.ToString();
    const model::Sample* last = Last(key);
    if (last != nullptr && t < last->t) return Status::OutOfOrder("out of order sample");
    if (last != nullptr && t == last->t) {
      // Like the head: the same sample again is a no-op, a different value an error.
      if (std::memcmp(&v, &last->v, sizeof v) == 0) return storage::SeriesRef{1};
      return Status::DuplicateSample("duplicate sample for timestamp");
    }
    staged_[key].push_back({t, v});
    return storage::SeriesRef{1};
  }

  Result<storage::SeriesRef> UpdateMetadata(storage::SeriesRef ref, const model::Labels& ls,
                                            const model::Metadata& meta) override {
    if (ls.Get("fault") == "meta") return Status::NotFound("unknown series");
    staged_meta_[ls.ToString()] = meta;
    return ref;
  }

  Status Commit() override {
    std::lock_guard<std::mutex> l(s_->mu);
    if (s_->fail_commit) return Status::IOError("fsync: no space left on device");
    for (auto& [k, v] : staged_) {
      auto& dst = s_->samples[k];
      dst.insert(dst.end(), v.begin(), v.end());
    }
    for (auto& [k, m] : staged_meta_) s_->metadata[k] = m;
    s_->commits++;
    return Status::OK();
  }

  Status Rollback() override {
    std::lock_guard<std::mutex> l(s_->mu);
    s_->rollbacks++;
    staged_.clear();
    return Status::OK();
  }

 private:
  const model::Sample* Last(const std::string& key) {
    if (auto it = staged_.find(key); it != staged_.end() && !it->second.empty()) {
      return &it->second.back();
    }
    std::lock_guard<std::mutex> l(s_->mu);
    auto it = s_->samples.find(key);
    return it == s_->samples.end() || it->second.empty() ? nullptr : &it->second.back();
  }

  FakeStorage* s_;
  std::map<std::string, std::vector<model::Sample>> staged_;
  std::map<std::string, model::Metadata> staged_meta_;
};

std::unique_ptr<storage::Appender> FakeStorage::NewAppender() {
  return std::make_unique<FakeAppender>(this);
}

// Logs to /dev/null: the handler logs every rejected sample at error level.
Logger QuietLogger() {
  static int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  return Logger(LogLevel::kError, Logger::Format::kLogfmt, fd);
}

std::string Snappy(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

// 1.0 series from {name, value} pairs and {t, v} samples.
void AddV1Series(prompb::WriteRequest* req, std::vector<std::pair<std::string, std::string>> labels,
                 std::vector<std::pair<int64_t, double>> samples) {
  auto* ts = req->add_timeseries();
  for (auto& [n, v] : labels) {
    auto* l = ts->add_labels();
    l->set_name(n);
    l->set_value(v);
  }
  for (auto [t, v] : samples) {
    auto* s = ts->add_samples();
    s->set_timestamp(t);
    s->set_value(v);
  }
}

// 2.0 request builder interning symbols.
class V2Builder {
 public:
  V2Builder() { Ref(""); }
  v2::TimeSeries* Series(std::vector<std::pair<std::string, std::string>> labels,
                         std::vector<std::pair<int64_t, double>> samples) {
    auto* ts = req_.add_timeseries();
    for (auto& [n, v] : labels) {
      ts->add_labels_refs(Ref(n));
      ts->add_labels_refs(Ref(v));
    }
    for (auto [t, v] : samples) {
      auto* s = ts->add_samples();
      s->set_timestamp(t);
      s->set_value(v);
    }
    return ts;
  }
  uint32_t Ref(const std::string& s) {
    for (int i = 0; i < req_.symbols_size(); ++i) {
      if (req_.symbols(i) == s) return static_cast<uint32_t>(i);
    }
    req_.add_symbols(s);
    return static_cast<uint32_t>(req_.symbols_size() - 1);
  }
  v2::Request& req() { return req_; }
  std::string Body() const { return Snappy(req_.SerializeAsString()); }

 private:
  v2::Request req_;
};

std::string Header(const WriteResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<missing>";
}

class WriteHandlerTest : public ::testing::Test {
 protected:
  WriteHandlerTest()
      : handler_(&storage_, &registry_, QuietLogger(), WriteHandler::Options{[] { return kNow; }}) {
  }

  double Counter(const std::string& name) {
    for (const auto& fam : registry_.Collect()) {
      if (fam.name == name) return fam.metric.at(0).counter.value;
    }
    return -1;
  }

  FakeStorage storage_;
  prometheus::Registry registry_;
  WriteHandler handler_;
};

std::string GoodV1Body() {
  prompb::WriteRequest req;
  AddV1Series(&req, {{"__name__", "up"}, {"job", "a"}}, {{kNow, 1}});
  return Snappy(req.SerializeAsString());
}

struct BadCase {
  std::string name;
  std::string content_type;
  std::string encoding;
  std::string body;
  int status;
  std::string body_prefix;
};

TEST_F(WriteHandlerTest, RejectsBadRequestsBeforeTouchingStorage) {
  const std::string good = GoodV1Body();
  const std::vector<BadCase> cases = {
      {"json content type", "application/json", "snappy", good, 415,
       "expected application/x-protobuf as the first (media) part, got application/json"},
      {"unknown proto message", "application/x-protobuf;proto=foo.Bar", "snappy", good, 415,
       "got application/x-protobuf;proto=foo.Bar content type; unknown remote write protobuf "
       "message foo.Bar"},
      {"malformed parameter", "application/x-protobuf;proto", "snappy", good, 415,
       "as per https://www.rfc-editor.org/rfc/rfc9110#parameter"},
      {"gzip encoding", kV1Type, "gzip", good, 415,
       "gzip encoding (compression) is not accepted by this server; only snappy is acceptable"},
      {"not snappy", kV1Type, "snappy", "\xff\xff\xff\xff\xff\xff", 400, "snappy: corrupt input"},
      {"empty body", kV1Type, "snappy", "", 400, "snappy: corrupt input"},
      {"bad protobuf v1", kV1Type, "snappy", Snappy("\x0a\x05\x01"), 400,
       "proto: cannot parse invalid wire-format data as prometheus.WriteRequest"},
      {"bad protobuf v2", kV2Type, "snappy", Snappy("\x22\x09"), 400,
       "proto: cannot parse invalid wire-format data as io.prometheus.write.v2.Request"},
  };
  for (const auto& c : cases) {
    WriteResponse r = handler_.Handle(c.content_type, c.encoding, c.body);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_EQ(r.body.rfind(c.body_prefix, 0), 0u) << c.name << ": " << r.body;
    EXPECT_EQ(r.body.back(), '\n') << c.name;
  }
  EXPECT_EQ(storage_.commits, 0);
  EXPECT_TRUE(storage_.samples.empty());
}

TEST_F(WriteHandlerTest, ContentTypeVariantsSelectV1) {
  for (std::string ct : {"", "application/x-protobuf", "application/x-protobuf; charset=x",
                         "application/x-protobuf;proto=prometheus.WriteRequest",
                         " application/x-protobuf ; proto=prometheus.WriteRequest"}) {
    WriteResponse r = handler_.Handle(ct, ct.empty() ? "" : "snappy", GoodV1Body());
    EXPECT_EQ(r.status, 204) << "'" << ct << "': " << r.body;
    EXPECT_EQ(Header(r, "X-Prometheus-Remote-Write-Samples-Written"), "<missing>");
  }
  EXPECT_EQ(storage_.samples[R"({__name__="up", job="a"})"].size(), 1u);  // same ts, same value
}

TEST_F(WriteHandlerTest, GoodV1RequestIsCommitted) {
  prompb::WriteRequest req;
  AddV1Series(&req, {{"__name__", "http_requests_total"}, {"job", "a"}},
              {{kNow - 2000, 1}, {kNow - 1000, 2}, {kNow, 3}});
  AddV1Series(&req, {{"__name__", "up"}}, {{kNow, model::StaleNaN()}});
  auto* md = req.add_metadata();
  md->set_metric_family_name("http_requests");
  md->set_type(prompb::MetricMetadata::COUNTER);
  md->set_help("Requests served.");
  WriteResponse r = handler_.Handle(kV1Type, "snappy", Snappy(req.SerializeAsString()));
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(storage_.commits, 1);
  const auto& got = storage_.samples[R"({__name__="http_requests_total", job="a"})"];
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].t, kNow);
  EXPECT_EQ(got[2].v, 3);
  ASSERT_EQ(storage_.samples[R"({__name__="up"})"].size(), 1u);
  EXPECT_TRUE(model::IsStaleNaN(storage_.samples[R"({__name__="up"})"][0].v));
  const auto& meta = storage_.metadata[R"({__name__="http_requests_total", job="a"})"];
  EXPECT_EQ(meta.type, model::MetricType::kCounter);
  EXPECT_EQ(meta.help, "Requests served.");
  EXPECT_EQ(storage_.metadata.count(R"({__name__="up"})"), 0u);
}

// Prometheus sends its metadata (metadata_config) in 1.0 requests without samples: each
// family reaches Options::on_metadata, and nothing is written.
TEST(WriteHandlerMetadataTest, MetadataOnlyV1RequestReachesOnMetadata) {
  FakeStorage storage;
  prometheus::Registry registry;
  std::map<std::string, model::Metadata> got;
  WriteHandler::Options opts{[] { return kNow; }};
  opts.on_metadata = [&got](std::string_view family, const model::Metadata& md) {
    got[std::string(family)] = md;
  };
  WriteHandler handler(&storage, &registry, QuietLogger(), opts);
  prompb::WriteRequest req;
  auto* md = req.add_metadata();
  md->set_metric_family_name("rpc_duration_seconds");
  md->set_type(prompb::MetricMetadata::HISTOGRAM);
  md->set_help("RPC latency.");
  md->set_unit("seconds");
  md = req.add_metadata();
  md->set_metric_family_name("queue_length");
  md->set_type(prompb::MetricMetadata::GAUGE);
  WriteResponse r = handler.Handle(kV1Type, "snappy", Snappy(req.SerializeAsString()));
  ASSERT_EQ(r.status, 204) << r.body;
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got["rpc_duration_seconds"].type, model::MetricType::kHistogram);
  EXPECT_EQ(got["rpc_duration_seconds"].help, "RPC latency.");
  EXPECT_EQ(got["rpc_duration_seconds"].unit, "seconds");
  EXPECT_EQ(got["queue_length"].type, model::MetricType::kGauge);
  EXPECT_TRUE(storage.samples.empty());
  EXPECT_TRUE(storage.metadata.empty());
}

TEST_F(WriteHandlerTest, GoodV2RequestReportsWrittenCounts) {
  V2Builder b;
  auto* ts = b.Series({{"__name__", "temp_celsius"}, {"room", "a"}}, {{kNow - 1, 20}, {kNow, 21}});
  ts->mutable_metadata()->set_type(v2::Metadata::METRIC_TYPE_GAUGE);
  ts->mutable_metadata()->set_help_ref(b.Ref("Room temperature."));
  ts->mutable_metadata()->set_unit_ref(b.Ref("celsius"));
  auto* ex = ts->add_exemplars();
  ex->set_value(21);
  b.Series({{"__name__", "up"}}, {{kNow, 1}});
  WriteResponse r = handler_.Handle(kV2Type, "snappy", b.Body());
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(Header(r, "X-Prometheus-Remote-Write-Samples-Written"), "3");
  EXPECT_EQ(Header(r, "X-Prometheus-Remote-Write-Histograms-Written"), "0");
  EXPECT_EQ(Header(r, "X-Prometheus-Remote-Write-Exemplars-Written"), "0");
  EXPECT_EQ(storage_.samples[R"({__name__="temp_celsius", room="a"})"].size(), 2u);
  const auto& meta = storage_.metadata[R"({__name__="temp_celsius", room="a"})"];
  EXPECT_EQ(meta, (model::Metadata{model::MetricType::kGauge, "Room temperature.", "celsius"}));
  EXPECT_EQ(storage_.metadata[R"({__name__="up"})"].type, model::MetricType::kUnknown);
}

struct PartialCase {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<int64_t, double>> samples;
  std::string error;  // expected line in the 400 body, "" = none
};

// One request mixing good and bad series: the good ones are committed, the answer is 400
// with one line per problem, for both protocol versions.
TEST_F(WriteHandlerTest, PartialWritesCommitGoodDataAndReportEachProblem) {
  const std::vector<PartialCase> cases = {
      {"good", {{"__name__", "ok"}}, {{kNow - 10, 1}, {kNow, 2}}, ""},
      {"out of order",
       {{"__name__", "ooo"}},
       {{kNow, 1}, {kNow - 5, 2}, {kNow + 1, 3}},
       R"(out of order sample for series {__name__="ooo"})"},
      {"duplicate",
       {{"__name__", "dup"}},
       {{kNow, 1}, {kNow, 2}},
       R"(duplicate sample for timestamp for series {__name__="dup"})"},
      {"too old",
       {{"__name__", "old"}},
       {{kNow - 7'200'000, 1}},
       R"(out of bounds for series {__name__="old"})"},
      {"future",
       {{"__name__", "future"}},
       {{kNow + 11 * 60'000, 1}},
       R"(out of bounds: timestamp is too far in the future for series {__name__="future"})"},
      {"no name", {{"job", "x"}}, {{kNow, 1}}, R"(invalid metric name or labels, got {job="x"})"},
      {"dup label",
       {{"__name__", "d"}, {"a", "1"}, {"a", "2"}},
       {{kNow, 1}},
       R"(invalid labels for series, labels {__name__="d", a="1", a="2"}, duplicated label a)"},
      {"unsorted labels",
       {{"__name__", "u"}, {"zone", "1"}, {"app", "2"}},
       {{kNow, 1}},
       R"(invalid labels for series, labels {__name__="u", zone="1", app="2"}, labels are not sorted by name (app after zone))"},
  };
  for (bool use_v2 : {false, true}) {
    SCOPED_TRACE(use_v2 ? "v2" : "v1");
    FakeStorage storage;
    prometheus::Registry registry;
    WriteHandler h(&storage, &registry, QuietLogger(), WriteHandler::Options{[] { return kNow; }});
    prompb::WriteRequest v1;
    V2Builder b;
    for (const auto& c : cases) {
      if (use_v2) {
        b.Series(c.labels, c.samples);
      } else {
        AddV1Series(&v1, c.labels, c.samples);
      }
    }
    WriteResponse r = use_v2 ? h.Handle(kV2Type, "snappy", b.Body())
                             : h.Handle(kV1Type, "snappy", Snappy(v1.SerializeAsString()));
    ASSERT_EQ(r.status, 400);
    std::string want;
    for (const auto& c : cases) {
      if (!c.error.empty()) want += c.error + "\n";
    }
    EXPECT_EQ(r.body, want);
    EXPECT_EQ(storage.commits, 1);
    EXPECT_EQ(storage.samples[R"({__name__="ok"})"].size(), 2u);
    EXPECT_EQ(storage.samples[R"({__name__="ooo"})"].size(), 2u);  // kNow and kNow+1
    EXPECT_EQ(storage.samples[R"({__name__="dup"})"].size(), 1u);
    EXPECT_EQ(storage.samples.count(R"({__name__="old"})"), 0u);
    if (use_v2) {
      EXPECT_EQ(Header(r, "X-Prometheus-Remote-Write-Samples-Written"), "5");
    }
  }
}

TEST_F(WriteHandlerTest, StorageFaultRollsBackAndAnswers500) {
  V2Builder b;
  b.Series({{"__name__", "ok"}}, {{kNow, 1}});
  b.Series({{"__name__", "bad"}, {"fault", "io"}}, {{kNow, 1}});
  WriteResponse r = handler_.Handle(kV2Type, "snappy", b.Body());
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("write to WAL: broken pipe"), std::string::npos) << r.body;
  EXPECT_EQ(Header(r, "X-Prometheus-Remote-Write-Samples-Written"), "0");
  EXPECT_EQ(storage_.rollbacks, 1);
  EXPECT_EQ(storage_.commits, 0);
  EXPECT_TRUE(storage_.samples.empty());
}

TEST_F(WriteHandlerTest, CommitFailureAnswers500) {
  storage_.fail_commit = true;
  WriteResponse r = handler_.Handle(kV1Type, "snappy", GoodV1Body());
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("commit: fsync: no space left on device"), std::string::npos) << r.body;
  EXPECT_TRUE(storage_.samples.empty());
}

TEST_F(WriteHandlerTest, MalformedV2ReferencesAreBadRequests) {
  V2Builder b;
  b.Series({{"__name__", "ok"}}, {{kNow, 1}});
  auto* odd = b.req().add_timeseries();
  odd->add_labels_refs(1);
  auto* out_of_range = b.req().add_timeseries();
  out_of_range->add_labels_refs(1);
  out_of_range->add_labels_refs(99);
  WriteResponse r = handler_.Handle(kV2Type, "snappy", b.Body());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "invalid labels_refs: odd number of references (1)\n"
            "invalid labels_refs: reference 99 outside of symbols table (size 3)\n");
  EXPECT_EQ(storage_.samples[R"({__name__="ok"})"].size(), 1u);
}

TEST_F(WriteHandlerTest, HistogramsAreRefusedButFloatsWritten) {
  V2Builder b;
  auto* ts = b.Series({{"__name__", "lat"}}, {{kNow, 1}});
  ts->add_histograms()->set_timestamp(kNow);
  WriteResponse r = handler_.Handle(kV2Type, "snappy", b.Body());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "native histograms are not supported by this server, 1 histogram samples dropped "
            "for series {__name__=\"lat\"}\n");
  EXPECT_EQ(Header(r, "X-Prometheus-Remote-Write-Samples-Written"), "1");
  EXPECT_EQ(Header(r, "X-Prometheus-Remote-Write-Histograms-Written"), "0");
}

TEST_F(WriteHandlerTest, MetricsCountInvalidAndMetadataLessSamples) {
  V2Builder b;
  b.Series({{"job", "no-name"}}, {{kNow, 1}, {kNow + 1, 2}});
  b.Series({{"__name__", "m"}, {"fault", "meta"}}, {{kNow, 1}, {kNow + 1, 2}, {kNow + 2, 3}});
  WriteResponse r = handler_.Handle(kV2Type, "snappy", b.Body());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Counter("prometheus_api_remote_write_invalid_labels_samples_total"), 2);
  EXPECT_EQ(Counter("prometheus_api_remote_write_without_metadata_appended_samples_total"), 3);
}

TEST_F(WriteHandlerTest, ErrorBodyIsCapped) {
  prompb::WriteRequest req;
  for (int i = 0; i < 15; ++i) AddV1Series(&req, {{"job", std::to_string(i)}}, {{kNow, 1}});
  WriteResponse r = handler_.Handle(kV1Type, "snappy", Snappy(req.SerializeAsString()));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 11);
  EXPECT_NE(r.body.find("and 5 more errors\n"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace kiln::remote
