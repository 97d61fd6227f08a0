#include "promql/parser/literals.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "promql/parser/parser.h"

namespace kiln::promql::parser {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool EqualFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

// Parses an unsigned integer in `base`; false on a bad digit or overflow.
bool ParseUint(std::string_view s, int base, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d = HexVal(c);
    if (d < 0 || d >= base) return false;
    if (v > (std::numeric_limits<uint64_t>::max() - d) / base) return false;
    v = v * base + d;
  }
  *out = v;
  return true;
}

void AppendUtf8(std::string* out, uint32_t r) {
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

// Resolves the escape at s[*i] (just after the backslash); false when invalid.
bool UnescapeOne(std::string_view s, size_t* i, char quote, std::string* out) {
  if (*i >= s.size()) return false;
  char c = s[(*i)++];
  switch (c) {
    case 'a':
      out->push_back('\a');
      return true;
    case 'b':
      out->push_back('\b');
      return true;
    case 'f':
      out->push_back('\f');
      return true;
    case 'n':
      out->push_back('\n');
      return true;
    case 'r':
      out->push_back('\r');
      return true;
    case 't':
      out->push_back('\t');
      return true;
    case 'v':
      out->push_back('\v');
      return true;
    case '\\':
      out->push_back('\\');
      return true;
    default:
      break;
  }
  if (c == quote) {
    out->push_back(c);
    return true;
  }
  int n = 0, base = 16;
  if (c >= '0' && c <= '7') {
    n = 3, base = 8;
    --*i;
  } else if (c == 'x') {
    n = 2;
  } else if (c == 'u') {
    n = 4;
  } else if (c == 'U') {
    n = 8;
  } else {
    return false;
  }
  if (*i + n > s.size()) return false;
  uint64_t v;
  if (!ParseUint(s.substr(*i, n), base, &v)) return false;
  *i += n;
  if (c == 'x' || base == 8) {
    if (v > 255) return false;
    out->push_back(static_cast<char>(v));  // a raw byte, as Go does
    return true;
  }
  if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) return false;
  AppendUtf8(out, static_cast<uint32_t>(v));
  return true;
}

// Length of the valid UTF-8 sequence at s[i], or 0 when invalid.
size_t Utf8Len(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  uint32_t r = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    r = (r << 6) | (cc & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (r < kMin[n] || r > 0x10FFFF || (r >= 0xD800 && r < 0xE000)) return 0;
  return n;
}

}  // namespace

std::string GoQuote(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = Utf8Len(s, i);
      if (n == 0) {
        out += "\\x";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\x";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

Result<double> ParseNumber(std::string_view s) {
  auto bad = [&] {
    return Status::BadData("error parsing number: strconv.ParseFloat: parsing \"" + std::string(s) +
                           "\": invalid syntax");
  };
  if (EqualFold(s, "inf") || EqualFold(s, "+inf")) return std::numeric_limits<double>::infinity();
  if (EqualFold(s, "-inf")) return -std::numeric_limits<double>::infinity();
  if (EqualFold(s, "nan")) return std::numeric_limits<double>::quiet_NaN();
  std::string clean;
  clean.reserve(s.size());
  for (char c : s) {
    if (c != '_') clean.push_back(c);
  }
  if (clean.empty()) return bad();
  uint64_t u;
  // Integers first, as Go's strconv.ParseInt(s, 0, 64): 0x hex, leading-0 octal.
  if (clean.size() > 2 && clean[0] == '0' && (clean[1] == 'x' || clean[1] == 'X')) {
    if (ParseUint(std::string_view(clean).substr(2), 16, &u) &&
        u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<double>(u);
    }
  } else if (clean.size() > 1 && clean[0] == '0' && ParseUint(clean, 8, &u)) {
    return static_cast<double>(u);
  }
  // Everything else as a float (strtod also reads hex floats like 0x1p-2).
  const char* begin = clean.c_str();
  char* end = nullptr;
  double v = std::strtod(begin, &end);
  if (end != begin + clean.size()) return bad();
  return v;
}

Result<std::string> Unquote(std::string_view q) {
  auto bad = [] { return Status::BadData("invalid syntax"); };
  if (q.size() < 2 || q.front() != q.back()) return bad();
  char quote = q.front();
  std::string_view body = q.substr(1, q.size() - 2);
  if (quote == '`') return std::string(body);
  if (quote != '"' && quote != '\'') return bad();
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size();) {
    char c = body[i];
    if (c == quote || c == '\n') return bad();
    if (c != '\\') {
      out.push_back(c);
      ++i;
      continue;
    }
    ++i;
    if (!UnescapeOne(body, &i, quote, &out)) return bad();
  }
  return out;
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  struct Unit {
    const char* name;
    int64_t mult;
    bool exact;
  };
  static constexpr Unit kUnits[] = {{"y", 1000LL * 60 * 60 * 24 * 365, true},
                                    {"w", 1000LL * 60 * 60 * 24 * 7, true},
                                    {"d", 1000LL * 60 * 60 * 24, false},
                                    {"h", 1000LL * 60 * 60, false},
                                    {"m", 1000LL * 60, false},
                                    {"s", 1000, false},
                                    {"ms", 1, false}};
  std::string r;
  for (const Unit& u : kUnits) {
    if (u.exact && ms % u.mult != 0) continue;
    int64_t v = ms / u.mult;
    if (v > 0) {
      r += std::to_string(v);
      r += u.name;
      ms -= v * u.mult;
    }
  }
  return r;
}

std::string FormatFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, res.ptr);
}

std::string FormatFloatG(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  int exp = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  if (exp >= -4 && exp < 21) return FormatFloat(v);
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  return std::string(buf, res.ptr);  // e.g. 1e+21, 1e-05, as Go writes them
}

Result<int64_t> ParseDuration(std::string_view s) {
  if (s == "0") return int64_t{0};
  if (s.empty()) return Status::BadData("empty duration string");
  const std::string bad = "not a valid duration string: \"" + std::string(s) + "\"";
  struct Unit {
    std::string_view name;
    int pos;
    uint64_t ns;
  };
  static constexpr Unit kUnits[] = {{"ms", 7, 1000000ULL},         {"s", 6, 1000000000ULL},
                                    {"m", 5, 60000000000ULL},      {"h", 4, 3600000000000ULL},
                                    {"d", 3, 86400000000000ULL},   {"w", 2, 604800000000000ULL},
                                    {"y", 1, 31536000000000000ULL}};
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t total_ns = 0;
  int last_pos = 0;
  std::string_view rest = s;
  while (!rest.empty()) {
    if (!IsDigit(rest[0])) return Status::BadData(bad);
    size_t i = 0;
    while (i < rest.size() && IsDigit(rest[i])) ++i;
    uint64_t v;
    if (!ParseUint(rest.substr(0, i), 10, &v)) return Status::BadData(bad);
    rest.remove_prefix(i);
    i = 0;
    while (i < rest.size() && !IsDigit(rest[i])) ++i;
    if (i == 0) return Status::BadData(bad);
    std::string_view unit = rest.substr(0, i);
    rest.remove_prefix(i);
    const Unit* u = nullptr;
    for (const Unit& c : kUnits) {
      if (c.name == unit) u = &c;
    }
    if (u == nullptr) {
      return Status::BadData("unknown unit \"" + std::string(unit) + "\" in duration \"" +
                             std::string(s) + "\"");
    }
    if (u->pos <= last_pos) return Status::BadData(bad);
    last_pos = u->pos;
    if (v > (kMax + 1) / u->ns) return Status::BadData("duration out of range");
    total_ns += v * u->ns;
    if (total_ns > kMax) return Status::BadData("duration out of range");
  }
  return static_cast<int64_t>(total_ns / 1000000);
}

}  // namespace kiln::promql::parser
