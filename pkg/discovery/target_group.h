// Target groups: what every service discovery mechanism produces (upstream targetgroup.Group).
//
// A group is a list of targets (label sets, each holding at least __address__) plus labels
// shared by all of them, identified by a `source` string unique within its provider. Plain
// value type (thread-compatible).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/util/result.h"

namespace kiln::discovery {

struct TargetGroup {
  std::string source;
  std::vector<model::Labels> targets;
  model::Labels labels;

  friend bool operator==(const TargetGroup&, const TargetGroup&) = default;
};

// Parses the file_sd / http_sd document, a list of {targets: [host:port…], labels: {…}}, in
// YAML or JSON (JSON is read as YAML). Unknown keys, non-string targets, invalid label names and
// non-UTF-8 values are errors, as upstream. Groups get no source; callers set it.
Result<std::vector<TargetGroup>> ParseTargetGroups(std::string_view text);

}  // namespace kiln::discovery
