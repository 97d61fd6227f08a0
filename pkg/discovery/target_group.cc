#include "pkg/discovery/target_group.h"

#include <yaml-cpp/yaml.h>

#include <string>

#include "pkg/util/utf8.h"

namespace kiln::discovery {
namespace {

Status ParseLabels(const YAML::Node& n, model::Labels* out) {
  if (!n || n.IsNull()) return Status::OK();
  if (!n.IsMap()) return Status::BadData("labels must be a mapping");
  std::vector<model::Label> labels;
  for (const auto& kv : n) {
    if (!kv.second.IsScalar()) return Status::BadData("label values must be strings");
    std::string name = kv.first.as<std::string>();
    std::string value = kv.second.as<std::string>();
    if (name.empty() || !IsValidUtf8(name)) {
      return Status::BadData("\"" + name + "\" is not a valid label name");
    }
    if (!IsValidUtf8(value)) return Status::BadData("\"" + value + "\" is not a valid label value");
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
