// ULIDs name blocks (upstream uses github.com/oklog/ulid): 48 bits of Unix milliseconds then
// 80 random bits, printed as 26 characters of Crockford base32, so names sort by creation time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::tsdb::block {

// A new ULID for `ms` (Unix milliseconds), with entropy from the OS random source.
// Thread-safe.
std::string NewUlid(int64_t ms);

// The millisecond timestamp of a well-formed ULID (26 Crockford base32 characters, first
// character at most '7'); nullopt otherwise. Used to tell block directories from other files.
std::optional<uint64_t> UlidTime(std::string_view ulid);

}  // namespace kiln::tsdb::block
