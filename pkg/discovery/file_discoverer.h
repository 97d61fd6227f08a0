// FileDiscoverer: file_sd_configs. Reads every file matching the configured globs (YAML when
// the name ends in .yml/.yaml, JSON for .json, as upstream; other names are ignored) and
// produces its groups with source "<path>:<index>" and the label __meta_filepath.
//
// Change detection polls the files' mtimes and the glob results, so Changed() is true as soon
// as a file is written, created or removed. A file that fails to read or parse keeps its last
// good groups and the error is logged, as upstream. Used by one thread at a time.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pkg/config/sd_config.h"
#include "pkg/discovery/discoverer.h"
#include "pkg/util/logger.h"

namespace kiln::discovery {

class FileDiscoverer final : public Discoverer {
 public:
  FileDiscoverer(config::FileSDConfig cfg, Logger logger);

  Result<std::vector<TargetGroup>> Refresh() override;
  std::chrono::milliseconds RefreshInterval() const override;
  bool Changed() override;

 private:
  struct FileState {
    int64_t mtime_ns = -1;
    std::vector<TargetGroup> groups;
  };
  // Paths currently matching the globs, sorted.
  std::vector<std::string> ListFiles() const;
  // Mtime in ns, or -1 when the file cannot be stat'ed.
  static int64_t MTime(const std::string& path);
  Status ReadFile(const std::string& path, std::vector<TargetGroup>* out) const;

  const config::FileSDConfig cfg_;
  const Logger logger_;
  std::map<std::string, FileState> files_;  // by path
};

}  // namespace kiln::discovery
