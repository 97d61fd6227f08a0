// Runs parsed .test files against the Kiln engine and the head (see TestStorage), checking
// results and annotations as upstream's promqltest does (including the `@`-modifier
// variants and the range-mode re-check of instant queries).
// Not thread-safe; one Runner per thread.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "promql/engine.h"
#include "promql/promqltest/test_file.h"
#include "promql/promqltest/test_storage.h"

namespace kiln::promql::promqltest {

// Evals skipped on purpose, read from skip.txt: lines `<file>:<line> <reason>`; `#` starts
// a comment.
class SkipList {
 public:
  static Result<SkipList> Load(const std::string& path);
  // The reason `file:line` is skipped, or empty when it is not.
  std::string Reason(std::string_view file, int line) const;
  void Add(std::string file, int line, std::string reason) {
    entries_.push_back({std::move(file), line, std::move(reason)});
  }

 private:
  struct Entry {
    std::string file;
    int line;
    std::string reason;
  };
  std::vector<Entry> entries_;
};

struct FileResult {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
};

// The engine options upstream's test runner uses: everything experimental on, lookback 5m,
// at most 10000 samples per query, delayed name removal, 1m default subquery step.
EngineOptions TestEngineOptions();

class Runner {
 public:
  // With `verbose`, skipped evals are listed with their reasons too.
  Runner(const Engine* engine, const SkipList* skips, std::ostream* log, bool verbose = false,
         StorageKind storage = StorageKind::kHead)
      : engine_(engine), skips_(skips), log_(log), verbose_(verbose), storage_(storage) {}

  // Runs every command of `file`; failures are printed to the log.
  FileResult Run(const TestFile& file);

 private:
  Status Load(const LoadCmd& cmd);
  // Empty when the eval passed, else a description of the failure.
  std::string RunEval(const EvalCmd& cmd);
  std::string RunInstant(const EvalCmd& cmd, parser::ExprPtr expr, int64_t ts);
  std::string RunRange(const EvalCmd& cmd);
  // Why the eval is skipped automatically (it reads native histograms), or empty.
  std::string AutoSkipReason(const EvalCmd& cmd) const;

  const Engine* engine_;
  const SkipList* skips_;
  std::ostream* log_;
  bool verbose_;
  TestStorage storage_;
  // Series whose data Kiln cannot hold yet (native histograms, start timestamps), with the
  // reason; evals selecting them are skipped.
  struct Unsupported {
    model::Labels labels;
    std::string reason;
  };
  std::vector<Unsupported> unsupported_;
};

}  // namespace kiln::promql::promqltest
