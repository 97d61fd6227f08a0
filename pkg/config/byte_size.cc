#include "pkg/config/byte_size.h"

#include <array>
#include <limits>

namespace kiln::config {
namespace {

struct Unit {
  std::string_view short_name;  // "KB": Go's units treat it as 1024, like "KiB"
  std::string_view iec_name;
  int shift;
};

constexpr std::array<Unit, 7> kUnits = {{
    {"EB", "EiB", 60},
    {"PB", "PiB", 50},
    {"TB", "TiB", 40},
    {"GB", "GiB", 30},
    {"MB", "MiB", 20},
    {"KB", "KiB", 10},
    {"B", "B", 0},
}};

}  // namespace

Result<ByteSize> ByteSize::Parse(std::string_view s) {
  if (s == "0") return ByteSize{};
  size_t i = 0;
  int64_t n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (n > (std::numeric_limits<int64_t>::max() - 9) / 10) {
      return Status::BadData("units: overflow in " + std::string(s));
    }
    n = n * 10 + (s[i] - '0');
    ++i;
  }
  if (i == 0) return Status::BadData("units: invalid size " + std::string(s));
  std::string_view unit = s.substr(i);
  if (unit.empty()) return Status::BadData("units: missing unit in " + std::string(s));
  for (const Unit& u : kUnits) {
    if (unit == u.short_name || unit == u.iec_name) {
      if (u.shift > 0 && n > (std::numeric_limits<int64_t>::max() >> u.shift)) {
        return Status::BadData("units: overflow in " + std::string(s));
      }
      return ByteSize{n << u.shift};
    }
  }
  return Status::BadData("units: unknown unit " + std::string(unit) + " in " + std::string(s));
}

std::string ByteSize::ToString() const {
  if (bytes == 0) return "0B";
  for (const Unit& u : kUnits) {
    int64_t mult = int64_t{1} << u.shift;
    if (bytes % mult == 0) return std::to_string(bytes / mult) + std::string(u.iec_name);
  }
  return std::to_string(bytes) + "B";
}

}  // namespace kiln::config
