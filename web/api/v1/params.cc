#include "web/api/v1/params.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "pkg/model/labels.h"
#include "pkg/util/utf8.h"
#include "promql/parser/parser.h"

namespace kiln::web::api::v1 {

namespace {

constexpr std::string_view kMinTimeFormatted = "-292273086-05-16T16:47:06Z";
constexpr std::string_view kMaxTimeFormatted = "292277025-08-18T07:12:54.999999999Z";

// Go's strconv.ParseFloat(s, 64) for the forms a client sends: decimal with optional
// exponent, hex with a 'p' exponent, inf/infinity/nan. Fails on anything else, on leading
// or trailing junk and on overflow.
bool ParseGoFloat(std::string_view s, double* out) {
  if (s.empty()) return false;
  std::string_view body = s;
  if (body[0] == '+' || body[0] == '-') body.remove_prefix(1);
  const bool hex = body.size() > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X');
  for (char c : body) {
    const bool ok = (c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-' || c == 'e' ||
                    c == 'E' || std::isalpha(static_cast<unsigned char>(c));
    if (!ok) return false;  // spaces, underscores, parentheses of nan(…)
  }
  if (hex && body.find_first_of("pP") == std::string_view::npos) return false;
  const std::string copy(s);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return false;
  if (errno == ERANGE && std::isinf(v)) return false;
  *out = v;
  return true;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// RFC 3339 as Go's time.RFC3339Nano layout parses it: YYYY-MM-DDTHH:MM:SS, an optional
// fraction of 1–9 digits, then Z or ±HH:MM.
bool ParseRfc3339(std::string_view s, int64_t* ms) {
  int y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || s[10] != 'T' || !Digits(s, 11, 2, &h) ||
      s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &sec)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) {
    return false;
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (s[pos] == '.') {
    size_t digits = 0;
    for (++pos; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, ++digits) {
      if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
    }
    if (digits == 0 || digits > 9) return false;
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset_s = 0;
  const std::string_view zone = s.substr(pos);
  if (zone != "Z") {
    int zh, zm;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || !Digits(zone, 1, 2, &zh) ||
        zone[3] != ':' || !Digits(zone, 4, 2, &zm) || zh > 23 || zm > 59) {
      return false;
    }
    offset_s = (zh * 3600 + zm * 60) * (zone[0] == '-' ? -1 : 1);
  }
  const int64_t unix_s = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  *ms = unix_s * 1000 + nanos / 1000000;
  return true;
}

// Upstream's float branch: math.Modf, the fraction rounded to milliseconds, then
// time.Unix(sec, nsec) and back to milliseconds.
bool FloatSecondsToMs(double t, int64_t* ms) {
  // Beyond this the millisecond value does not fit in int64 (upstream overflows silently).
  if (!std::isfinite(t) || std::fabs(t) >= 9.2e15) return false;
  double int_part;
  double frac = std::modf(t, &int_part);
  frac = std::round(frac * 1000) / 1000;  // round half away from zero, as Go's math.Round
  int64_t sec = static_cast<int64_t>(int_part);
  int64_t nsec = static_cast<int64_t>(frac * 1e9);
  if (nsec < 0) {
    sec -= 1;
    nsec += 1000000000;
  }
  *ms = sec * 1000 + nsec / 1000000;
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(c | 0x20);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::string GoQuote(std::string_view s) {
  std::string out;
  model::AppendGoQuoted(&out, s);
  return out;
}

Status InvalidParam(std::string_view name, std::string_view message) {
  std::string m = "invalid parameter " + GoQuote(name) + ": ";
  m.append(message);
  return Status::BadData(m);
}

Status InvalidParam(std::string_view name, const Status& err) {
  return InvalidParam(name, err.message());
}

Result<int64_t> ParseTime(std::string_view s) {
  int64_t ms = 0;
  double f;
  if (ParseGoFloat(s, &f)) {
    if (FloatSecondsToMs(f, &ms)) return ms;
  } else if (ParseRfc3339(s, &ms)) {
    return ms;
  } else if (s == kMinTimeFormatted) {
    return kApiMinTimeMs;
  } else if (s == kMaxTimeFormatted) {
    return kApiMaxTimeMs;
  }
  return Status::BadData("cannot parse " + GoQuote(s) + " to a valid timestamp");
}

Result<int64_t> ParseTimeParam(const ApiRequest& r, std::string_view name, int64_t dflt) {
  const std::string v = r.FormValue(name);
  if (v.empty()) return dflt;
  auto t = ParseTime(v);
  if (!t.ok()) {
    return InvalidParam(
        name, "Invalid time value for '" + std::string(name) + "': " + t.status().message());
  }
  return *t;
}

Result<int64_t> ParseDurationNs(std::string_view s) {
  double d;
  if (ParseGoFloat(s, &d) && !std::isnan(d)) {
    const double ns = d * 1e9;
    // float64(math.MaxInt64) is 2^63, itself out of range.
    if (ns >= 9223372036854775808.0 || ns < -9223372036854775808.0) {
      return Status::BadData("cannot parse " + GoQuote(s) +
                             " to a valid duration. It overflows int64");
    }
    return static_cast<int64_t>(ns);
  }
  auto ms = promql::parser::ParseDuration(s);
  if (ms.ok() && *ms <= std::numeric_limits<int64_t>::max() / 1000000) return *ms * 1000000;
  return Status::BadData("cannot parse " + GoQuote(s) + " to a valid duration");
}

Result<int64_t> ParseLimit(std::string_view s) {
  if (s.empty()) return int64_t{0};
  const std::string copy(s);
  const std::string quoted = GoQuote(s);
  size_t i = (copy[0] == '+' || copy[0] == '-') ? 1 : 0;
  if (i == copy.size())
    return Status::BadData("strconv.Atoi: parsing " + quoted + ": invalid syntax");
  for (size_t k = i; k < copy.size(); ++k) {
    if (copy[k] < '0' || copy[k] > '9') {
      return Status::BadData("strconv.Atoi: parsing " + quoted + ": invalid syntax");
    }
  }
  errno = 0;
  const long long v = std::strtoll(copy.c_str(), nullptr, 10);
  if (errno == ERANGE) {
    return Status::BadData("strconv.Atoi: parsing " + quoted + ": value out of range");
  }
  if (v < 0) return Status::BadData("limit must be non-negative");
  return static_cast<int64_t>(v);
}

Result<std::vector<std::vector<model::Matcher>>> ParseMatchersParam(
    const std::vector<std::string>& values) {
  std::vector<std::vector<model::Matcher>> sets;
  sets.reserve(values.size());
  for (const auto& v : values) {
    auto ms = promql::parser::ParseMetricSelector(v);
    if (!ms.ok()) return ms.status();
    bool non_empty = false;
    for (const auto& m : *ms) non_empty = non_empty || !m.Matches("");
    if (!non_empty) {
      return Status::BadData("match[] must contain at least one non-empty matcher");
    }
    sets.push_back(std::move(*ms));
  }
  return sets;
}

std::string UnescapeLabelName(std::string_view name) {
  if (name.substr(0, 3) != "U__") return std::string(name);
  const std::string_view esc = name.substr(3);
  std::string out;
  for (size_t i = 0; i < esc.size(); ++i) {
    if (esc[i] != '_') {
      out.push_back(esc[i]);
      continue;
    }
    if (++i >= esc.size()) return std::string(name);
    if (esc[i] == '_') {
      out.push_back('_');
      continue;
    }
    uint32_t cp = 0;
    size_t digits = 0;
    for (; i < esc.size() && esc[i] != '_'; ++i, ++digits) {
      const int h = HexValue(esc[i]);
      if (h < 0 || digits >= 6) return std::string(name);
      cp = cp * 16 + h;
    }
    if (i >= esc.size() || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return std::string(name);
    }
    AppendUtf8(&out, cp);
  }
  return out;
}

}  // namespace kiln::web::api::v1
