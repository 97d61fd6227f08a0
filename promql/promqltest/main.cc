// promqltest: runs Prometheus-format PromQL test files against Kiln's engine.
//   promqltest [-v] [--skip=FILE] [--storage=head|memory] <file.test|dir>...
// Prints `file: N passed, M failed, K skipped` per file and a total line; exits 1 when any
// eval failed.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "promql/promqltest/runner.h"

namespace fs = std::filesystem;
using namespace kiln::promql;
using namespace kiln::promql::promqltest;

int main(int argc, char** argv) {
  std::string skip_path;
  bool verbose = false;
  StorageKind storage = StorageKind::kHead;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-v" || a == "--verbose") {
      verbose = true;
    } else if (a.rfind("--storage=", 0) == 0) {
      auto kind = ParseStorageKind(a.substr(10));
      if (!kind.ok()) {
        std::cerr << "promqltest: " << kind.status().message() << "\n";
        return 2;
      }
      storage = *kind;
    } else if (a.rfind("--skip=", 0) == 0) {
      skip_path = a.substr(7);
    } else if (fs::is_directory(a)) {
      std::vector<fs::path> in_dir;
      for (const auto& e : fs::directory_iterator(a)) {
        if (e.path().extension() == ".test") in_dir.push_back(e.path());
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (fs::exists(a)) {
      files.emplace_back(a);
    } else {
      std::cout << "promqltest: " << a << " not found, skipping\n";
    }
  }
  SkipList skips;
  if (!skip_path.empty()) {
    auto loaded = SkipList::Load(skip_path);
    if (!loaded.ok()) {
      std::cerr << loaded.status().ToString() << "\n";
      return 2;
    }
    skips = std::move(*loaded);
  }
  Engine engine(TestEngineOptions());
  FileResult total;
  for (const fs::path& p : files) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string name = p.filename().string();
    auto tf = ParseTestFile(name, ss.str());
    if (!tf.ok()) {
      std::cout << name << ": cannot parse: " << tf.status().message() << "\n";
      total.failed++;
      continue;
    }
    Runner runner(&engine, &skips, &std::cout, verbose, storage);
    FileResult r = runner.Run(*tf);
    std::cout << name << ": " << r.passed << " passed, " << r.failed << " failed, " << r.skipped
              << " skipped\n";
    total.passed += r.passed;
    total.failed += r.failed;
    total.skipped += r.skipped;
  }
  std::cout << total.passed << " passed, " << total.failed << " failed, " << total.skipped
            << " skipped\n";
  return total.failed > 0 ? 1 : 0;
}
