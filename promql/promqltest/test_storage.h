// The storage a .test file loads into. By default Kiln's real head (no WAL, chunks in
// memory), so every corpus eval also exercises the head's postings, querier and chunk
// iterators; MemoryStorage (a plain sorted map) remains selectable to tell an engine bug
// from a storage bug (`promqltest --storage=memory`).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/model/value.h"
#include "pkg/storage/querier.h"
#include "pkg/tsdb/head.h"
#include "pkg/util/result.h"
#include "promql/promqltest/memory_storage.h"

namespace kiln::promql::promqltest {

enum class StorageKind { kHead, kMemory };

// "head" or "memory".
Result<StorageKind> ParseStorageKind(std::string_view name);

class TestStorage final : public storage::Queryable {
 public:
  explicit TestStorage(StorageKind kind) : kind_(kind) {}

  // Appends samples (in time order) to the series `labels`. An error is an append the
  // storage refused (upstream's runner fails the test file on it, and so do we).
  Status Add(const model::Labels& labels, const std::vector<model::Sample>& samples);
  // Drops every series (the `clear` command).
  Status Clear();

  Result<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint, int64_t maxt) override;

 private:
  Status EnsureOpen();

  const StorageKind kind_;
  MemoryStorage memory_;
  std::unique_ptr<tsdb::Head> head_;  // opened lazily, replaced on Clear
};

}  // namespace kiln::promql::promqltest
