#include "pkg/remote/read_handler.h"

#include <snappy.h>

#include "pkg/prompb/remote.pb.h"
#include "pkg/tsdb/chunkenc/xor.h"
#include "pkg/util/coding.h"
#include "pkg/util/crc32c.h"

namespace kiln::remote {

namespace {

constexpr int kSamplesPerChunk = 120;

ReadResponse Error(int status, std::string message) {
  ReadResponse r;
  r.status = status;
  r.body = std::move(message) + "\n";
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  return r;
}

ReadResponse FromStatus(const Status& s) {
  return Error(s.code() == StatusCode::kBadData ? 400 : 500, s.message());
}

Result<std::vector<model::Matcher>> ToMatchers(const prompb::Query& q) {
  std::vector<model::Matcher> out;
  for (const auto& m : q.matchers()) {
    model::MatchType type;
    switch (m.type()) {
      case prompb::LabelMatcher::EQ:
        type = model::MatchType::kEqual;
        break;
      case prompb::LabelMatcher::NEQ:
        type = model::MatchType::kNotEqual;
        break;
      case prompb::LabelMatcher::RE:
        type = model::MatchType::kRegexMatch;
        break;
      case prompb::LabelMatcher::NRE:
        type = model::MatchType::kRegexNoMatch;
        break;
      default:
        return Status::BadData("invalid matcher type");
    }
    Result<model::Matcher> mm = model::Matcher::Make(type, m.name(), m.value());
    if (!mm.ok()) return Status::BadData(mm.status().message());
    out.push_back(std::move(*mm));
  }
  return out;
}

storage::SelectHints ToHints(const prompb::Query& q) {
  storage::SelectHints h;
  h.start = q.start_timestamp_ms();
  h.end = q.end_timestamp_ms();
  if (q.has_hints()) {
    h.start = q.hints().start_ms();
    h.end = q.hints().end_ms();
    h.step = q.hints().step_ms();
    h.func = q.hints().func();
    h.grouping.assign(q.hints().grouping().begin(), q.hints().grouping().end());
    h.by = q.hints().by();
    h.range = q.hints().range_ms();
  }
  return h;
}

void SetLabels(const model::Labels& ls, google::protobuf::RepeatedPtrField<prompb::Label>* out) {
  for (const auto& l : ls) {
    auto* pl = out->Add();
    pl->set_name(std::string(l.name));
    pl->set_value(std::string(l.value));
  }
}

// Runs one query's Select; `visit(series)` is called for each series in label order.
template <typename Visit>
Status SelectSeries(storage::Queryable* queryable, const prompb::Query& q, Visit visit) {
  KILN_ASSIGN_OR_RETURN(std::vector<model::Matcher> matchers, ToMatchers(q));
  KILN_ASSIGN_OR_RETURN(auto querier,
                        queryable->NewQuerier(q.start_timestamp_ms(), q.end_timestamp_ms()));
  storage::SelectHints hints = ToHints(q);
  std::unique_ptr<storage::SeriesSet> set = querier->Select(true, &hints, matchers);
  while (set->Next()) KILN_RETURN_IF_ERROR(visit(set->At()));
  return set->err();
}

// Calls emit(t, v) for the float samples of `s` within [mint, maxt].
template <typename Emit>
Status ForEachSample(const storage::Series& s, int64_t mint, int64_t maxt, Emit emit) {
  std::unique_ptr<chunkenc::Iterator> it = s.Iterator();
  for (auto vt = it->Seek(mint); vt != chunkenc::ValueType::kNone; vt = it->Next()) {
    if (vt != chunkenc::ValueType::kFloat) continue;
    auto [t, v] = it->At();
    if (t > maxt) break;
    KILN_RETURN_IF_ERROR(emit(t, v));
  }
  return it->err();
}

Result<std::string> SamplesResponse(storage::Queryable* queryable, const prompb::ReadRequest& req,
                                    int64_t limit) {
  prompb::ReadResponse resp;
  int64_t total = 0;
  for (const auto& q : req.queries()) {
    prompb::QueryResult* result = resp.add_results();
    Status s = SelectSeries(queryable, q, [&](const storage::Series& series) {
      prompb::TimeSeries ts;
      SetLabels(series.labels(), ts.mutable_labels());
      Status st = ForEachSample(
          series, q.start_timestamp_ms(), q.end_timestamp_ms(), [&](int64_t t, double v) {
            if (limit > 0 && ++total > limit) {
              return Status::BadData("exceeded sample limit (" + std::to_string(limit) + ")");
            }
            auto* smp = ts.add_samples();
            smp->set_timestamp(t);
            smp->set_value(v);
            return Status::OK();
          });
      if (st.ok() && ts.samples_size() > 0) *result->add_timeseries() = std::move(ts);
      return st;
    });
    KILN_RETURN_IF_ERROR(s);
  }
  std::string raw = resp.SerializeAsString(), out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

void AppendFrame(const prompb::ChunkedReadResponse& msg, std::string* out) {
  std::string raw = msg.SerializeAsString();
  PutUvarint(out, raw.size());
  PutBE32(out, Crc32c(raw));
  out->append(raw);
}

// Encodes one series as XOR chunks, flushing a frame whenever it grows past `max_frame`.
Status StreamSeries(const storage::Series& series, const prompb::Query& q, int64_t index,
                    size_t max_frame, std::string* out) {
  prompb::ChunkedReadResponse frame;
  frame.set_query_index(index);
  prompb::ChunkedSeries* cs = frame.add_chunked_series();
  SetLabels(series.labels(), cs->mutable_labels());
  size_t frame_bytes = 0;
  auto chunk = std::make_unique<chunkenc::XorChunk>();
  std::unique_ptr<chunkenc::Appender> app;
  int64_t first = 0, last = 0;
  int n = 0;
  auto flush_chunk = [&] {
    if (n == 0) return;
    prompb::Chunk* c = cs->add_chunks();
    c->set_min_time_ms(first);
    c->set_max_time_ms(last);
    c->set_type(prompb::Chunk::XOR);
    c->set_data(std::string(chunk->Bytes()));
    frame_bytes += c->data().size();
    app.reset();  // it points into the chunk being replaced
    chunk = std::make_unique<chunkenc::XorChunk>();
    n = 0;
    if (frame_bytes >= max_frame) {
      AppendFrame(frame, out);
      cs->clear_chunks();
      frame_bytes = 0;
    }
  };
  Status s = ForEachSample(series, q.start_timestamp_ms(), q.end_timestamp_ms(),
                           [&](int64_t t, double v) -> Status {
                             if (n == 0) {
                               KILN_ASSIGN_OR_RETURN(app, chunk->NewAppender());
                               first = t;
                             }
                             app->Append(t, v);
                             last = t;
                             if (++n == kSamplesPerChunk) flush_chunk();
                             return Status::OK();
                           });
  KILN_RETURN_IF_ERROR(s);
  flush_chunk();
  if (cs->chunks_size() > 0) AppendFrame(frame, out);
  return Status::OK();
}

Result<std::string> StreamedResponse(storage::Queryable* queryable, const prompb::ReadRequest& req,
                                     size_t max_frame) {
  std::string out;
  for (int i = 0; i < req.queries_size(); ++i) {
    const prompb::Query& q = req.queries(i);
    KILN_RETURN_IF_ERROR(SelectSeries(queryable, q, [&](const storage::Series& series) {
      return StreamSeries(series, q, i, max_frame, &out);
    }));
  }
  return out;
}

}  // namespace

ReadHandler::ReadHandler(storage::Queryable* queryable, Logger logger, Options options)
    : queryable_(queryable), logger_(std::move(logger)), options_(options) {}

ReadResponse ReadHandler::Handle(std::string_view body) const {
  std::string raw;
  if (!snappy::Uncompress(body.data(), body.size(), &raw)) {
    return Error(400, "snappy: corrupt input");
  }
  prompb::ReadRequest req;
  if (!req.ParseFromString(raw)) {
    return Error(400, "proto: cannot parse invalid wire-format data as prometheus.ReadRequest");
  }
  // The first listed type we implement wins; an empty list means SAMPLES.
  bool streamed = false;
  bool supported = req.accepted_response_types_size() == 0;
  for (int t : req.accepted_response_types()) {
    if (t == prompb::ReadRequest::SAMPLES || t == prompb::ReadRequest::STREAMED_XOR_CHUNKS) {
      streamed = t == prompb::ReadRequest::STREAMED_XOR_CHUNKS;
      supported = true;
      break;
    }
  }
  if (!supported) {
    return Error(400,
                 "server does not support any of the requested response types; "
                 "supported: SAMPLES, STREAMED_XOR_CHUNKS");
  }
  Result<std::string> out = streamed
                                ? StreamedResponse(queryable_, req, options_.max_bytes_in_frame)
                                : SamplesResponse(queryable_, req, options_.sample_limit);
  if (!out.ok()) {
    logger_.Error("Error while processing remote read request", {{"err", out.status().ToString()}});
    return FromStatus(out.status());
  }
  ReadResponse r;
  r.body = std::move(*out);
  if (streamed) {
    r.headers.emplace_back("Content-Type",
                           "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse");
  } else {
    r.headers.emplace_back("Content-Type", "application/x-protobuf");
    r.headers.emplace_back("Content-Encoding", "snappy");
  }
  return r;
}

}  // namespace kiln::remote
