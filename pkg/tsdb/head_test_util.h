// Helpers shared by the head tests: temp dirs and reading a SeriesSet back into vectors.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "pkg/model/value.h"
#include "pkg/storage/querier.h"

namespace kiln::tsdb::testing {

// A fresh directory removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kiln-head-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

using SeriesSamples = std::map<std::string, std::vector<model::Sample>>;

// Reads every series of `set` (labels printed as Prometheus does) with all its samples.
inline SeriesSamples ReadAll(storage::SeriesSet* set) {
  SeriesSamples out;
  while (set->Next()) {
    auto it = set->At().Iterator();
    auto& samples = out[set->At().labels().ToString()];
    while (it->Next() != chunkenc::ValueType::kNone) {
      auto [t, v] = it->At();
      samples.push_back({t, v});
    }
    EXPECT_TRUE(it->err().ok()) << it->err().ToString();
  }
  EXPECT_TRUE(set->err().ok()) << set->err().ToString();
  return out;
}

}  // namespace kiln::tsdb::testing
