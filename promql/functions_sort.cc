// Ordering functions: sort, sort_desc, sort_by_label, sort_by_label_desc. They keep the
// metric name and only matter for instant queries (range results are sorted by labels).
#include <algorithm>
#include <cctype>
#include <cmath>

#include "promql/functions.h"

namespace kiln::promql {

namespace {

// Natural order: digit runs compare numerically, other runs as strings.
bool NaturalLess(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    bool da = std::isdigit(static_cast<unsigned char>(a[i]));
    bool db = std::isdigit(static_cast<unsigned char>(b[j]));
    size_t ei = i, ej = j;
    while (ei < a.size() && bool(std::isdigit(static_cast<unsigned char>(a[ei]))) == da) ++ei;
    while (ej < b.size() && bool(std::isdigit(static_cast<unsigned char>(b[ej]))) == db) ++ej;
    std::string_view ca = a.substr(i, ei - i), cb = b.substr(j, ej - j);
    if (da && db) {
      std::string_view ta = ca.substr(std::min(ca.find_first_not_of('0'), ca.size()));
      std::string_view tb = cb.substr(std::min(cb.find_first_not_of('0'), cb.size()));
      if (ta.size() != tb.size()) return ta.size() < tb.size();
      if (ta != tb) return ta < tb;
    } else if (ca != cb) {
      return ca < cb;
    }
    i = ei;
    j = ej;
  }
  return a.size() - i < b.size() - j;
}

void SortByValue(FunctionCall& c, bool desc) {
  *c.out = *c.args[0];
  std::stable_sort(c.out->begin(), c.out->end(), [desc](const Sample& x, const Sample& y) {
    if (std::isnan(x.f)) return false;
    if (std::isnan(y.f)) return true;
    return desc ? x.f > y.f : x.f < y.f;
  });
}

void SortByLabel(FunctionCall& c, bool desc) {
  std::vector<std::string> names;
  for (size_t i = 1; i < c.call->args.size(); ++i) names.push_back(c.StringArg(i).val);
  *c.out = *c.args[0];
  std::stable_sort(c.out->begin(), c.out->end(), [&](const Sample& x, const Sample& y) {
    for (const std::string& n : names) {
      std::string_view a = x.metric.Get(n), b = y.metric.Get(n);
      if (a == b) continue;
      return desc ? NaturalLess(b, a) : NaturalLess(a, b);
    }
    int cmp = model::Labels::Compare(x.metric, y.metric);
    return desc ? cmp > 0 : cmp < 0;
  });
}

}  // namespace

void RegisterSortFunctions(FunctionTable* t) {
  (*t)["sort"] = {[](FunctionCall& c) { SortByValue(c, false); }, true};
  (*t)["sort_desc"] = {[](FunctionCall& c) { SortByValue(c, true); }, true};
  (*t)["sort_by_label"] = {[](FunctionCall& c) { SortByLabel(c, false); }, true};
  (*t)["sort_by_label_desc"] = {[](FunctionCall& c) { SortByLabel(c, true); }, true};
}

}  // namespace kiln::promql
