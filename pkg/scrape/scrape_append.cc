// ScrapeLoop's append path: from a scraped page to samples in an Appender.
#include <algorithm>

#include "pkg/relabel/relabel.h"
#include "pkg/scrape/scrape_loop.h"
#include "pkg/textparse/parser.h"

namespace kiln::scrape {
namespace {

// Go's %.50s: at most 50 bytes.
std::string Cut50(std::string_view s) { return std::string(s.substr(0, 50)); }

// Target labels win; scraped labels that collide are renamed exported_<name> (repeatedly
// prefixed until free), shortest names first, as upstream's resolveConflictingExposedLabels.
void AttachTargetLabels(model::LabelsBuilder* b, const model::Labels& target, bool honor) {
  if (honor) {
    for (const auto& l : target) {
      if (b->Get(l.name).empty()) b->Set(l.name, l.value);
    }
    return;
  }
  std::vector<model::Label> conflicts;
  for (const auto& l : target) {
    std::string_view existing = b->Get(l.name);
    if (!existing.empty()) conflicts.push_back({std::string(l.name), std::string(existing)});
    b->Set(l.name, l.value);
  }
  std::stable_sort(conflicts.begin(), conflicts.end(),
                   [](const auto& a, const auto& c) { return a.name.size() < c.name.size(); });
  for (const auto& c : conflicts) {
    std::string name = c.name;
    do {
      name = "exported_" + name;
    } while (!b->Get(name).empty());
    b->Set(name, c.value);
  }
}

// Upstream's Labels.IsValid under the job's metric_name_validation_scheme: a valid metric
// name, valid label names, values that are UTF-8. The text parsers' grammar already rules out
// bad names, but a protobuf page can carry any bytes, and any page bad UTF-8 in values.
bool ValidSeriesLabels(const model::Labels& lset, relabel::NameValidation scheme) {
  for (const auto& l : lset) {
    if (l.name == model::kMetricName) {
      if (scheme == relabel::NameValidation::kLegacy
              ? !model::IsValidLegacyMetricName(l.value)
              : !relabel::IsValidLabelName(l.value, relabel::NameValidation::kUtf8)) {
        return false;
      }
    } else if (!relabel::IsValidLabelName(l.name, scheme)) {
      return false;
    }
    // Values are never empty here (an empty value removes the label), so the UTF-8 name rule
    // is exactly "valid UTF-8".
    if (!relabel::IsValidLabelName(l.value, relabel::NameValidation::kUtf8)) return false;
  }
  return true;
}

}  // namespace

Status ScrapeLoop::Append(storage::Appender* app, std::string_view body,
                          std::string_view content_type, int64_t t, AppendStats* stats) {
  cache_.Begin();
  cur_.clear();
  Status s = AppendEntries(app, body, content_type, t, stats);
  if (!s.ok()) {
    cache_.End(false);
    return s;
  }
  AppendStale(app, t);
  AppendInheritedStale(app, t);
  std::swap(prev_, cur_);
  cache_.End(true);
  if (!cache_content_type_) cache_content_type_.emplace();
  cache_content_type_->assign(content_type);
  return Status::OK();
}

Status ScrapeLoop::AppendEntries(storage::Appender* app, std::string_view body,
                                 std::string_view content_type, int64_t t, AppendStats* stats) {
  KILN_ASSIGN_OR_RETURN(auto parser,
                        textparse::NewParser(body, content_type, cfg_->fallback_scrape_protocol));
  const uint64_t sample_limit = cfg_->sample_limit;
  bool limit_exceeded = false;
  // The cache's guesses are series texts of the last successful scrape, which the parser
  // may take without re-scanning only when that scrape had the same format.
  const bool hints = cache_content_type_ && *cache_content_type_ == content_type;
  while (true) {
    if (hints) parser->HintNextSeries(cache_.Expected());
    textparse::Entry entry = parser->Next();
    switch (entry) {
      case textparse::Entry::kEOF:
        if (limit_exceeded) {
          metrics_->exceeded_sample_limit.Increment();
          return Status::LimitExceeded("sample limit exceeded");
        }
        return Status::OK();
      case textparse::Entry::kInvalid:
        return parser->err();
      case textparse::Entry::kType: {
        auto [name, type] = parser->Type();
        cache_.SetType(name, type);
        continue;
      }
      case textparse::Entry::kHelp: {
        auto [name, help] = parser->Help();
        cache_.SetHelp(name, help);
        continue;
      }
      case textparse::Entry::kUnit: {
        auto [name, unit] = parser->Unit();
        cache_.SetUnit(name, unit);
        continue;
      }
      case textparse::Entry::kComment:
        continue;
      case textparse::Entry::kSeries:
        break;
    }
    double v = 0;
    std::optional<model::Timestamp> ts;
    std::string_view text = parser->Series(&v, &ts);
    ++stats->total;
    ScrapeCache::Entry* e =
        hints && parser->SeriesMatchedHint() ? cache_.TakeExpected() : cache_.Find(text);
    const bool is_new = e == nullptr;
    if (is_new) {
      parser->Labels(&builder_);
      KILN_RETURN_IF_ERROR(AddSeries(text, &e));
    }
    e->last_iter = cache_.iter();
    if (e->dropped) continue;
    if (sample_limit > 0 && static_cast<uint64_t>(stats->added) >= sample_limit) {
      limit_exceeded = true;  // keep counting samples for scrape_samples_scraped
      ++stats->added;
      continue;
    }
    ++stats->added;
    e->track_staleness = !ts.has_value() || cfg_->track_timestamps_staleness;
    const int64_t sample_t = cfg_->honor_timestamps && ts ? *ts : t;
    KILN_RETURN_IF_ERROR(AppendOne(app, e, sample_t, v, is_new, stats));
  }
}

Status ScrapeLoop::AddSeries(std::string_view text, ScrapeCache::Entry** entry) {
  std::string metric(builder_.Get(model::kMetricName));
  AttachTargetLabels(&builder_, target_->labels(), cfg_->honor_labels);
  const bool keep = relabel::ProcessBuilder(&builder_, cfg_->metric_relabel_configs);
  model::Labels lset;
  if (keep) {
    lset = builder_.Build();
    if (!lset.empty()) {
      if (lset.MetricName().empty()) return Status::BadData("missing metric name (__name__ label)");
      const auto scheme = cfg_->metric_name_validation_scheme == "legacy"
                              ? relabel::NameValidation::kLegacy
                              : relabel::NameValidation::kUtf8;
      if (!ValidSeriesLabels(lset, scheme)) {
        return Status::BadData("invalid metric name or label names: " + lset.ToString());
      }
    }
    KILN_RETURN_IF_ERROR(CheckLabelLimits(text, lset));
  }
  ScrapeCache::Entry* e = cache_.Add(text);
  e->metric = std::move(metric);
  e->dropped = !keep || lset.empty();
  e->labels = std::move(lset);
  *entry = e;
  return Status::OK();
}

Status ScrapeLoop::CheckLabelLimits(std::string_view text, const model::Labels& lset) const {
  const uint64_t count_limit = cfg_->label_limit;
  const uint64_t name_limit = cfg_->label_name_length_limit;
  const uint64_t value_limit = cfg_->label_value_length_limit;
  if (count_limit > 0 && lset.size() > count_limit) {
    metrics_->exceeded_label_limits.Increment();
    return Status::LimitExceeded("label_limit exceeded (metric: " + Cut50(text) +
                                 ", number of labels: " + std::to_string(lset.size()) +
                                 ", limit: " + std::to_string(count_limit) + ")");
  }
  if (name_limit == 0 && value_limit == 0) return Status::OK();
  for (const auto& l : lset) {
    if (name_limit > 0 && l.name.size() > name_limit) {
      metrics_->exceeded_label_limits.Increment();
      return Status::LimitExceeded("label_name_length_limit exceeded (metric: " + Cut50(text) +
                                   ", label name: " + Cut50(l.name) +
                                   ", length: " + std::to_string(l.name.size()) +
                                   ", limit: " + std::to_string(name_limit) + ")");
    }
    if (value_limit > 0 && l.value.size() > value_limit) {
      metrics_->exceeded_label_limits.Increment();
      std::string quoted;
      model::AppendGoQuoted(&quoted, l.value.substr(0, 50));
      return Status::LimitExceeded("label_value_length_limit exceeded (metric: " + Cut50(text) +
                                   ", label name: " + Cut50(l.name) + ", value: " + quoted +
                                   ", length: " + std::to_string(l.value.size()) +
                                   ", limit: " + std::to_string(value_limit) + ")");
    }
  }
  return Status::OK();
}

Status ScrapeLoop::AppendOne(storage::Appender* app, ScrapeCache::Entry* e, int64_t t, double v,
                             bool is_new, AppendStats* stats) {
  Status s = app->AppendCached(&e->slot, e->labels, t, v);
  if (!s.ok()) {
    if (s.Is(StatusCode::kOutOfOrder)) {
      metrics_->out_of_order.Increment();
    } else if (s.Is(StatusCode::kDuplicateSample)) {
      metrics_->duplicate_timestamp.Increment();
    } else if (s.Is(StatusCode::kOutOfBounds) || s.Is(StatusCode::kTooOld)) {
      metrics_->out_of_bounds.Increment();
    } else {
      return s;
    }
    return Status::OK();
  }
  if (e->track_staleness) cur_.push_back(e);
  if (is_new) ++stats->series_added;
  if (is_new || cache_.metadata_changed_now()) {
    std::string family;
    bool changed = false;
    const model::Metadata* md = cache_.GetMetadata(e->metric, &family, &changed);
    if (md != nullptr && (is_new || changed)) {
      auto u = app->UpdateMetadata(e->slot.ref, e->labels, *md);
      (void)u;  // metadata is best effort, as upstream
    }
  }
  return Status::OK();
}

}  // namespace kiln::scrape
