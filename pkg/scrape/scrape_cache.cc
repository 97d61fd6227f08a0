#include "pkg/scrape/scrape_cache.h"

#include <algorithm>

namespace kiln::scrape {
namespace {

// Suffixes that series of a family carry beyond the family name.
constexpr std::string_view kFamilySuffixes[] = {"_bucket",  "_sum",  "_count",  "_total",
                                                "_created", "_info", "_gcount", "_gsum"};

}  // namespace

void ScrapeCache::Found(SeriesMap::value_type* kv, bool same, std::string_view text) {
  const size_t pos = cur_order_.size();
  if (!same && !diverged_) {
    // Leaving the previous order: from here on cur_order_ needs its own copy of the keys.
    diverged_ = true;
    cur_keys_.AssignPrefix(prev_keys_, pos);
  }
  if (diverged_) cur_keys_.push_back(same ? std::string_view(kv->first) : text);
  cur_order_.push_back(kv);
  if (kv->second.found_iter != iter_) {
    kv->second.found_iter = iter_;
    ++found_;
  }
}

ScrapeCache::Entry* ScrapeCache::Find(std::string_view series) {
  const size_t pos = cur_order_.size();
  if (pos < prev_order_.size() && Expected() == series) {
    PrefetchAhead(pos);
    Found(prev_order_[pos], true, {});
    return &prev_order_[pos]->second;
  }
  auto it = series_.find(series);
  if (it == series_.end()) return nullptr;
  Found(&*it, false, series);
  return &it->second;
}

ScrapeCache::Entry* ScrapeCache::Add(std::string_view series) {
  auto it = series_.emplace(std::string(series), Entry{}).first;
  Found(&*it, false, series);
  return &it->second;
}

void ScrapeCache::End(bool success) {
  prev_iter_ = iter_;
  // A failed iteration evicts nothing, so prev_order_ stays valid and stays the better guess.
  if (!success) return;
  const bool all_kept = std::all_of(cur_order_.begin(), cur_order_.end(), [this](const auto* kv) {
    return kv->second.last_iter == iter_;
  });
  if (all_kept) {
    prev_order_.swap(cur_order_);
    if (diverged_) {
      prev_keys_.swap(cur_keys_);
    } else {
      // A prefix (or all) of the previous order: its keys are already in place.
      prev_keys_.resize(prev_order_.size());
    }
  } else {
    prev_order_.clear();
    prev_keys_.clear();
  }
  cur_order_.clear();
  cur_keys_.clear();
  // As upstream, a successful scrape forgets every series it did not see: a series that
  // comes back later is new again (scrape_series_added counts it), and churn cannot grow the
  // cache. Stale markers for the forgotten series were sent by ForEachStale before this.
  // Every cached series found and appended in this iteration: there is nothing to forget.
  if (!all_kept || found_ != series_.size()) {
    std::erase_if(series_, [this](const auto& kv) { return kv.second.last_iter != iter_; });
  }
  // Metadata outlives its series for kMetadataGrace scrapes, as upstream's.
  size_t before = metadata_.size();
  std::erase_if(metadata_,
                [this](const auto& kv) { return kv.second.last_iter + kMetadataGrace < iter_; });
  meta_prev_order_.swap(meta_cur_order_);
  meta_prev_keys_.swap(meta_cur_keys_);
  if (metadata_.size() != before) {
    metadata_dirty_ = true;
    // Evicted entries were not seen in this iteration, so they are not in meta_prev_order_;
    // dropping the guesses anyway keeps that argument out of the way.
    meta_prev_order_.clear();
    meta_prev_keys_.clear();
  }
}

ScrapeCache::MetaEntry* ScrapeCache::Meta(std::string_view family) {
  const size_t pos = meta_cur_order_.size();
  MetaMap::value_type* kv = nullptr;
  if (pos < meta_prev_keys_.size() && meta_prev_keys_[pos] == family) {
    kv = meta_prev_order_[pos];
  } else {
    auto it = metadata_.find(family);
    if (it == metadata_.end()) {
      it = metadata_.emplace(std::string(family), MetaEntry{}).first;
      it->second.last_change = iter_;
      last_meta_change_ = iter_;
      metadata_dirty_ = true;
    }
    kv = &*it;
  }
  // The callers compare the value (the help text is a string of its own on the heap).
  if (pos + 4 < meta_prev_order_.size()) __builtin_prefetch(meta_prev_order_[pos + 4], 1);
  if (pos + 2 < meta_prev_order_.size()) {
    __builtin_prefetch(meta_prev_order_[pos + 2]->second.meta.help.data());
  }
  meta_cur_order_.push_back(kv);
  meta_cur_keys_.push_back(family);
  kv->second.last_iter = iter_;
  return &kv->second;
}

void ScrapeCache::SetType(std::string_view family, model::MetricType t) {
  MetaEntry* m = Meta(family);
  if (m->meta.type != t) {
    m->meta.type = t;
    m->last_change = iter_;
    last_meta_change_ = iter_;
    metadata_dirty_ = true;
  }
}

void ScrapeCache::SetHelp(std::string_view family, std::string_view help) {
  MetaEntry* m = Meta(family);
  if (m->meta.help != help) {
    m->meta.help.assign(help);
    m->last_change = iter_;
    last_meta_change_ = iter_;
    metadata_dirty_ = true;
  }
}

void ScrapeCache::SetUnit(std::string_view family, std::string_view unit) {
  MetaEntry* m = Meta(family);
  if (m->meta.unit != unit) {
    m->meta.unit.assign(unit);
    m->last_change = iter_;
    last_meta_change_ = iter_;
    metadata_dirty_ = true;
  }
}

const model::Metadata* ScrapeCache::GetMetadata(std::string_view metric, std::string* family,
                                                bool* changed) const {
  auto it = metadata_.find(metric);
  for (size_t i = 0; it == metadata_.end() && i < std::size(kFamilySuffixes); ++i) {
    std::string_view suffix = kFamilySuffixes[i];
    if (metric.size() > suffix.size() && metric.ends_with(suffix)) {
      it = metadata_.find(metric.substr(0, metric.size() - suffix.size()));
    }
  }
  if (it == metadata_.end()) return nullptr;
  *family = it->first;
  *changed = it->second.last_change == iter_;
  return &it->second.meta;
}

std::vector<MetricMetadata> ScrapeCache::TakeMetadata() {
  metadata_dirty_ = false;
  std::vector<MetricMetadata> out;
  out.reserve(metadata_.size());
  for (const auto& [name, m] : metadata_) out.push_back({name, m.meta});
  std::sort(out.begin(), out.end(),
            [](const MetricMetadata& a, const MetricMetadata& b) { return a.metric < b.metric; });
  return out;
}

}  // namespace kiln::scrape
