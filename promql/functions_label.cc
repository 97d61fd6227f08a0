// label_replace() and label_join(): they rewrite whole series, so they run once per series
// of their evaluated argument rather than per step.
#include <re2/re2.h>

#include <map>

#include "promql/evaluator.h"
#include "promql/parser/functions.h"

namespace kiln::promql {

namespace {

bool IsValidUtf8LabelName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (int k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

// Go's Regexp.ExpandString: $n, ${n}, $name, ${name}, $$; unknown or unmatched → "".
std::string Expand(const re2::RE2& re, std::string_view tmpl,
                   const std::vector<re2::StringPiece>& groups) {
  std::string out;
  const auto& named = re.NamedCapturingGroups();
  auto is_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] != '$' || i + 1 >= tmpl.size()) {
      out.push_back(tmpl[i++]);
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out.push_back('$');
      i += 2;
      continue;
    }
    std::string name;
    size_t j = i + 1;
    if (tmpl[j] == '{') {
      size_t close = tmpl.find('}', j);
      if (close == std::string_view::npos) {
        out.push_back(tmpl[i++]);
        continue;
      }
      name = std::string(tmpl.substr(j + 1, close - j - 1));
      bool ok = !name.empty();
      for (char c : name) ok = ok && is_name(c);
      if (!ok) {
        out.push_back(tmpl[i++]);
        continue;
      }
      j = close + 1;
    } else {
      while (j < tmpl.size() && is_name(tmpl[j])) name.push_back(tmpl[j++]);
      if (name.empty()) {
        out.push_back(tmpl[i++]);
        continue;
      }
    }
    i = j;
    int idx = -1;
    bool numeric = std::all_of(name.begin(), name.end(), [](char c) { return std::isdigit(c); });
    if (numeric) {
      idx = name.size() < 9 ? std::stoi(name) : -1;
    } else if (auto it = named.find(name); it != named.end()) {
      idx = it->second;
    }
    if (idx >= 0 && idx < static_cast<int>(groups.size()) && groups[idx].data() != nullptr) {
      out.append(groups[idx].data(), groups[idx].size());
    }
  }
  return out;
}

// Combines series that became equal, failing if they overlap in time.
Matrix MergeEqualSeries(Matrix in) {
  std::map<std::string, size_t> index;
  Matrix out;
  for (Series& s : in) {
    auto [it, inserted] = index.try_emplace(s.metric.data(), out.size());
    if (inserted) {
      out.push_back(std::move(s));
      continue;
    }
    Series& dst = out[it->second];
    std::vector<FPoint> merged;
    std::merge(dst.floats.begin(), dst.floats.end(), s.floats.begin(), s.floats.end(),
               std::back_inserter(merged),
               [](const FPoint& a, const FPoint& b) { return a.t < b.t; });
    for (size_t i = 1; i < merged.size(); ++i) {
      if (merged[i].t == merged[i - 1].t)
        ThrowExecution("vector cannot contain metrics with the same labelset");
    }
    dst.floats = std::move(merged);
  }
  return out;
}

}  // namespace

Matrix Evaluator::EvalLabelFunction(const parser::Call& e) {
  bool replace = e.func->name == "label_replace";
  auto str = [&](size_t i) { return Unwrap(*e.args[i]).As<parser::StringLiteral>().val; };
  std::string dst = str(1);
  std::unique_ptr<re2::RE2> re;
  if (replace) {
    re2::RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_dot_nl(true);
    re = std::make_unique<re2::RE2>("^(?:" + str(4) + ")$", opts);
    if (!re->ok()) {
      ThrowExecution("invalid regular expression in label_replace(): " + str(4));
    }
  }
  if (!IsValidUtf8LabelName(dst)) {
    ThrowExecution(std::string("invalid destination label name in ") +
                   (replace ? "label_replace" : "label_join") + "(): " + dst);
  }
  Matrix m = EvalMatrix(*e.args[0]);
  for (Series& s : m) {
    std::string value;
    bool set = true;
    if (replace) {
      std::string src(s.metric.Get(str(3)));
      std::vector<re2::StringPiece> groups(static_cast<size_t>(re->NumberOfCapturingGroups()) + 1);
      set = re->Match(src, 0, src.size(), re2::RE2::UNANCHORED, groups.data(),
                      static_cast<int>(groups.size()));
      if (set) value = Expand(*re, str(2), groups);
    } else {
      for (size_t i = 3; i < e.args.size(); ++i) {
        if (i > 3) value += str(2);
        value += s.metric.Get(str(i));
      }
    }
    if (!set) continue;
    model::LabelsBuilder b(s.metric);
    b.Set(dst, value);
    s.metric = b.Build();
    if (dst == model::kMetricName) s.drop_name = false;
  }
  return MergeEqualSeries(std::move(m));
}

}  // namespace kiln::promql
