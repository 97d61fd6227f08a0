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
    cur_ends_.assign(prev_ends_.begin(), prev_ends_.begin() + static_cast<std::ptrdiff_t>(pos));
    cur_texts_.assign(prev_texts_, 0, pos == 0 ? 0 : prev_ends_[pos - 1]);
  }
  if (diverged_) {
    if (same) text = std::string_view(kv->first);
    cur_texts_.append(text);
    cur_ends_.push_back(cur_texts_.size());
  }
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
      prev_texts_.swap(cur_texts_);
      prev_ends_.swap(cur_ends_);
    } else {
      // A prefix (or all) of the previous order: its keys are already in place.
      prev_ends_.resize(prev_order_.size());
      prev_texts_.resize(prev_ends_.empty() ? 0 : prev_ends_.back());
    }
  } else {
    prev_order_.clear();
    prev_texts_.clear();
    prev_ends_.clear();
  }
  cur_order_.clear();
  cur_texts_.clear();
  cur_ends_.clear();
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
  if (metadata_.size() != before) metadata_dirty_ = true;
}

ScrapeCache::MetaEntry* ScrapeCache::Meta(std::string_view family) {
  auto it = metadata_.find(family);
  if (it == metadata_.end()) {
    it = metadata_.emplace(std::string(family), MetaEntry{}).first;
    it->second.last_change = iter_;
    last_meta_change_ = iter_;
    metadata_dirty_ = true;
  }
  it->second.last_iter = iter_;
  return &it->second;
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
