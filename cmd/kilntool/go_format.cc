#include "cmd/kilntool/go_format.h"

#include <algorithm>

namespace kiln::tool {

std::string GoDurationMs(int64_t ms) {
  if (ms == 0) return "0s";
  std::string sign = ms < 0 ? "-" : "";
  uint64_t u = ms < 0 ? -static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  if (u < 1000) return sign + std::to_string(u) + "ms";
  std::string secs = std::to_string(u / 1000 % 60);
  if (u % 1000 != 0) {
    std::string frac = std::to_string(1000 + u % 1000).substr(1);
    while (frac.back() == '0') frac.pop_back();
    secs += "." + frac;
  }
  const uint64_t mins = u / 60000, hours = u / 3600000;
  if (hours > 0)
    return sign + std::to_string(hours) + "h" + std::to_string(mins % 60) + "m" + secs + "s";
  if (mins > 0) return sign + std::to_string(mins) + "m" + secs + "s";
  return sign + secs + "s";
}

std::string GoBase2Bytes(uint64_t n) {
  static const char* kUnits[] = {"", "K", "M", "G", "T", "P", "E"};
  if (n == 0) return "0B";
  std::vector<std::string> parts;
  for (int i = 0; i < 7 && n != 0; i++, n /= 1024) {
    if (n % 1024 != 0) {
      parts.push_back(std::to_string(n % 1024) + kUnits[i] + (i == 0 ? "B" : "iB"));
    }
  }
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += *it;
  return out;
}

std::string GoTabwriter(const std::vector<std::vector<std::string>>& rows, size_t minwidth,
                        size_t padding) {
  std::vector<size_t> widths;
  for (const auto& r : rows) {
    for (size_t i = 0; i + 1 < r.size(); i++) {
      if (widths.size() <= i) widths.resize(i + 1, minwidth);
      widths[i] = std::max(widths[i], r[i].size() + padding);
    }
  }
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); i++) {
      out += r[i];
      if (i + 1 < r.size()) out.append(widths[i] - r[i].size(), ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace kiln::tool
