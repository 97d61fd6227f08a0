#include "cmd/kiln/tsdb_admin.h"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <random>

namespace kiln {

std::string SnapshotName() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char when[32];
  std::strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &utc);
  std::random_device rd;
  const uint64_t r = ((static_cast<uint64_t>(rd()) << 32) | rd()) >> 1;  // like rand.Int63
  char name[64];
  std::snprintf(name, sizeof name, "%s-%016llx", when, static_cast<unsigned long long>(r));
  return name;
}

Result<tsdb::DB*> KilnTsdbAdmin::db() const {
  tsdb::DB* db = db_.load(std::memory_order_acquire);
  if (db == nullptr) return Status::Unavailable("TSDB not ready");
  return db;
}

Result<std::string> KilnTsdbAdmin::Snapshot(bool skip_head) {
  KILN_ASSIGN_OR_RETURN(tsdb::DB * db, db());
  const std::string name = SnapshotName();
  const std::filesystem::path dir = std::filesystem::path(data_dir_) / "snapshots" / name;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("create snapshot directory: " + ec.message());
  KILN_RETURN_IF_ERROR(db->Snapshot(dir.string(), !skip_head));
  return name;
}

Status KilnTsdbAdmin::DeleteSeries(int64_t mint, int64_t maxt,
                                   const std::vector<model::Matcher>& matchers) {
  KILN_ASSIGN_OR_RETURN(tsdb::DB * db, db());
  return db->Delete(mint, maxt, matchers);
}

Status KilnTsdbAdmin::CleanTombstones() {
  KILN_ASSIGN_OR_RETURN(tsdb::DB * db, db());
  return db->CleanTombstones();
}

}  // namespace kiln
