// FileDiscoverer: file_sd_configs. Reads every file matching the configured globs (YAML when
// the name ends in .yml/.yaml, JSON for .json, as upstream; other names are ignored) and
// produces its groups with source "<path>:<index>" and the label __meta_filepath.
//
// Change detection polls the files' stat stamps (mtime, ctime, size, inode) and the glob
// results, so Changed() is true as soon as a file is written, created or removed. The mtime
// alone is not enough: the kernel stamps files with a coarse clock (a tick of 1-10 ms), so a
// file rewritten, or replaced by rename, within the tick of the read keeps its mtime. A file that
// fails to read or parse keeps its last good groups and the error is logged, as upstream. Used by
// one thread at a time.
#pragma once

#include <cstdint>
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
  // What stat() says about a file's version; all-zero when it cannot be stat'ed.
  struct Stamp {
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    int64_t size = 0;
    uint64_t dev = 0;
    uint64_t ino = 0;
    bool operator==(const Stamp&) const = default;
  };
  struct FileState {
    Stamp stamp;
    std::vector<TargetGroup> groups;
  };
  // Paths currently matching the globs, sorted.
  std::vector<std::string> ListFiles() const;
  static Stamp StatFile(const std::string& path);
  Status ReadFile(const std::string& path, std::vector<TargetGroup>* out) const;

  const config::FileSDConfig cfg_;
  const Logger logger_;
  std::map<std::string, FileState> files_;  // by path
};

}  // namespace kiln::discovery
