// info(v, {data label matchers}): enriches each series of `v` with the data labels of the
// info series (target_info by default) that share its identifying labels (instance, job),
// as of the same time the base selector looks at (honouring its `@` and offset).
#include <algorithm>
#include <map>
#include <set>

#include "promql/evaluator.h"
#include "promql/parser/functions.h"

namespace kiln::promql {

namespace {

constexpr std::string_view kTargetInfo = "target_info";
const std::vector<std::string> kIdentifyingLabels = {"instance", "job"};

// When the base expression looks at its data: the `@` time (if any) and the total offset
// along the path to its first selector, through enclosing subqueries.
struct RefShift {
  std::optional<int64_t> at;
  int64_t offset = 0;
};

RefShift FindRefShift(const parser::Expr& e) {
  RefShift shift;
  bool found = false;
  parser::Inspect(e, [&](const parser::Expr& n, const std::vector<const parser::Expr*>& path) {
    if (found || n.kind() != parser::Kind::kVectorSelector) return;
    found = true;
    for (const parser::Expr* p : path) {
      if (p->kind() != parser::Kind::kSubquery) continue;
      const auto& sq = p->As<parser::SubqueryExpr>();
      if (sq.timestamp) {
        shift.at = sq.timestamp;
        shift.offset = 0;
      }
      shift.offset += sq.original_offset;
    }
    const auto& vs = n.As<parser::VectorSelector>();
    if (vs.timestamp) {
      shift.at = vs.timestamp;
      shift.offset = 0;
    }
    shift.offset += vs.original_offset;
  });
  return shift;
}

bool AllMatch(const std::vector<model::Matcher>& ms, std::string_view v) {
  return std::all_of(ms.begin(), ms.end(), [&](const model::Matcher& m) { return m.Matches(v); });
}

std::string QuoteMeta(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// The info signature of `ls` for the info metric `name`: the name plus identifying labels.
std::string InfoSignature(std::string_view name, const model::Labels& ls) {
  std::string sig(name);
  for (const std::string& l : kIdentifyingLabels) {
    sig += '\xff';
    sig += ls.Get(l);
  }
  return sig;
}

struct InfoArgs {
  std::map<std::string, std::vector<model::Matcher>> data_matchers;  // by label name
  std::vector<model::Matcher> name_matchers;
};

InfoArgs ParseInfoArgs(const parser::Call& e) {
  InfoArgs a;
  if (e.args.size() > 1) {
    const auto& vs = Unwrap(*e.args[1]).As<parser::VectorSelector>();
    for (const model::Matcher& m : vs.matchers) {
      a.data_matchers[m.name()].push_back(m);
      if (m.name() == model::kMetricName) a.name_matchers.push_back(m);
    }
  } else {
    a.name_matchers.push_back(
        *model::Matcher::Make(model::MatchType::kEqual, model::kMetricName, kTargetInfo));
  }
  // Only negative name matchers: they narrow down the *_info metrics, not all metrics.
  bool positive = std::any_of(a.name_matchers.begin(), a.name_matchers.end(), [](const auto& m) {
    return m.type() == model::MatchType::kEqual || m.type() == model::MatchType::kRegexMatch;
  });
  if (!a.name_matchers.empty() && !positive) {
    a.name_matchers.push_back(
        *model::Matcher::Make(model::MatchType::kRegexMatch, model::kMetricName, ".+_info"));
  }
  return a;
}

// Adds the info series' data labels to `bs`; false when the series is to be dropped.
bool Enrich(const Sample& bs, const std::map<std::string, const Sample*>& info,
            const std::set<std::string>& info_names, const InfoArgs& a, Sample* out) {
  model::LabelsBuilder lb;
  bool seen = false;
  for (const std::string& name : info_names) {
    auto it = info.find(InfoSignature(name, bs.metric));
    if (it == info.end()) continue;
    for (const auto& l : it->second->metric) {
      if (l.name == model::kMetricName) continue;
      if (!a.data_matchers.empty() && !a.data_matchers.count(std::string(l.name))) continue;
      std::string_view cur = lb.Get(l.name);
      if (!cur.empty() && cur != l.value) {
        ThrowExecution("conflicting label: " + std::string(l.name));
      }
      if (bs.metric.Has(l.name)) continue;
      lb.Set(l.name, l.value);
    }
    seen = true;
  }
  if (!seen) {
    for (const auto& [name, ms] : a.data_matchers) {
      for (const model::Matcher& m : ms) {
        if (!m.Matches("")) return false;
      }
    }
  }
  model::LabelsBuilder res(bs.metric);
  lb.Range([&](std::string_view n, std::string_view v) { res.Set(n, v); });
  *out = Sample{res.Build(), bs.t, bs.f, nullptr, bs.drop_name};
  return true;
}

}  // namespace

Matrix Evaluator::EvalInfo(const parser::Call& e) {
  Matrix base = EvalMatrix(*e.args[0]);
  InfoArgs a = ParseInfoArgs(e);
  std::set<std::string> ignore;
  for (const Series& s : base) {
    std::string_view name = s.metric.MetricName();
    if (!a.name_matchers.empty() && AllMatch(a.name_matchers, name)) {
      ignore.insert(s.metric.data());
    }
  }
  std::map<std::string, std::set<std::string>> id_values;
  for (const Series& s : base) {
    if (ignore.count(s.metric.data())) continue;
    for (const std::string& l : kIdentifyingLabels) {
      std::string_view v = s.metric.Get(l);
      if (!v.empty()) id_values[l].insert(std::string(v));
    }
  }
  std::vector<model::Matcher> matchers;
  bool has_name = false;
  for (const auto& [name, values] : id_values) {
    std::string re;
    for (const std::string& v : values) re += (re.empty() ? "" : "|") + QuoteMeta(v);
    matchers.push_back(*model::Matcher::Make(model::MatchType::kRegexMatch, name, re));
  }
  for (const auto& [name, ms] : a.data_matchers) {
    for (const model::Matcher& m : ms) {
      has_name = has_name || name == model::kMetricName;
      matchers.push_back(m);
    }
  }
  a.data_matchers.erase(std::string(model::kMetricName));
  if (!has_name) {
    matchers.push_back(
        *model::Matcher::Make(model::MatchType::kEqual, model::kMetricName, kTargetInfo));
  }
  Matrix info;
  if (!id_values.empty()) {
    // Info series are read as of the same time as the base series.
    RefShift shift = FindRefShift(*e.args[0]);
    parser::VectorSelector vs;
    vs.matchers = matchers;
    vs.timestamp = shift.at;
    vs.original_offset = shift.offset;
    info = EvalVectorSelector(vs, true);
    std::erase_if(
        info, [&](const Series& s) { return !AllMatch(a.name_matchers, s.metric.MetricName()); });
  }
  std::set<std::string> info_names;
  for (const Series& s : info) info_names.emplace(s.metric.MetricName());
  return RangeEvalMatrices({&base, &info}, [&](const auto& v, int64_t, Vector* out) {
    if (v[0]->empty()) return;
    std::map<std::string, const Sample*> by_sig;
    for (const Sample& s : *v[1]) {
      std::string sig = InfoSignature(s.metric.MetricName(), s.metric);
      auto [it, inserted] = by_sig.emplace(sig, &s);
      if (inserted) continue;
      if (it->second->f < s.f) {
        it->second = &s;
      } else if (it->second->f == s.f) {
        ThrowExecution(
            "found duplicate series for info metric: existing " + it->second->metric.ToString() +
            " @ " + std::to_string(static_cast<int64_t>(it->second->f * 1000)) + ", new " +
            s.metric.ToString() + " @ " + std::to_string(static_cast<int64_t>(s.f * 1000)));
      }
    }
    for (const Sample& bs : *v[0]) {
      if (ignore.count(bs.metric.data())) {
        out->push_back(bs);
        continue;
      }
      Sample s;
      if (Enrich(bs, by_sig, info_names, a, &s)) out->push_back(std::move(s));
    }
  });
}

}  // namespace kiln::promql
