// Float formatting exactly as Go's strconv.FormatFloat(v, fmt, -1, 64) prints it — the
// shortest digits that round-trip. Prometheus uses 'f' for sample values in API JSON, 'g'
// for label values it makes (`le`, count_values) and promtool prints samples with %g, which
// is the same as 'g'. Special values print as Go does: NaN, +Inf, -Inf.
#pragma once

#include <string>

namespace kiln {

// Never an exponent: 1e+21 prints as 1000000000000000000000.
std::string FormatFloatF(double v);
// Always an exponent with at least two digits: 1.066154e+06, 1e-07.
std::string FormatFloatE(double v);
// Exponent form when the decimal exponent is < -4 or >= 6 (Go's rule for the shortest
// precision): 100000, 1e+06, 1.066154e+06, 0.0001, 1e-05.
std::string FormatFloatG(double v);

}  // namespace kiln
