#include "pkg/discovery/target_group.h"

#include <yaml-cpp/yaml.h>

#include <string>

namespace kiln::discovery {
namespace {

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

Status ParseLabels(const YAML::Node& n, model::Labels* out) {
  if (!n || n.IsNull()) return Status::OK();
  if (!n.IsMap()) return Status::BadData("labels must be a mapping");
  std::vector<model::Label> labels;
  for (const auto& kv : n) {
    if (!kv.second.IsScalar()) return Status::BadData("label values must be strings");
    std::string name = kv.first.as<std::string>();
    std::string value = kv.second.as<std::string>();
    if (name.empty() || !ValidUtf8(name)) {
      return Status::BadData("\"" + name + "\" is not a valid label name");
    }
    if (!ValidUtf8(value)) return Status::BadData("\"" + value + "\" is not a valid label value");
    labels.push_back({std::move(name), std::move(value)});
  }
  *out = model::Labels::FromVector(std::move(labels));
  return Status::OK();
}

Status ParseGroup(const YAML::Node& n, TargetGroup* g) {
  if (!n.IsMap()) return Status::BadData("target group must be a mapping");
  for (const auto& kv : n) {
    std::string key = kv.first.as<std::string>();
    if (key != "targets" && key != "labels") {
      return Status::BadData("field " + key + " not found in type struct");
    }
  }
  KILN_RETURN_IF_ERROR(ParseLabels(n["labels"], &g->labels));
  const YAML::Node targets = n["targets"];
  if (!targets || targets.IsNull()) return Status::OK();
  if (!targets.IsSequence()) return Status::BadData("targets must be a list");
  for (const auto& t : targets) {
    if (!t.IsScalar()) return Status::BadData("targets must be strings");
    g->targets.push_back(model::Labels{{"__address__", t.as<std::string>()}});
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<TargetGroup>> ParseTargetGroups(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Status::BadData(e.what());
  }
  std::vector<TargetGroup> groups;
  if (!root || root.IsNull()) return groups;
  if (!root.IsSequence()) return Status::BadData("expected a list of target groups");
  for (const auto& n : root) {
    TargetGroup g;
    try {
      KILN_RETURN_IF_ERROR(ParseGroup(n, &g));
    } catch (const YAML::Exception& e) {
      return Status::BadData(e.what());
    }
    groups.push_back(std::move(g));
  }
  return groups;
}

}  // namespace kiln::discovery
