// Helpers shared by the block tests: temp dirs, file reading, running promtool.
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace kiln::tsdb::block::testing {

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kiln_block_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string ReadFileOrEmpty(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string TestdataPath(const std::string& name) {
  return std::string(KILN_BLOCK_TESTDATA) + "/" + name;
}

inline bool HavePromtool() { return std::filesystem::exists("/usr/bin/promtool"); }

// Runs `cmd` through the shell; returns its stdout, and its exit status in *rc.
inline std::string RunCommand(const std::string& cmd, int* rc) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) {
    *rc = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  *rc = pclose(f);
  return out;
}

}  // namespace kiln::tsdb::block::testing
