// Tombstones: per-series deleted time intervals of a block, and their on-disk file
// (upstream tsdb/docs/format/tombstones.md): magic 0x0130BA30 (4 BE), version 1, then one
// (series ref uvarint, mint varint, maxt varint) entry per interval, then a CRC32C (4 BE)
// over the entries (not the version byte, as upstream).
//
// Not thread-safe: a block's tombstones are built once and then only read.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/util/result.h"

namespace kiln::tsdb::block {

inline constexpr uint32_t kTombstonesMagic = 0x0130BA30;
inline constexpr char kTombstonesFilename[] = "tombstones";

// A closed interval [mint, maxt] of deleted timestamps.
struct Interval {
  int64_t mint = 0;
  int64_t maxt = 0;
  bool Contains(int64_t t) const { return mint <= t && t <= maxt; }
  friend bool operator==(const Interval&, const Interval&) = default;
};

// Sorted, non-overlapping, non-adjacent intervals.
using Intervals = std::vector<Interval>;

// Adds `iv` to `ivs`, merging it with intervals it overlaps or touches.
void AddInterval(Intervals* ivs, Interval iv);
// Whether `t` lies in one of `ivs`.
bool IsDeleted(const Intervals& ivs, int64_t t);

class Tombstones {
 public:
  void Add(uint64_t ref, Interval iv) { AddInterval(&stones_[ref], iv); }
  // The intervals of `ref`, or nullptr when it has none.
  const Intervals* Get(uint64_t ref) const;
  bool empty() const { return stones_.empty(); }
  // The number of intervals over all series (meta.json's numTombstones).
  uint64_t NumIntervals() const;
  const std::map<uint64_t, Intervals>& all() const { return stones_; }

  std::string Encode() const;
  static Result<Tombstones> Decode(std::string_view file);

  // Reads <dir>/tombstones; a missing file means no tombstones, as upstream.
  static Result<Tombstones> ReadDir(const std::string& dir);
  // Writes <dir>/tombstones atomically.
  Status WriteDir(const std::string& dir) const;

 private:
  std::map<uint64_t, Intervals> stones_;
};

}  // namespace kiln::tsdb::block
