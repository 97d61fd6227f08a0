#include "pkg/relabel/regex.h"

#include <re2/re2.h>

#include "pkg/model/regex_error.h"

namespace kiln::relabel {
namespace {

bool IsWordByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// One `$` reference parsed from a template, as Go's regexp extract() does: `name` is the
// longest run of word characters (optionally in braces); `num` is its value when it is a
// decimal number without leading zeros, else -1.
struct Reference {
  std::string_view name;
  int num = -1;
  size_t consumed = 0;  // bytes after the `$`
};

bool ExtractReference(std::string_view s, Reference* ref) {
  bool brace = !s.empty() && s[0] == '{';
  size_t start = brace ? 1 : 0;
  size_t i = start;
  while (i < s.size() && IsWordByte(s[i])) ++i;
  if (i == start) return false;
  ref->name = s.substr(start, i - start);
  if (brace) {
    if (i >= s.size() || s[i] != '}') return false;
    ++i;
  }
  ref->consumed = i;
  ref->num = 0;
  for (char c : ref->name) {
    if (c < '0' || c > '9' || ref->num >= 100000000) {
      ref->num = -1;
      break;
    }
    ref->num = ref->num * 10 + (c - '0');
  }
  if (ref->name.size() > 1 && ref->name[0] == '0') ref->num = -1;
  return true;
}

}  // namespace

Result<Regex> Regex::Compile(std::string_view pattern) {
  RE2::Options opts;
  opts.set_log_errors(false);
  std::string wrapped = "(?s:" + std::string(pattern) + ")";
  auto re = std::make_shared<const RE2>(wrapped, opts);
  if (!re->ok()) {
    return Status::BadData(model::RegexErrorMessage(*re, pattern, "(?s:", ")"));
  }
  Regex r;
  r.pattern_ = std::string(pattern);
  r.re_ = std::move(re);
  return r;
}

const Regex& Regex::Default() {
  static const Regex* def = new Regex(Compile("(.*)").value());
  return *def;
}

bool Regex::Match(std::string_view s) const {
  re2::StringPiece text(s.data(), s.size());
  return re_->Match(text, 0, s.size(), RE2::ANCHOR_BOTH, nullptr, 0);
}

bool Regex::Submatches(std::string_view s, std::vector<std::string_view>* groups) const {
  int n = re_->NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> pieces(n);
  re2::StringPiece text(s.data(), s.size());
  if (!re_->Match(text, 0, s.size(), RE2::ANCHOR_BOTH, pieces.data(), n)) return false;
  groups->clear();
  for (const auto& p : pieces) groups->emplace_back(p.data(), p.size());
  return true;
}

int Regex::GroupIndex(std::string_view name) const {
  const auto& named = re_->NamedCapturingGroups();
  auto it = named.find(std::string(name));
  return it == named.end() ? -1 : it->second;
}

void Regex::Expand(std::string_view tmpl, const std::vector<std::string_view>& groups,
                   std::string* out) const {
  while (!tmpl.empty()) {
    size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) {
      out->append(tmpl);
      return;
    }
    out->append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out->push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    Reference ref;
    if (!ExtractReference(tmpl, &ref)) {
      out->push_back('$');  // malformed: Go keeps the `$` as text
      continue;
    }
    tmpl.remove_prefix(ref.consumed);
    int idx = ref.num >= 0 ? ref.num : GroupIndex(ref.name);
    if (idx >= 0 && static_cast<size_t>(idx) < groups.size()) out->append(groups[idx]);
  }
}

}  // namespace kiln::relabel
