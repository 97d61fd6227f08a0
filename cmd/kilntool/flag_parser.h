// Flag parsing in the style of promtool's (kingpin): `--name=value` or `--name value`,
// boolean `--name` / `--no-name`, positional arguments in order.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "pkg/util/result.h"

namespace kiln::tool {

struct ParsedFlags {
  std::map<std::string, std::vector<std::string>> values;  // by flag name, in order
  std::vector<std::string> positional;

  bool Has(const std::string& name) const { return values.count(name) > 0; }
  // The last value given for `name`, or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback) const;
};

// `value_flags` take a value; `bool_flags` don't. Anything else starting with "--" is an
// error naming the flag, as kingpin's "unknown long flag '--x'".
Result<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                               const std::set<std::string>& value_flags,
                               const std::set<std::string>& bool_flags);

}  // namespace kiln::tool
