// Fragment header constants of the WAL page format, shared by writer and reader.
// Internal to pkg/tsdb/wlog; the layout is described in wlog.h.
#pragma once

#include <cstdint>

namespace kiln::tsdb::wlog {

inline constexpr uint8_t kFragPageTerm = 0;  // rest of the page is zero padding
inline constexpr uint8_t kFragFull = 1;      // a whole record
inline constexpr uint8_t kFragFirst = 2;     // first fragment of a record
inline constexpr uint8_t kFragMiddle = 3;    // neither first nor last
inline constexpr uint8_t kFragLast = 4;      // last fragment of a record
inline constexpr uint8_t kSnappyMask = 1 << 3;
// Bit 4 marks zstd (Prometheus >= 2.54 with --storage.tsdb.wal-compression-type=zstd);
// the Reader reports such records as unsupported (kUnavailable).
inline constexpr uint8_t kZstdMask = 1 << 4;
inline constexpr uint8_t kFragTypeMask = kSnappyMask - 1;

}  // namespace kiln::tsdb::wlog
