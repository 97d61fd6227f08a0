#include "pkg/util/float_format.h"

#include <charconv>
#include <cmath>
#include <string_view>

namespace kiln {
namespace {

// The shortest round-trip decimal of |v|: digits without a point, and the exponent of the
// first digit (v = 0.d1d2d3… × 10^(exp+1)).
struct Decimal {
  std::string digits;
  int exp = 0;
};

Decimal ShortestDecimal(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));  // d.ddde±XX
  const size_t e = s.find('e');
  Decimal d;
  for (char c : s.substr(0, e)) {
    if (c != '.') d.digits.push_back(c);
  }
  int exp = 0;
  std::from_chars(s.data() + e + (s[e + 1] == '+' ? 2 : 1), s.data() + s.size(), exp);
  d.exp = exp;
  return d;
}

bool Special(double v, std::string* out) {
  if (std::isnan(v)) {
    *out = "NaN";
    return true;
  }
  if (std::isinf(v)) {
    *out = v > 0 ? "+Inf" : "-Inf";
    return true;
  }
  if (v == 0) {
    *out = std::signbit(v) ? "-0" : "0";
    return true;
  }
  return false;
}

std::string Fixed(bool neg, const Decimal& d) {
  std::string out = neg ? "-" : "";
  const int n = static_cast<int>(d.digits.size());
  if (d.exp < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-d.exp - 1), '0');
    out += d.digits;
  } else if (d.exp + 1 >= n) {
    out += d.digits;
    out.append(static_cast<size_t>(d.exp + 1 - n), '0');
  } else {
    out += d.digits.substr(0, static_cast<size_t>(d.exp + 1));
    out += '.';
    out += d.digits.substr(static_cast<size_t>(d.exp + 1));
  }
  return out;
}

std::string Exponent(bool neg, const Decimal& d) {
  std::string out = neg ? "-" : "";
  out += d.digits[0];
  if (d.digits.size() > 1) {
    out += '.';
    out += d.digits.substr(1);
  }
  out += d.exp < 0 ? "e-" : "e+";
  const int a = std::abs(d.exp);
  if (a < 10) out += '0';
  out += std::to_string(a);
  return out;
}

}  // namespace

std::string FormatFloatF(double v) {
  std::string s;
  if (Special(v, &s)) return s;
  return Fixed(std::signbit(v), ShortestDecimal(v));
}

std::string FormatFloatE(double v) {
  std::string s;
  if (Special(v, &s)) return s == "-0" ? "-0e+00" : s == "0" ? "0e+00" : s;
  return Exponent(std::signbit(v), ShortestDecimal(v));
}

std::string FormatFloatG(double v) {
  std::string s;
  if (Special(v, &s)) return s;
  const Decimal d = ShortestDecimal(v);
  if (d.exp < -4 || d.exp >= 6) return Exponent(std::signbit(v), d);
  return Fixed(std::signbit(v), d);
}

}  // namespace kiln
