#include "pkg/relabel/relabel.h"

#include <openssl/evp.h>
#include <re2/re2.h>

#include <array>
#include <cctype>

#include "pkg/util/utf8.h"

namespace kiln::relabel {
namespace {

constexpr std::array<std::pair<std::string_view, Action>, 11> kActions = {{
    {"replace", Action::kReplace},
    {"keep", Action::kKeep},
    {"drop", Action::kDrop},
    {"keepequal", Action::kKeepEqual},
    {"dropequal", Action::kDropEqual},
    {"hashmod", Action::kHashMod},
    {"labelmap", Action::kLabelMap},
    {"labeldrop", Action::kLabelDrop},
    {"labelkeep", Action::kLabelKeep},
    {"lowercase", Action::kLowercase},
    {"uppercase", Action::kUppercase},
}};

// Upstream's relabelTargetLegacy: a legacy label name in which `$var` / `${var}` may appear.
bool IsValidLegacyTemplate(std::string_view s) {
  static const RE2* re = new RE2(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return RE2::FullMatch(re2::StringPiece(s.data(), s.size()), *re);
}

bool IsValidTemplateName(std::string_view s, NameValidation scheme) {
  return scheme == NameValidation::kLegacy ? IsValidLegacyTemplate(s) : IsValidLabelName(s, scheme);
}

std::string Quote(std::string_view s) {
  std::string out;
  model::AppendGoQuoted(&out, s);
  return out;
}

bool HasVar(std::string_view s) { return s.find('$') != std::string_view::npos; }

uint64_t HashMod(std::string_view val, uint64_t modulus) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(val.data(), val.size(), digest.data(), &len, EVP_md5(), nullptr);
  // Upstream keeps only the last 8 bytes of the MD5 sum, read big-endian.
  uint64_t h = 0;
  for (int i = 8; i < 16; ++i) h = (h << 8) | digest[i];
  return h % modulus;
}

std::string MapCase(std::string_view s, bool upper) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                : std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

void ApplyReplace(const RelabelConfig& cfg, const std::string& val, model::LabelsBuilder* lb) {
  // Fast path for plain "set label to constant" / "delete label" rules.
  if (val.empty() && cfg.regex.IsDefault() && !HasVar(cfg.target_label) &&
      !HasVar(cfg.replacement)) {
    lb->Set(cfg.target_label, cfg.replacement);
    return;
  }
  std::vector<std::string_view> groups;
  if (!cfg.regex.Submatches(val, &groups)) return;
  std::string target;
  cfg.regex.Expand(cfg.target_label, groups, &target);
  if (!IsValidLabelName(target, cfg.name_validation)) return;
  std::string res;
  cfg.regex.Expand(cfg.replacement, groups, &res);
  if (res.empty()) {
    lb->Del(target);
  } else {
    lb->Set(target, res);
  }
}

// labelmap / labeldrop / labelkeep iterate over a snapshot, as upstream's Builder.Range does,
// so edits made while iterating do not affect which labels are visited.
void ApplyLabelRules(const RelabelConfig& cfg, model::LabelsBuilder* lb) {
  std::vector<model::Label> snapshot;
  lb->Range([&](std::string_view n, std::string_view v) {
    snapshot.push_back({std::string(n), std::string(v)});
  });
  std::vector<std::string_view> groups;
  for (const auto& l : snapshot) {
    bool match = cfg.regex.Match(l.name);
    switch (cfg.action) {
      case Action::kLabelMap:
        if (match && cfg.regex.Submatches(l.name, &groups)) {
          std::string name;
          cfg.regex.Expand(cfg.replacement, groups, &name);
          lb->Set(name, l.value);
        }
        break;
      case Action::kLabelDrop:
        if (match) lb->Del(l.name);
        break;
      default:  // kLabelKeep
        if (!match) lb->Del(l.name);
        break;
    }
  }
}

bool Apply(const RelabelConfig& cfg, model::LabelsBuilder* lb) {
  std::string val;
  for (size_t i = 0; i < cfg.source_labels.size(); ++i) {
    if (i > 0) val += cfg.separator;
    val += lb->Get(cfg.source_labels[i]);
  }
  switch (cfg.action) {
    case Action::kDrop:
      return !cfg.regex.Match(val);
    case Action::kKeep:
      return cfg.regex.Match(val);
    case Action::kDropEqual:
      return lb->Get(cfg.target_label) != val;
    case Action::kKeepEqual:
      return lb->Get(cfg.target_label) == val;
    case Action::kReplace:
      ApplyReplace(cfg, val, lb);
      return true;
    case Action::kLowercase:
    case Action::kUppercase:
      lb->Set(cfg.target_label, MapCase(val, cfg.action == Action::kUppercase));
      return true;
    case Action::kHashMod:
      lb->Set(cfg.target_label, std::to_string(HashMod(val, cfg.modulus)));
      return true;
    case Action::kLabelMap:
    case Action::kLabelDrop:
    case Action::kLabelKeep:
      ApplyLabelRules(cfg, lb);
      return true;
  }
  return true;
}

}  // namespace

std::string_view ActionName(Action a) {
  for (const auto& [name, act] : kActions) {
    if (act == a) return name;
  }
  return "replace";
}

Result<Action> ParseAction(std::string_view s) {
  std::string lower = MapCase(s, false);
  for (const auto& [name, act] : kActions) {
    if (name == lower) return act;
  }
  return Status::BadData("unknown relabel action " + Quote(s));
}

bool IsValidLabelName(std::string_view name, NameValidation scheme) {
  if (name.empty()) return false;
  if (scheme == NameValidation::kLegacy) return model::IsValidLegacyLabelName(name);
  return IsValidUtf8(name);
}

Status RelabelConfig::Validate() const {
  const Action a = action;
  const std::string act(ActionName(a));
  auto invalid_target = [&] {
    return Status::BadData(Quote(target_label) + " is invalid 'target_label' for " + act +
                           " action");
  };
  if (a == Action::kHashMod && modulus == 0) {
    return Status::BadData("relabel configuration for hashmod requires non-zero modulus");
  }
  const bool needs_target = a == Action::kReplace || a == Action::kHashMod ||
                            a == Action::kLowercase || a == Action::kUppercase ||
                            a == Action::kKeepEqual || a == Action::kDropEqual;
  if (needs_target && target_label.empty()) {
    return Status::BadData("relabel configuration for " + act +
                           " action requires 'target_label' value");
  }
  if (a == Action::kReplace) {
    bool ok = HasVar(target_label) ? IsValidTemplateName(target_label, name_validation)
                                   : IsValidLabelName(target_label, name_validation);
    if (!ok) return invalid_target();
  }
  const bool case_or_equal = a == Action::kLowercase || a == Action::kUppercase ||
                             a == Action::kKeepEqual || a == Action::kDropEqual;
  if (case_or_equal && !IsValidLabelName(target_label, name_validation)) {
    return invalid_target();
  }
  if (case_or_equal && replacement != "$1") {
    return Status::BadData("'replacement' can not be set for " + act + " action");
  }
  if (a == Action::kLabelMap && !IsValidTemplateName(replacement, name_validation)) {
    return Status::BadData(Quote(replacement) + " is invalid 'replacement' for " + act + " action");
  }
  if (a == Action::kHashMod && !IsValidLabelName(target_label, name_validation)) {
    return invalid_target();
  }
  if ((a == Action::kKeepEqual || a == Action::kDropEqual) &&
      (!regex.IsDefault() || modulus != 0 || separator != ";" || replacement != "$1")) {
    return Status::BadData(act +
                           " action requires only 'source_labels' and `target_label`, and no "
                           "other fields");
  }
  if ((a == Action::kLabelDrop || a == Action::kLabelKeep) &&
      (!source_labels.empty() || !target_label.empty() || modulus != 0 || separator != ";" ||
       replacement != "$1")) {
    return Status::BadData(act + " action requires only 'regex', and no other fields");
  }
  return Status::OK();
}

bool ProcessBuilder(model::LabelsBuilder* builder, const std::vector<RelabelConfig>& configs) {
  for (const auto& cfg : configs) {
    if (!Apply(cfg, builder)) return false;
  }
  return true;
}

std::optional<model::Labels> Process(const model::Labels& labels,
                                     const std::vector<RelabelConfig>& configs) {
  model::LabelsBuilder lb(labels);
  if (!ProcessBuilder(&lb, configs)) return std::nullopt;
  return lb.Build();
}

}  // namespace kiln::relabel
