#include "pkg/config/duration.h"

#include <array>
#include <limits>

#include "pkg/model/labels.h"

namespace kiln::config {
namespace {

struct Unit {
  std::string_view name;
  int64_t ms;
  bool only_exact;  // printed only when it divides the remainder exactly
};

constexpr int64_t kDay = 24 * 3600 * 1000LL;
constexpr std::array<Unit, 7> kUnits = {{
    {"y", 365 * kDay, true},
    {"w", 7 * kDay, true},
    {"d", kDay, false},
    {"h", 3600 * 1000LL, false},
    {"m", 60 * 1000LL, false},
    {"s", 1000LL, false},
    {"ms", 1, false},
}};

Status Invalid(std::string_view s) {
  std::string msg = "not a valid duration string: ";
  model::AppendGoQuoted(&msg, s);
  return Status::BadData(msg);
}

}  // namespace

Result<Duration> Duration::Parse(std::string_view s) {
  if (s.empty()) return Status::BadData("empty duration string");
  if (s == "0") return Duration();
  int64_t total = 0;
  size_t next_unit = 0;  // units must appear in kUnits order, each at most once
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return Invalid(s);
    std::string_view digits = s.substr(start, i - start);
    size_t ustart = i;
    while (i < s.size() && (s[i] < '0' || s[i] > '9')) ++i;
    std::string_view unit = s.substr(ustart, i - ustart);
    size_t u = next_unit;
    while (u < kUnits.size() && kUnits[u].name != unit) ++u;
    if (u == kUnits.size()) return Invalid(s);
    next_unit = u + 1;
    int64_t n = 0;
    for (char c : digits) {
      if (n > (std::numeric_limits<int64_t>::max() - 9) / 10) return Invalid(s);
      n = n * 10 + (c - '0');
    }
    if (n > std::numeric_limits<int64_t>::max() / kUnits[u].ms ||
        total > std::numeric_limits<int64_t>::max() - n * kUnits[u].ms) {
      return Status::BadData("duration out of range");
    }
    total += n * kUnits[u].ms;
  }
  return Duration(total);
}

std::string Duration::ToString() const {
  int64_t ms = ms_;
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  for (const Unit& u : kUnits) {
    if (u.only_exact && ms % u.ms != 0) continue;
    int64_t v = ms / u.ms;
    if (v > 0) {
      out += std::to_string(v);
      out += u.name;
      ms -= v * u.ms;
    }
  }
  return out;
}

}  // namespace kiln::config
