#include "pkg/discovery/file_discoverer.h"

#include <glob.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

namespace kiln::discovery {
namespace {

bool HasSuffix(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0;
}

}  // namespace

FileDiscoverer::FileDiscoverer(config::FileSDConfig cfg, Logger logger)
    : cfg_(std::move(cfg)), logger_(std::move(logger)) {}

std::chrono::milliseconds FileDiscoverer::RefreshInterval() const {
  return std::chrono::milliseconds(cfg_.refresh_interval.millis());
}

std::vector<std::string> FileDiscoverer::ListFiles() const {
  std::set<std::string> paths;
  for (const std::string& pattern : cfg_.files) {
    glob_t g{};
    if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        std::string p = g.gl_pathv[i];
        if (HasSuffix(p, ".json") || HasSuffix(p, ".yml") || HasSuffix(p, ".yaml")) {
          paths.insert(std::move(p));
        }
      }
    }
    globfree(&g);
  }
  return {paths.begin(), paths.end()};
}

FileDiscoverer::Stamp FileDiscoverer::StatFile(const std::string& path) {
  struct stat st;
  Stamp out;
  if (stat(path.c_str(), &st) != 0) return out;
  out.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  out.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  out.size = static_cast<int64_t>(st.st_size);
  out.dev = static_cast<uint64_t>(st.st_dev);
  out.ino = static_cast<uint64_t>(st.st_ino);
  return out;
}

Status FileDiscoverer::ReadFile(const std::string& path, std::vector<TargetGroup>* out) const {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto groups = ParseTargetGroups(ss.str());
  if (!groups.ok()) return groups.status().Wrap(path);
  for (size_t i = 0; i < groups->size(); ++i) {
    TargetGroup& g = (*groups)[i];
    g.source = path + ":" + std::to_string(i);
    model::LabelsBuilder b(g.labels);
    b.Set("__meta_filepath", path);
    g.labels = b.Build();
  }
  *out = std::move(*groups);
  return Status::OK();
}

bool FileDiscoverer::Changed() {
  std::vector<std::string> paths = ListFiles();
  if (paths.size() != files_.size()) return true;
  for (const std::string& p : paths) {
    auto it = files_.find(p);
    if (it == files_.end() || it->second.stamp != StatFile(p)) return true;
  }
  return false;
}

Result<std::vector<TargetGroup>> FileDiscoverer::Refresh() {
  std::map<std::string, FileState> next;
  for (const std::string& p : ListFiles()) {
    FileState st;
    st.stamp = StatFile(p);
    auto old = files_.find(p);
    if (old != files_.end() && old->second.stamp == st.stamp) {
      next[p] = std::move(old->second);
      continue;
    }
    Status s = ReadFile(p, &st.groups);
    if (!s.ok()) {
      logger_.Error("Error reading file", {{"path", p}, {"err", s.message()}});
      if (old != files_.end()) st.groups = std::move(old->second.groups);
    }
    next[p] = std::move(st);
  }
  files_ = std::move(next);
  std::vector<TargetGroup> all;
  for (const auto& [path, st] : files_) all.insert(all.end(), st.groups.begin(), st.groups.end());
  return all;
}

}  // namespace kiln::discovery
