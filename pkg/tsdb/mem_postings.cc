#include "pkg/tsdb/mem_postings.h"

#include <algorithm>
#include <mutex>

namespace kiln::tsdb {

namespace {

using model::MatchType;

// Keeps the `limit` largest stats, largest first, ties by name.
void SortTop(std::vector<PostingsStat>* stats, size_t limit) {
  auto cmp = [](const PostingsStat& a, const PostingsStat& b) {
    return a.count != b.count ? a.count > b.count : a.name < b.name;
  };
  if (stats->size() > limit) {
    std::partial_sort(stats->begin(), stats->begin() + static_cast<std::ptrdiff_t>(limit),
                      stats->end(), cmp);
    stats->resize(limit);
  } else {
    std::sort(stats->begin(), stats->end(), cmp);
  }
}

// The literal values a matcher selects when it is `name="v"` or `name=~"a|b"`; the
// values it rejects when it is `name!="v"` or `name!~"a|b"`. Empty when not a literal set.
std::vector<std::string> LiteralSet(const model::Matcher& m) {
  switch (m.type()) {
    case MatchType::kEqual:
    case MatchType::kRegexMatch:
      return m.SetMatches();
    case MatchType::kNotEqual:
      return {m.value()};
    case MatchType::kRegexNoMatch: {
      auto inverse = model::Matcher::Make(MatchType::kRegexMatch, m.name(), m.value());
      return inverse.ok() ? inverse->SetMatches() : std::vector<std::string>{};
    }
  }
  return {};
}

bool IsPositiveType(MatchType t) { return t == MatchType::kEqual || t == MatchType::kRegexMatch; }

}  // namespace

void MemPostings::AddRef(PostingsList* list, uint64_t ref) {
  list->push_back(ref);
  // Restore order when a concurrently created series with a higher ref got here first.
  for (size_t i = list->size() - 1; i > 0 && (*list)[i - 1] > (*list)[i]; --i) {
    std::swap((*list)[i - 1], (*list)[i]);
  }
}

void MemPostings::Add(uint64_t ref, const model::Labels& labels) {
  std::unique_lock lock(mu_);
  for (const auto& l : labels) {
    auto name_it = m_.find(l.name);
    if (name_it == m_.end()) name_it = m_.emplace(std::string(l.name), ValueMap{}).first;
    auto value_it = name_it->second.find(l.value);
    if (value_it == name_it->second.end()) {
      value_it = name_it->second.emplace(std::string(l.value), PostingsList{}).first;
    }
    AddRef(&value_it->second, ref);
  }
  AddRef(&m_[""][""], ref);
}

void MemPostings::Delete(const PostingsList& refs,
                         const std::vector<const model::Labels*>& labels) {
  if (refs.empty()) return;
  std::unique_lock lock(mu_);
  auto prune = [&refs](PostingsList* list) {
    std::erase_if(*list,
                  [&refs](uint64_t r) { return std::binary_search(refs.begin(), refs.end(), r); });
  };
  // Each touched (name, value) list once, however many removed series share it.
  std::unordered_map<std::string_view, std::vector<std::string_view>> touched;
  for (const model::Labels* ls : labels) {
    for (const auto& l : *ls) touched[l.name].push_back(l.value);
  }
  for (auto& [name, values] : touched) {
    auto name_it = m_.find(name);
    if (name_it == m_.end()) continue;
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    for (std::string_view v : values) {
      auto value_it = name_it->second.find(v);
      if (value_it == name_it->second.end()) continue;
      prune(&value_it->second);
      if (value_it->second.empty()) name_it->second.erase(value_it);
    }
    if (name_it->second.empty()) m_.erase(name_it);
  }
  if (auto all = m_.find(""); all != m_.end()) {
    if (auto list = all->second.find(""); list != all->second.end()) {
      prune(&list->second);
      if (list->second.empty()) all->second.erase(list);
    }
    if (all->second.empty()) m_.erase(all);
  }
}

PostingsList MemPostings::Get(std::string_view name, std::string_view value) const {
  std::shared_lock lock(mu_);
  auto name_it = m_.find(name);
  if (name_it == m_.end()) return {};
  auto value_it = name_it->second.find(value);
  return value_it == name_it->second.end() ? PostingsList{} : value_it->second;
}

PostingsList MemPostings::All() const { return Get("", ""); }

PostingsList MemPostings::Matching(std::string_view name,
                                   const std::function<bool(std::string_view)>& pred) const {
  std::shared_lock lock(mu_);
  return MatchingLocked(name, pred);
}

PostingsList MemPostings::MatchingLocked(std::string_view name,
                                         const std::function<bool(std::string_view)>& pred) const {
  auto name_it = m_.find(name);
  if (name_it == m_.end() || name.empty()) return {};
  std::vector<PostingsList> lists;
  for (const auto& [value, refs] : name_it->second) {
    if (pred(value)) lists.push_back(refs);
  }
  return MergePostings(lists);
}

PostingsList MemPostings::ForPositiveLocked(const model::Matcher& m) const {
  std::vector<std::string> set =
      IsPositiveType(m.type()) ? LiteralSet(m) : std::vector<std::string>{};
  if (set.empty()) {
    return MatchingLocked(m.name(), [&m](std::string_view v) { return m.Matches(v); });
  }
  auto name_it = m_.find(m.name());
  if (name_it == m_.end()) return {};
  std::vector<PostingsList> lists;
  for (const auto& v : set) {
    auto value_it = name_it->second.find(v);
    if (value_it != name_it->second.end()) lists.push_back(value_it->second);
  }
  return MergePostings(lists);
}

PostingsList MemPostings::ForNegativeLocked(const model::Matcher& m) const {
  // A negative matcher's rejected values form a literal set: look those up directly.
  std::vector<std::string> set =
      IsPositiveType(m.type()) ? std::vector<std::string>{} : LiteralSet(m);
  if (set.empty()) {
    return MatchingLocked(m.name(), [&m](std::string_view v) { return !m.Matches(v); });
  }
  auto name_it = m_.find(m.name());
  if (name_it == m_.end()) return {};
  std::vector<PostingsList> lists;
  for (const auto& v : set) {
    auto value_it = name_it->second.find(v);
    if (value_it != name_it->second.end()) lists.push_back(value_it->second);
  }
  return MergePostings(lists);
}

PostingsList MemPostings::ForMatchers(const std::vector<model::Matcher>& matchers) const {
  std::shared_lock lock(mu_);
  std::vector<PostingsList> intersect;
  std::vector<PostingsList> subtract;
  for (const auto& m : matchers) {
    if (m.Matches("")) {
      // Matches series without the label too, so it can only remove series: those
      // whose value it rejects. `=~".*"` rejects nothing.
      if (m.type() == MatchType::kRegexMatch && m.value() == ".*") continue;
      PostingsList rejected = ForNegativeLocked(m);
      if (!rejected.empty()) subtract.push_back(std::move(rejected));
    } else {
      PostingsList selected = ForPositiveLocked(m);
      if (selected.empty()) return {};
      intersect.push_back(std::move(selected));
    }
  }
  PostingsList result;
  if (intersect.empty()) {
    auto it = m_.find("");
    if (it != m_.end()) result = it->second.at("");
  } else {
    std::sort(intersect.begin(), intersect.end(),
              [](const PostingsList& a, const PostingsList& b) { return a.size() < b.size(); });
    result = std::move(intersect[0]);
    for (size_t i = 1; i < intersect.size() && !result.empty(); ++i) {
      result = IntersectPostings(result, intersect[i]);
    }
  }
  if (!subtract.empty() && !result.empty()) {
    result = WithoutPostings(result, MergePostings(subtract));
  }
  return result;
}

std::vector<std::string> MemPostings::LabelNames() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> names;
  names.reserve(m_.size());
  for (const auto& [name, values] : m_) {
    if (!name.empty()) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> MemPostings::LabelValues(std::string_view name) const {
  std::shared_lock lock(mu_);
  std::vector<std::string> values;
  auto it = m_.find(name);
  if (it == m_.end() || name.empty()) return values;
  values.reserve(it->second.size());
  for (const auto& [value, refs] : it->second) values.push_back(value);
  std::sort(values.begin(), values.end());
  return values;
}

size_t MemPostings::ValueCount(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = m_.find(name);
  return it == m_.end() || name.empty() ? 0 : it->second.size();
}

PostingsStats MemPostings::Stats(std::string_view metric_label, size_t limit) const {
  PostingsStats st;
  {
    std::shared_lock lock(mu_);
    for (const auto& [name, values] : m_) {
      if (name.empty()) continue;
      st.label_value_count_by_label_name.push_back({name, values.size()});
      st.num_label_pairs += values.size();
      uint64_t bytes = 0;
      for (const auto& [value, refs] : values) {
        st.series_count_by_label_value_pair.push_back({name + "=" + value, refs.size()});
        bytes += value.size();
        if (name == metric_label) st.series_count_by_metric_name.push_back({value, refs.size()});
      }
      st.memory_in_bytes_by_label_name.push_back({name, bytes});
    }
  }
  SortTop(&st.series_count_by_metric_name, limit);
  SortTop(&st.label_value_count_by_label_name, limit);
  SortTop(&st.memory_in_bytes_by_label_name, limit);
  SortTop(&st.series_count_by_label_value_pair, limit);
  return st;
}

}  // namespace kiln::tsdb
