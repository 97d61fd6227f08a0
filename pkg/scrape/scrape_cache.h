// ScrapeCache: per-target memory of what earlier scrapes produced, so a steady-state scrape
// does no label parsing and no allocation for known series, and so staleness can be detected.
//
// Series are keyed by their exposition text (textparse::Parser::Series(): equal text ⇒ equal
// labels) and map to the storage ref and final labels, or to "dropped by
// metric_relabel_configs". Every append (a successful scrape, or the empty append after a
// failed one) is one iteration; a series appended in the previous iteration but not in this
// one gets a stale marker. Metadata (type/help/unit) is kept per metric family with the
// iteration it last changed in. As upstream's cache, a successful scrape drops the series it
// did not see, and metadata unseen for more than kMetadataGrace iterations.
//
// Not thread-safe: owned and used by one ScrapeLoop.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/model/metadata.h"
#include "pkg/scrape/target.h"
#include "pkg/storage/appender.h"

namespace kiln::scrape {

// Strings back to back in one buffer, by index: the keys a scrape looked up, in order, so
// that the next scrape compares each lookup with its guess by reading one contiguous
// buffer in step with the page instead of a key in a map node somewhere on the heap.
class KeySequence {
 public:
  size_t size() const { return ends_.size(); }
  std::string_view operator[](size_t i) const {
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(buf_).substr(begin, ends_[i] - begin);
  }
  void push_back(std::string_view key) {
    buf_.append(key);
    ends_.push_back(buf_.size());
  }
  void clear() {
    buf_.clear();
    ends_.clear();
  }
  // Keeps the first n keys. REQUIRES: n <= size().
  void resize(size_t n) {
    ends_.resize(n);
    buf_.resize(n == 0 ? 0 : ends_.back());
  }
  // Replaces the contents with the first n keys of `other`. REQUIRES: n <= other.size().
  void AssignPrefix(const KeySequence& other, size_t n) {
    ends_.assign(other.ends_.begin(), other.ends_.begin() + static_cast<std::ptrdiff_t>(n));
    buf_.assign(other.buf_, 0, n == 0 ? 0 : ends_.back());
  }
  void swap(KeySequence& other) {
    buf_.swap(other.buf_);
    ends_.swap(other.ends_);
  }

 private:
  std::string buf_;
  std::vector<size_t> ends_;  // the i-th key ends at ends_[i]
};

class ScrapeCache {
 public:
  static constexpr uint64_t kMetadataGrace = 10;

  ScrapeCache() = default;
  // The order vectors point into series_'s nodes: a copy would point into the original, while
  // a move (a reloaded loop inheriting the cache) carries the nodes over.
  ScrapeCache(const ScrapeCache&) = delete;
  ScrapeCache& operator=(const ScrapeCache&) = delete;
  ScrapeCache(ScrapeCache&&) = default;
  ScrapeCache& operator=(ScrapeCache&&) = default;

  // What every sample of a known series reads and writes comes first, so that it shares
  // the map node's first cache lines with the key (see PrefetchAhead).
  struct Entry {
    storage::SeriesSlot slot;  // the storage's ref (and more) for the series
    uint64_t last_iter = 0;
    uint64_t found_iter = 0;      // iteration Find/Add last returned it (cache bookkeeping)
    bool dropped = false;         // metric_relabel_configs dropped it
    bool track_staleness = true;  // false for samples with explicit timestamps
    model::Labels labels;         // final labels (after target labels and metric relabeling)
    std::string metric;           // metric name, for metadata lookups
  };

  // Starts an iteration (one append).
  void Begin() {
    ++iter_;
    cur_order_.clear();
    cur_keys_.clear();
    diverged_ = false;
    found_ = 0;
    meta_cur_order_.clear();
    meta_cur_keys_.clear();
  }
  uint64_t iter() const { return iter_; }

  // The entry for this series text, or null. Calls are expected in page order: the n-th
  // call of an iteration first tries the n-th series of the previous successful one.
  Entry* Find(std::string_view series);
  // The series text the next Find is expected to be asked for (the next one in the order of
  // the last successful iteration), or empty when there is no guess. The view stays valid
  // until the next Find, TakeExpected, Add or End.
  std::string_view Expected() const {
    const size_t pos = cur_order_.size();
    return pos < prev_keys_.size() ? prev_keys_[pos] : std::string_view();
  }
  // Find(Expected()) without comparing the text. REQUIRES: !Expected().empty().
  Entry* TakeExpected() {
    const size_t pos = cur_order_.size();
    PrefetchAhead(pos);
    SeriesMap::value_type* kv = prev_order_[pos];
    Found(kv, true, {});
    return &kv->second;
  }
  // Adds an entry for a series not found. REQUIRES: Find(series) == nullptr.
  Entry* Add(std::string_view series);

  // Calls f(const Entry&) for each tracked series of the previous iteration that was not
  // appended in this one.
  template <typename F>
  void ForEachStale(F&& f) const {
    if (prev_iter_ == 0) return;
    for (const auto& [text, e] : series_) {
      if (e.last_iter == prev_iter_ && !e.dropped && e.track_staleness) f(e);
    }
  }
  // Ends the iteration; a successful one evicts old entries.
  void End(bool success);

  // Metadata, from # TYPE / # HELP / # UNIT lines of the current iteration.
  void SetType(std::string_view family, model::MetricType t);
  void SetHelp(std::string_view family, std::string_view help);
  void SetUnit(std::string_view family, std::string_view unit);
  // Metadata of the family a series belongs to (trying the name, then the name without a
  // _bucket/_sum/_count/_total/… suffix); null when unknown. `changed` tells whether it
  // changed in this iteration.
  const model::Metadata* GetMetadata(std::string_view metric, std::string* family,
                                     bool* changed) const;
  // Whether any family's metadata changed in this iteration.
  bool metadata_changed_now() const { return last_meta_change_ == iter_; }
  // Whether metadata was added, changed or evicted since the last TakeMetadata.
  bool metadata_dirty() const { return metadata_dirty_; }
  std::vector<MetricMetadata> TakeMetadata();

  size_t size() const { return series_.size(); }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct MetaEntry {
    model::Metadata meta;
    uint64_t last_iter = 0;
    uint64_t last_change = 0;
  };
  using SeriesMap = std::unordered_map<std::string, Entry, StringHash, std::equal_to<>>;
  using MetaMap = std::unordered_map<std::string, MetaEntry, StringHash, std::equal_to<>>;
  // The family's entry (created if new), marked seen in this iteration.
  MetaEntry* Meta(std::string_view family);
  // In steady state the entries (map nodes) of the coming positions are known: starts
  // loading them so that, by the time the page gets there, they are in cache (with
  // thousands of targets they would not be). Prefetching their series too, through the
  // node, measured slower: reading the pointer stalls when the node is not in yet.
  void PrefetchAhead(size_t pos) const {
    constexpr size_t kEntryDistance = 16;
    if (pos + kEntryDistance < prev_order_.size()) {
      const char* node = reinterpret_cast<const char*>(prev_order_[pos + kEntryDistance]);
      // Found and the append write to the entry's first fields: within 128 bytes of the
      // node's start, which may sit anywhere in a cache line.
      __builtin_prefetch(node, 1);
      __builtin_prefetch(node + 64, 1);
      __builtin_prefetch(node + 127, 1);
    }
  }

  uint64_t iter_ = 0;
  uint64_t prev_iter_ = 0;
  SeriesMap series_;
  // Targets expose their series in the same order scrape after scrape, so the entries of the
  // last successful iteration, in the order Find/Add returned them, usually answer Find with
  // one string comparison instead of hashing the text and probing the map. Map nodes are
  // stable; End(true) drops prev_order_ unless every entry in it survives the eviction.
  std::vector<SeriesMap::value_type*> prev_order_;
  std::vector<SeriesMap::value_type*> cur_order_;
  // The keys of prev_order_, and of cur_order_ once this iteration left the previous order
  // (until then cur_order_'s keys are a prefix of prev_keys_ and are not copied).
  KeySequence prev_keys_;
  KeySequence cur_keys_;
  bool diverged_ = false;
  // Distinct entries in cur_order_: when every cached series was found and appended, End has
  // nothing to evict and skips walking the map.
  size_t found_ = 0;
  // Records kv as the next entry of cur_order_; `same` says that it is the entry at this
  // position of prev_order_ (else `text` is its key).
  void Found(SeriesMap::value_type* kv, bool same, std::string_view text);
  MetaMap metadata_;
  // Metadata lines come in the same order scrape after scrape too: the entries the last
  // successful iteration's lines set, in order, with their families. End drops them when it
  // evicts metadata (map nodes are stable otherwise).
  std::vector<MetaMap::value_type*> meta_prev_order_;
  std::vector<MetaMap::value_type*> meta_cur_order_;
  KeySequence meta_prev_keys_;
  KeySequence meta_cur_keys_;
  bool metadata_dirty_ = false;
  uint64_t last_meta_change_ = 0;
};

}  // namespace kiln::scrape
