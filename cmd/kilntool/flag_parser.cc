#include "cmd/kilntool/flag_parser.h"

namespace kiln::tool {

std::string ParsedFlags::Get(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() || it->second.empty() ? fallback : it->second.back();
}

Result<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                               const std::set<std::string>& value_flags,
                               const std::set<std::string>& bool_flags) {
  ParsedFlags out;
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& a = args[i];
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
      out.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (value_flags.count(name)) {
      if (!has_value) {
        if (i + 1 >= args.size()) return Status::BadData("expected argument for flag '--" + name + "'");
        value = args[++i];
      }
      out.values[name].push_back(value);
    } else if (bool_flags.count(name) && !has_value) {
      out.values[name].push_back("true");
    } else if (name.rfind("no-", 0) == 0 && bool_flags.count(name.substr(3)) && !has_value) {
      out.values[name.substr(3)].push_back("false");
    } else {
      return Status::BadData("unknown long flag '--" + name + "'");
    }
  }
  return out;
}

}  // namespace kiln::tool
