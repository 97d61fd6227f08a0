#include "pkg/remote/read_handler.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <snappy.h>

#include "pkg/prompb/remote.pb.h"
#include "pkg/storage/series_list.h"
#include "pkg/tsdb/chunkenc/xor.h"
#include "pkg/util/coding.h"
#include "pkg/util/crc32c.h"

namespace kiln::remote {
namespace {

// In-memory storage: fixed series, filtered by matchers, clipped to the querier's range.
class MemQueryable : public storage::Queryable {
 public:
  void Add(model::Labels ls, std::vector<model::Sample> s) {
    series_.emplace_back(std::move(ls), std::move(s));
  }

  Result<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint, int64_t maxt) override {
    return std::unique_ptr<storage::Querier>(std::make_unique<Q>(this, mint, maxt));
  }

 private:
  class Q : public storage::Querier {
   public:
    Q(MemQueryable* m, int64_t mint, int64_t maxt) : m_(m), mint_(mint), maxt_(maxt) {}
    std::unique_ptr<storage::SeriesSet> Select(bool, const storage::SelectHints*,
                                               const std::vector<model::Matcher>& ms) override {
      std::vector<std::unique_ptr<storage::Series>> out;
      for (const auto& [ls, samples] : m_->series_) {
        if (!model::MatchesAll(ms, ls)) continue;
        std::vector<model::Sample> in;
        for (auto s : samples) {
          if (s.t >= mint_ && s.t <= maxt_) in.push_back(s);
        }
        out.push_back(std::make_unique<storage::VectorSeries>(ls, std::move(in)));
      }
      return std::make_unique<storage::VectorSeriesSet>(std::move(out));
    }
    Result<std::vector<std::string>> LabelValues(const std::string&, const storage::LabelHints&,
                                                 const std::vector<model::Matcher>&) override {
      return std::vector<std::string>{};
    }
    Result<std::vector<std::string>> LabelNames(const storage::LabelHints&,
                                                const std::vector<model::Matcher>&) override {
      return std::vector<std::string>{};
    }

   private:
    MemQueryable* m_;
    int64_t mint_, maxt_;
  };

  std::vector<std::pair<model::Labels, std::vector<model::Sample>>> series_;  // sorted by test
};

Logger QuietLogger() {
  static int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  return Logger(LogLevel::kError, Logger::Format::kLogfmt, fd);
}

std::string Compress(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

prompb::ReadRequest Request(int64_t start, int64_t end, prompb::LabelMatcher::Type type,
                            const std::string& name, const std::string& value) {
  prompb::ReadRequest req;
  auto* q = req.add_queries();
  q->set_start_timestamp_ms(start);
  q->set_end_timestamp_ms(end);
  auto* m = q->add_matchers();
  m->set_type(type);
  m->set_name(name);
  m->set_value(value);
  return req;
}

class ReadHandlerTest : public ::testing::Test {
 protected:
  ReadHandlerTest() {
    std::vector<model::Sample> a, b;
    for (int i = 0; i < 250; ++i) a.push_back({i * 1000, static_cast<double>(i)});
    b.push_back({5000, 42});
    mem_.Add(model::Labels{{"__name__", "a"}, {"job", "x"}}, a);
    mem_.Add(model::Labels{{"__name__", "b"}}, b);
  }
  MemQueryable mem_;
};

TEST_F(ReadHandlerTest, SamplesResponse) {
  ReadHandler h(&mem_, QuietLogger());
  ReadResponse r = h.Handle(Compress(
      Request(10'000, 20'000, prompb::LabelMatcher::RE, "__name__", "a|b").SerializeAsString()));
  ASSERT_EQ(r.status, 200) << r.body;
  std::string raw;
  ASSERT_TRUE(snappy::Uncompress(r.body.data(), r.body.size(), &raw));
  prompb::ReadResponse resp;
  ASSERT_TRUE(resp.ParseFromString(raw));
  ASSERT_EQ(resp.results_size(), 1);
  ASSERT_EQ(resp.results(0).timeseries_size(), 1);  // b has no sample in range
  const auto& ts = resp.results(0).timeseries(0);
  ASSERT_EQ(ts.labels_size(), 2);
  EXPECT_EQ(ts.labels(1).name(), "job");
  ASSERT_EQ(ts.samples_size(), 11);
  EXPECT_EQ(ts.samples(0).timestamp(), 10'000);
  EXPECT_EQ(ts.samples(10).value(), 20);
  EXPECT_EQ(r.headers[0].second, "application/x-protobuf");
}

TEST_F(ReadHandlerTest, StreamedChunks) {
  ReadHandler h(&mem_, QuietLogger());
  auto req = Request(0, 1'000'000, prompb::LabelMatcher::EQ, "__name__", "a");
  req.add_accepted_response_types(prompb::ReadRequest::STREAMED_XOR_CHUNKS);
  ReadResponse r = h.Handle(Compress(req.SerializeAsString()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers[0].second,
            "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse");
  Decoder d(r.body);
  std::vector<int> chunk_sizes;
  int64_t next_t = 0;
  while (d.remaining() > 0) {
    uint64_t len = d.Uvarint();
    uint32_t crc = d.BE32();
    std::string_view msg = d.Bytes(len);
    ASSERT_EQ(crc, Crc32c(msg));
    prompb::ChunkedReadResponse frame;
    ASSERT_TRUE(frame.ParseFromArray(msg.data(), static_cast<int>(msg.size())));
    EXPECT_EQ(frame.query_index(), 0);
    for (const auto& cs : frame.chunked_series()) {
      for (const auto& c : cs.chunks()) {
        chunkenc::XorChunk chunk(c.data());
        auto it = chunk.NewIterator();
        int n = 0;
        while (it->Next() == chunkenc::ValueType::kFloat) {
          EXPECT_EQ(it->At().first, next_t);
          next_t += 1000;
          ++n;
        }
        EXPECT_EQ(c.min_time_ms(), next_t - n * 1000);
        EXPECT_EQ(c.max_time_ms(), next_t - 1000);
        chunk_sizes.push_back(n);
      }
    }
  }
  EXPECT_EQ(chunk_sizes, (std::vector<int>{120, 120, 10}));
}

TEST_F(ReadHandlerTest, Errors) {
  ReadHandler limited(&mem_, QuietLogger(), ReadHandler::Options{100, 1u << 20});
  std::string all = Compress(
      Request(0, 1'000'000, prompb::LabelMatcher::NEQ, "__name__", "").SerializeAsString());
  const std::vector<std::tuple<std::string, int, std::string>> cases = {
      {"not snappy", 400, "snappy: corrupt input\n"},
      {Compress("\x0a\x05\x01"), 400,
       "proto: cannot parse invalid wire-format data as prometheus.ReadRequest\n"},
      {Compress(Request(0, 1, prompb::LabelMatcher::RE, "__name__", "(").SerializeAsString()), 400,
       ""},
      {all, 400, "exceeded sample limit (100)\n"},
  };
  for (const auto& [body, status, text] : cases) {
    ReadResponse r = limited.Handle(body);
    EXPECT_EQ(r.status, status) << r.body;
    if (!text.empty()) EXPECT_EQ(r.body, text);
  }
  auto req = Request(0, 1, prompb::LabelMatcher::EQ, "__name__", "a");
  req.add_accepted_response_types(static_cast<prompb::ReadRequest::ResponseType>(7));
  EXPECT_EQ(limited.Handle(Compress(req.SerializeAsString())).status, 400);
}

}  // namespace
}  // namespace kiln::remote
