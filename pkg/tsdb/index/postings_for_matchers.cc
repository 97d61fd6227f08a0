#include "pkg/tsdb/index/postings_for_matchers.h"

#include <set>

namespace kiln::tsdb::index {

namespace {

bool IsNegative(const model::Matcher& m) {
  return m.type() == model::MatchType::kNotEqual || m.type() == model::MatchType::kRegexNoMatch;
}

// Series whose value of m.name() satisfies `want(value)`; unset labels never count.
template <typename Pred>
std::unique_ptr<Postings> PostingsWhere(const PostingsReader& ix, const model::Matcher& m,
                                        Pred want) {
  if (m.type() == model::MatchType::kEqual && want(m.value())) {
    const std::string_view v[] = {m.value()};
    return ix.PostingsFor(m.name(), v);
  }
  const std::vector<std::string> values = ix.LabelValues(m.name());
  std::vector<std::string_view> selected;
  for (const std::string& v : values) {
    if (want(v)) selected.push_back(v);
  }
  return ix.PostingsFor(m.name(), selected);
}

}  // namespace

std::unique_ptr<Postings> PostingsForMatchers(const PostingsReader& ix,
                                              std::span<const model::Matcher> matchers) {
  if (matchers.empty()) return EmptyPostings();
  // A label some matcher requires to be non-empty must be set on every selected series.
  std::set<std::string_view> must_be_set;
  for (const auto& m : matchers) {
    if (!m.Matches("")) must_be_set.insert(m.name());
  }
  std::vector<std::unique_ptr<Postings>> its, nots;
  for (const auto& m : matchers) {
    auto matches = [&m](std::string_view v) { return m.Matches(v); };
    auto fails = [&m](std::string_view v) { return !m.Matches(v); };
    if (!must_be_set.contains(m.name())) {
      // m matches "": select everything except the set values m rejects.
      nots.push_back(PostingsWhere(ix, m, fails));
    } else if (IsNegative(m) && m.Matches("")) {
      // l!="foo" with l otherwise required: subtract the values it rejects.
      nots.push_back(PostingsWhere(ix, m, fails));
    } else {
      // l="a", l=~"a.+", or l!="" with l required: the set values it accepts.
      its.push_back(PostingsWhere(ix, m, matches));
    }
  }
  if (its.empty()) its.push_back(ix.AllPostings());
  std::unique_ptr<Postings> it = Intersect(std::move(its));
  for (auto& n : nots) it = Without(std::move(it), std::move(n));
  return it;
}

}  // namespace kiln::tsdb::index
