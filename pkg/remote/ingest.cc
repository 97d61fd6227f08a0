#include "pkg/remote/ingest.h"

#include <string_view>
#include <unordered_map>

#include "pkg/remote/series_labels.h"

namespace kiln::remote {

namespace {

namespace v2 = prompb::writev2;

bool IsClientAppendError(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOutOfOrder:
    case StatusCode::kOutOfBounds:
    case StatusCode::kDuplicateSample:
    case StatusCode::kTooOld:
    case StatusCode::kBadData:
      return true;
    default:
      return false;
  }
}

std::string ErrorText(const Status& s) {
  return s.message().empty() ? std::string(StatusCodeName(s.code())) : s.message();
}

// Stages one series' parts against one transaction and records the outcome. Samples of one
// series reuse the SeriesRef the first append returned.
class SeriesWriter {
 public:
  SeriesWriter(const IngestOptions& opts, storage::Appender* app, const Logger& logger,
               IngestResult* out)
      : opts_(opts), app_(app), logger_(logger), out_(out) {}

  // Returns false when a fatal storage error ends ingestion.
  template <typename SampleList>
  bool AppendSamples(const model::Labels& ls, const SampleList& samples, storage::SeriesRef* ref) {
    for (const auto& s : samples) {
      Status st;
      if (s.timestamp() > opts_.max_time) {
        st = Status::OutOfBounds("out of bounds: timestamp is too far in the future");
      } else {
        Result<storage::SeriesRef> r = app_->Append(*ref, ls, s.timestamp(), s.value());
        if (r.ok()) {
          *ref = *r;
          out_->written.samples++;
          continue;
        }
        st = r.status();
      }
      if (!IsClientAppendError(st)) {
        out_->fatal = st.Wrap("append sample");
        return false;
      }
      logger_.Error("Out of order sample from remote write",
                    {{"err", ErrorText(st)},
                     {"series", ls.ToString()},
                     {"timestamp", std::to_string(s.timestamp())}});
      out_->bad_requests.push_back(ErrorText(st) + " for series " + ls.ToString());
    }
    return true;
  }

  // Storage has no native histogram support yet, so histogram samples are refused as a client
  // error rather than silently dropped; the float samples of the request are still written.
  void RejectHistograms(const model::Labels& ls, int n) {
    if (n == 0) return;
    out_->bad_requests.push_back("native histograms are not supported by this server, " +
                                 std::to_string(n) + " histogram samples dropped for series " +
                                 ls.ToString());
  }

  // Exemplar storage does not exist yet; upstream never fails a request over exemplars it
  // cannot store, so they are only logged.
  void DropExemplars(const model::Labels& ls, int n) {
    if (n == 0) return;
    logger_.Debug("Dropping exemplars, exemplar storage is not available",
                  {{"series", ls.ToString()}, {"count", std::to_string(n)}});
  }

  // Returns whether storage accepted the metadata.
  bool UpdateMetadata(const model::Labels& ls, storage::SeriesRef ref,
                      const model::Metadata& meta) {
    Result<storage::SeriesRef> r = app_->UpdateMetadata(ref, ls, meta);
    if (!r.ok()) {
      logger_.Debug("error while updating metadata from remote write",
                    {{"err", r.status().ToString()}});
    }
    return r.ok();
  }

  void RejectSeries(const Status& st, int64_t samples) {
    logger_.Warn("Invalid metric names or labels", {{"err", st.message()}});
    out_->bad_requests.push_back(st.message());
    out_->invalid_label_samples += samples;
  }

 private:
  const IngestOptions& opts_;
  storage::Appender* app_;
  const Logger& logger_;
  IngestResult* out_;
};

model::MetricType FromV1Type(prompb::MetricMetadata::MetricType t) {
  // The 1.0 enum lists the types in model::MetricType's order, UNKNOWN first.
  if (t < prompb::MetricMetadata::UNKNOWN || t > prompb::MetricMetadata::STATESET) {
    return model::MetricType::kUnknown;
  }
  return static_cast<model::MetricType>(static_cast<int>(t));
}

model::MetricType FromV2Type(v2::Metadata::MetricType t) {
  if (t < v2::Metadata::METRIC_TYPE_UNSPECIFIED || t > v2::Metadata::METRIC_TYPE_STATESET) {
    return model::MetricType::kUnknown;
  }
  return static_cast<model::MetricType>(static_cast<int>(t));
}

using FamilyMetadata = std::unordered_map<std::string_view, model::Metadata>;

FamilyMetadata IndexV1Metadata(const prompb::WriteRequest& req) {
  FamilyMetadata out;
  for (const auto& m : req.metadata()) {
    out[m.metric_family_name()] = model::Metadata{FromV1Type(m.type()), m.help(), m.unit()};
  }
  return out;
}

const model::Metadata* FindFamily(const FamilyMetadata& families, std::string_view name) {
  if (auto it = families.find(name); it != families.end()) return &it->second;
  for (std::string_view suffix : {"_total", "_bucket", "_count", "_sum"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      auto it = families.find(name.substr(0, name.size() - suffix.size()));
      if (it != families.end()) return &it->second;
    }
  }
  return nullptr;
}

// Resolves 2.0 label references. An odd count or an index past the symbol table is a
// malformed request (kBadData).
Status ResolveRefs(const v2::Request& req, const v2::TimeSeries& ts,
                   std::vector<model::LabelView>* out) {
  const auto& refs = ts.labels_refs();
  if (refs.size() % 2 != 0) {
    return Status::BadData("invalid labels_refs: odd number of references (" +
                           std::to_string(refs.size()) + ")");
  }
  out->clear();
  for (int i = 0; i < refs.size(); i += 2) {
    for (uint32_t r : {refs[i], refs[i + 1]}) {
      if (r >= static_cast<uint32_t>(req.symbols_size())) {
        return Status::BadData("invalid labels_refs: reference " + std::to_string(r) +
                               " outside of symbols table (size " +
                               std::to_string(req.symbols_size()) + ")");
      }
    }
    out->push_back({req.symbols(refs[i]), req.symbols(refs[i + 1])});
  }
  return Status::OK();
}

std::string_view Symbol(const v2::Request& req, uint32_t ref) {
  return ref < static_cast<uint32_t>(req.symbols_size()) ? std::string_view(req.symbols(ref))
                                                         : std::string_view();
}

}  // namespace

IngestResult IngestV1(const prompb::WriteRequest& req, const IngestOptions& opts,
                      storage::Appender* app, const Logger& logger) {
  IngestResult out;
  SeriesWriter w(opts, app, logger, &out);
  FamilyMetadata families = IndexV1Metadata(req);
  if (opts.on_family_metadata) {
    for (const auto& [family, md] : families) opts.on_family_metadata(family, md);
  }
  std::vector<model::LabelView> pairs;
  for (const auto& ts : req.timeseries()) {
    pairs.clear();
    for (const auto& l : ts.labels()) pairs.push_back({l.name(), l.value()});
    Result<model::Labels> ls = BuildSeriesLabels(&pairs);
    if (!ls.ok()) {
      w.RejectSeries(ls.status(), ts.samples_size() + ts.histograms_size());
      continue;
    }
    storage::SeriesRef ref = 0;
    if (!w.AppendSamples(*ls, ts.samples(), &ref)) return out;
    w.RejectHistograms(*ls, ts.histograms_size());
    w.DropExemplars(*ls, ts.exemplars_size());
    if (const model::Metadata* m = FindFamily(families, ls->MetricName())) {
      w.UpdateMetadata(*ls, ref, *m);
    }
  }
  return out;
}

IngestResult IngestV2(const v2::Request& req, const IngestOptions& opts, storage::Appender* app,
                      const Logger& logger) {
  IngestResult out;
  SeriesWriter w(opts, app, logger, &out);
  std::vector<model::LabelView> pairs;
  for (const auto& ts : req.timeseries()) {
    Status resolved = ResolveRefs(req, ts, &pairs);
    Result<model::Labels> ls =
        resolved.ok() ? BuildSeriesLabels(&pairs) : Result<model::Labels>(resolved);
    if (!ls.ok()) {
      w.RejectSeries(ls.status(), ts.samples_size() + ts.histograms_size());
      continue;
    }
    int64_t before = out.written.samples + out.written.histograms;
    storage::SeriesRef ref = 0;
    if (!w.AppendSamples(*ls, ts.samples(), &ref)) return out;
    w.RejectHistograms(*ls, ts.histograms_size());
    w.DropExemplars(*ls, ts.exemplars_size());
    const auto& md = ts.metadata();
    model::Metadata meta{FromV2Type(md.type()), std::string(Symbol(req, md.help_ref())),
                         std::string(Symbol(req, md.unit_ref()))};
    if (!w.UpdateMetadata(*ls, ref, meta)) {
      out.samples_without_metadata += out.written.samples + out.written.histograms - before;
    }
  }
  return out;
}

}  // namespace kiln::remote
