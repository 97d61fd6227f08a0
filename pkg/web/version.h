// Build information, as Prometheus reports it in --version, /version and
// /api/v1/status/buildinfo.
#pragma once

#include <string>

namespace kiln::web {

struct BuildInfo {
  std::string version;
  std::string revision;
  std::string branch;
  std::string build_user;
  std::string build_date;
  std::string go_version;  // Prometheus's field name; holds the C++ compiler here

  // {"version":…,"revision":…,"branch":…,"buildUser":…,"buildDate":…,"goVersion":…}
  std::string ToJson() const;
  // The multi-line text `kiln --version` prints.
  std::string ToText() const;
};

const BuildInfo& GetBuildInfo();

}  // namespace kiln::web
