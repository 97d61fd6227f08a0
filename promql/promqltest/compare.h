// Result and annotation checks of promqltest, with upstream's rules: floats compared with a
// relative epsilon of 1e-6 (NaN equals NaN), series order only under `expect ordered`.
#pragma once

#include <string>

#include "pkg/util/status.h"
#include "promql/annotations.h"
#include "promql/promqltest/test_file.h"
#include "promql/value.h"

namespace kiln::promql::promqltest {

inline constexpr double kEpsilon = 0.000001;

// upstream util/almost.Equal.
bool AlmostEqual(double a, double b, double epsilon);

// Empty when `v` is what `cmd` expects; instant results are checked against the first value
// of each expected series, matrices against the steps start, start+step, … up to end.
std::string CompareResult(const EvalCmd& cmd, const Value& v, int64_t start, int64_t end,
                          int64_t step);

// Empty when the annotations satisfy the eval's expect warn/info lines.
std::string CheckAnnotations(const EvalCmd& cmd, const Annotations& annos, std::string_view query);

// Empty when `err` is an acceptable failure for an eval that expects one.
std::string CheckFailure(const EvalCmd& cmd, const Status& err);

// A readable dump of a value for failure messages.
std::string DescribeValue(const Value& v);

}  // namespace kiln::promql::promqltest
