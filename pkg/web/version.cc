#include "pkg/web/version.h"

#include <nlohmann/json.hpp>

namespace kiln::web {

// KILN_VERSION, KILN_REVISION, KILN_BRANCH, KILN_BUILD_USER and KILN_BUILD_DATE are set by
// CMake at configure time.
const BuildInfo& GetBuildInfo() {
  static const BuildInfo info{KILN_VERSION,    KILN_REVISION,   KILN_BRANCH,
                              KILN_BUILD_USER, KILN_BUILD_DATE, "gcc " __VERSION__};
  return info;
}

std::string BuildInfo::ToJson() const {
  nlohmann::ordered_json j;
  j["version"] = version;
  j["revision"] = revision;
  j["branch"] = branch;
  j["buildUser"] = build_user;
  j["buildDate"] = build_date;
  j["goVersion"] = go_version;
  return j.dump();
}

std::string BuildInfo::ToText() const {
  return "kiln, version " + version + " (branch: " + branch + ", revision: " + revision +
         ")\n  build user:       " + build_user + "\n  build date:       " + build_date +
         "\n  compiler:         " + go_version + "\n  platform:         linux/amd64\n";
}

}  // namespace kiln::web
