// KilnTsdbAdmin: the admin API's storage operations (--web.enable-admin-api) on the DB:
// snapshots under <data>/snapshots/<UTC time>-<16 hex digits> (Prometheus's naming), series
// deletion through tombstones, and tombstone cleanup. The web server registers it before
// storage is open; until SetDB the operations answer unavailable. Thread-safe (the DB
// serialises the operations themselves).
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "pkg/tsdb/db.h"
#include "web/api/v1/sources.h"

namespace kiln {

class KilnTsdbAdmin final : public web::api::v1::TsdbAdmin {
 public:
  explicit KilnTsdbAdmin(std::string data_dir) : data_dir_(std::move(data_dir)) {}

  // `db` must outlive every later call.
  void SetDB(tsdb::DB* db) { db_.store(db, std::memory_order_release); }

  Result<std::string> Snapshot(bool skip_head) override;
  Status DeleteSeries(int64_t mint, int64_t maxt,
                      const std::vector<model::Matcher>& matchers) override;
  Status CleanTombstones() override;

 private:
  Result<tsdb::DB*> db() const;

  const std::string data_dir_;
  std::atomic<tsdb::DB*> db_{nullptr};
};

// "20171210T211224Z-2be650b6d019eb54": Go's time format 20060102T150405Z0700 in UTC and a
// random non-negative 63-bit number as 16 hex digits, as Prometheus names snapshots.
std::string SnapshotName();

}  // namespace kiln
