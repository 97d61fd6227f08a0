#include "web/federate/federate.h"

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <chrono>

#include "pkg/model/value.h"
#include "promql/parser/parser.h"
#include "web/federate/exposition.h"

namespace kiln::web::federate {

namespace {

// The latest float sample of `s` in [mint, maxt]. False when there is none, when the latest
// sample is a histogram, or when it is a stale marker (the exposition formats cannot carry
// one; the federating server's own staleness handles the series going away).
bool FederatedSampleSample(const storage::Series& s, int64_t mint, int64_t maxt, int64_t* t,
                           double* v, Status* err) {
  std::unique_ptr<chunkenc::Iterator> it = s.Iterator();
  bool found = false;
  for (chunkenc::ValueType vt = it->Seek(mint); vt != chunkenc::ValueType::kNone; vt = it->Next()) {
    if (it->AtT() > maxt) break;
    found = vt == chunkenc::ValueType::kFloat;
    if (found) std::tie(*t, *v) = it->At();
  }
  *err = it->err();
  return err->ok() && found && !model::IsStaleNaN(*v);
}

Federation::Response PlainError(int status, const std::string& msg) {
  return {status, "text/plain; charset=utf-8", msg + "\n"};
}

}  // namespace

Federation::Federation(storage::Queryable* storage, int64_t lookback_delta_ms, Logger logger,
                       prometheus::Registry* registry)
    : storage_(storage),
      lookback_delta_ms_(lookback_delta_ms),
      logger_(std::move(logger)),
      external_labels_(std::make_shared<const std::map<std::string, std::string>>()) {
  if (registry != nullptr) {
    errors_ = &prometheus::BuildCounter()
                   .Name("prometheus_web_federation_errors_total")
                   .Help(
                       "Total number of errors that occurred while sending federation "
                       "responses.")
                   .Register(*registry)
                   .Add({});
    warnings_ = &prometheus::BuildCounter()
                     .Name("prometheus_web_federation_warnings_total")
                     .Help(
                         "Total number of warnings that occurred while sending federation "
                         "responses.")
                     .Register(*registry)
                     .Add({});
  }
}

Federation::Response Federation::Failure(const Status& s) const {
  if (errors_ != nullptr) errors_->Increment();
  logger_.Error("federation failed", {{"err", s.message()}});
  return PlainError(500, s.message());
}

void Federation::SetExternalLabels(std::map<std::string, std::string> labels) {
  auto next = std::make_shared<const std::map<std::string, std::string>>(std::move(labels));
  std::lock_guard<std::mutex> l(mu_);
  external_labels_ = std::move(next);
}

std::shared_ptr<const std::map<std::string, std::string>> Federation::ExternalLabels() const {
  std::lock_guard<std::mutex> l(mu_);
  return external_labels_;
}

Federation::Response Federation::Serve(const std::vector<std::string>& match,
                                       std::string_view accept, int64_t now_ms) const {
  std::vector<std::vector<model::Matcher>> sets;
  for (const std::string& m : match) {
    Result<std::vector<model::Matcher>> ms = promql::parser::ParseMetricSelector(m);
    if (!ms.ok()) return PlainError(400, ms.status().message());
    sets.push_back(std::move(ms).value());
  }
  const int64_t mint = now_ms - lookback_delta_ms_, maxt = now_ms;
  Result<std::unique_ptr<storage::Querier>> q = storage_->NewQuerier(mint, maxt);
  if (!q.ok()) return Failure(q.status());

  // A series matched by several selectors is federated once (upstream merges the sets).
  std::map<model::Labels, FederatedSample> by_series;
  storage::SelectHints hints;
  hints.start = mint;
  hints.end = maxt;
  for (const auto& matchers : sets) {
    if (matchers.empty()) continue;  // `{}`: the index selects nothing for no matchers
    std::unique_ptr<storage::SeriesSet> set = (*q)->Select(false, &hints, matchers);
    while (set->Next()) {
      const storage::Series& s = set->At();
      if (by_series.count(s.labels()) != 0) continue;
      int64_t t = 0;
      double v = 0;
      Status err;
      if (FederatedSampleSample(s, mint, maxt, &t, &v, &err)) {
        by_series.emplace(s.labels(), FederatedSample{s.labels(), t, v});
      }
      if (!err.ok()) return Failure(err);
    }
    if (Status err = set->err(); !err.ok()) return Failure(err);
    // Warnings are final once the set is exhausted.
    for (const std::string& w : set->warnings()) {
      logger_.Debug("federation select returned warnings", {{"warnings", w}});
      if (warnings_ != nullptr) warnings_->Increment();
    }
  }

  std::vector<FederatedSample> samples;
  samples.reserve(by_series.size());
  for (auto& [labels, latest] : by_series) samples.push_back(std::move(latest));
  std::stable_sort(samples.begin(), samples.end(),
                   [](const FederatedSample& a, const FederatedSample& b) {
                     return a.labels.Get(model::kMetricName) < b.labels.Get(model::kMetricName);
                   });

  std::map<std::string, std::string> external = *ExternalLabels();
  external.try_emplace("instance", "");
  const Format format = NegotiateFormat(accept);
  return {200, std::string(ContentType(format)), EncodeFamilies(format, samples, external)};
}

void RegisterFederate(Server* server, const Federation* federation) {
  server->Register(
      "GET", "/federate", [federation](const httplib::Request& req, httplib::Response& res) {
        std::vector<std::string> match;
        const size_t n = req.get_param_value_count("match[]");
        for (size_t i = 0; i < n; ++i) match.push_back(req.get_param_value("match[]", i));
        const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
        Federation::Response r = federation->Serve(match, req.get_header_value("Accept"), now_ms);
        res.status = r.status;
        if (r.status != 200) res.set_header("X-Content-Type-Options", "nosniff");
        res.set_content(std::move(r.body), r.content_type.c_str());
      });
}

}  // namespace kiln::web::federate
