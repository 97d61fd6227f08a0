// Relabeling: rewriting a label set by an ordered list of rules, as Prometheus applies to
// targets (relabel_configs), scraped series (metric_relabel_configs), alerts and remote write.
//
// Semantics follow upstream's model/relabel exactly (see RelabelConfig::Validate for the
// configuration rules and Process for each action). Thread-safe: configs are immutable once
// validated and Process only reads them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/relabel/regex.h"
#include "pkg/util/result.h"

namespace kiln::relabel {

enum class Action {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};

// Lowercase name as written in YAML ("replace", "hashmod", …).
std::string_view ActionName(Action a);
// Case-insensitive; fails with `unknown relabel action "x"`.
Result<Action> ParseAction(std::string_view s);

// Which label names are valid targets: Prometheus 3.x accepts any non-empty UTF-8 string;
// `metric_name_validation_scheme: legacy` restores [a-zA-Z_][a-zA-Z0-9_]*.
enum class NameValidation { kUtf8, kLegacy };

bool IsValidLabelName(std::string_view name, NameValidation scheme);

struct RelabelConfig {
  std::vector<std::string> source_labels;
  std::string separator = ";";
  Regex regex = Regex::Default();
  uint64_t modulus = 0;
  std::string target_label;
  std::string replacement = "$1";
  Action action = Action::kReplace;
  NameValidation name_validation = NameValidation::kUtf8;

  // Upstream's per-action rules, with upstream's messages, e.g.
  // `relabel configuration for hashmod requires non-zero modulus`.
  Status Validate() const;
};

// Applies `configs` in order to `builder`. Returns false as soon as a rule drops the set
// (keep/drop/keepequal/dropequal); the builder is then in an unspecified state.
// REQUIRES: every config passed Validate().
bool ProcessBuilder(model::LabelsBuilder* builder, const std::vector<RelabelConfig>& configs);

// Returns the relabeled set, or nullopt when it was dropped.
std::optional<model::Labels> Process(const model::Labels& labels,
                                     const std::vector<RelabelConfig>& configs);

}  // namespace kiln::relabel
