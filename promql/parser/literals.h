// Scalar pieces of PromQL text: numbers, durations, quoted strings, and their printed forms
// (Go-compatible, since query strings round-trip through Prometheus tools).
// All functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pkg/util/result.h"

namespace kiln::promql::parser {

// A NUMBER token's value: decimal, hex (0x1f), octal (010), with `_` separators, floats with
// exponents, Inf and NaN (any case). Fails (bad data) on anything else, with Prometheus's
// message ("error parsing number: strconv.ParseFloat: …").
Result<double> ParseNumber(std::string_view s);

// The contents of a "…", '…' or `…` string token, with Go escapes resolved.
Result<std::string> Unquote(std::string_view quoted);

// Go's strconv.Quote: double-quoted with Go escapes; bytes that are not valid UTF-8 are
// written as \xNN (so the result always lexes again).
std::string GoQuote(std::string_view s);

// Prometheus's model.Duration.String(): "1h30m", "90d", "0s"; years and weeks only when
// exact. REQUIRES: ms >= 0.
std::string FormatDuration(int64_t ms);

// Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, no exponent;
// "+Inf", "-Inf", "NaN".
std::string FormatFloat(double v);

// Go's %v for a float64 (shortest, exponent form below 1e-4 and from 1e21).
std::string FormatFloatG(double v);

}  // namespace kiln::promql::parser
