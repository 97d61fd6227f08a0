#include "promql/value.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace kiln::promql {

namespace {

std::string SpecialFloat(double f) {
  if (std::isnan(f)) return "NaN";
  return f > 0 ? "+Inf" : "-Inf";
}

}  // namespace

std::string FormatFloat(double f) {
  if (!std::isfinite(f)) return SpecialFloat(f);
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

namespace {

// Go's shortest 'g' formatting: exponent form when the decimal exponent is below -4 or at
// least `exp_threshold` (6 for %g, 21 for %v).
std::string FormatShortest(double f, int exp_threshold) {
  if (!std::isfinite(f)) return SpecialFloat(f);
  if (f == 0) return std::signbit(f) ? "-0" : "0";
  // Shortest round-tripping digits in scientific form: d.ddde±x.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  size_t e = sci.find('e');
  int exp = std::atoi(sci.c_str() + e + 1);
  if (exp < -4 || exp >= exp_threshold) {
    std::string mant = sci.substr(0, e);
    char sign = exp < 0 ? '-' : '+';
    int a = std::abs(exp);
    std::string digits = std::to_string(a);
    if (digits.size() < 2) digits = "0" + digits;
    return mant + "e" + sign + digits;
  }
  return FormatFloat(f);
}

}  // namespace

std::string FormatFloatG(double f) { return FormatShortest(f, 6); }
std::string FormatFloatV(double f) { return FormatShortest(f, 21); }

std::optional<double> ParseGoFloat(std::string_view s) {
  std::string_view t = s;
  bool neg = false;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    neg = t[0] == '-';
    t.remove_prefix(1);
  }
  auto lower = [](std::string_view w) {
    std::string out(w);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  std::string lt = lower(t);
  if (lt == "inf" || lt == "infinity") {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (lt == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (t.empty() || !(std::isdigit(static_cast<unsigned char>(t[0])) || t[0] == '.')) {
    return std::nullopt;
  }
  std::string str(s);
  char* end = nullptr;
  double v = std::strtod(str.c_str(), &end);
  if (end != str.c_str() + str.size()) return std::nullopt;
  return v;
}

void SortMatrix(Matrix* m) {
  std::sort(m->begin(), m->end(), [](const Series& a, const Series& b) {
    return model::Labels::Compare(a.metric, b.metric) < 0;
  });
}

}  // namespace kiln::promql
