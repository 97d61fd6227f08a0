// Helpers shared by the wlog tests: fresh temp directories, file surgery for fault injection
// and reading a whole WAL back. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "pkg/tsdb/wlog/reader.h"

namespace kiln::tsdb::wlog::testing {

// A directory removed when the object goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kiln-wlog-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// Deterministic bytes; `compressible` ones are a repeated phrase, the others random.
inline std::string MakeRecord(size_t n, uint32_t seed, bool compressible) {
  std::string s(n, '\0');
  std::mt19937 rng(seed);
  for (size_t i = 0; i < n; i++) {
    s[i] = compressible ? "kiln write-ahead log "[(i + seed) % 21] : static_cast<char>(rng());
  }
  return s;
}

// Where a record landed, as reported by the Reader.
struct Position {
  int segment;
  int64_t end;
};

struct ReadResult {
  std::vector<std::string> records;
  std::vector<Position> positions;
  Status status;
  CorruptionError corruption;
};

inline ReadResult ReadAll(const std::string& dir) {
  ReadResult out;
  auto r = Reader::Open({{dir, -1, -1}});
  if (!r.ok()) {
    out.status = r.status();
    return out;
  }
  while ((*r)->Next()) {
    out.records.emplace_back((*r)->Record());
    out.positions.push_back({(*r)->Segment(), (*r)->Offset()});
  }
  out.status = (*r)->err();
  out.corruption = (*r)->Corruption();
  return out;
}

}  // namespace kiln::tsdb::wlog::testing
