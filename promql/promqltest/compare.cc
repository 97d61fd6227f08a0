#include "promql/promqltest/compare.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace kiln::promql::promqltest {

namespace {

bool Matches(const ExpectAnnotation& e, const std::string& s) {
  if (e.message) return *e.message == s;
  if (e.regex) return re2::RE2::PartialMatch(s, *e.regex);
  return true;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out + "]";
}

std::string CheckKind(const std::vector<ExpectAnnotation>& expected,
                      const std::vector<std::string>& actual, const char* kind) {
  if (expected.empty()) return "";
  if (actual.empty()) return std::string("expected ") + kind + " annotations but none were found";
  for (const ExpectAnnotation& e : expected) {
    bool found = std::any_of(actual.begin(), actual.end(),
                             [&](const std::string& a) { return Matches(e, a); });
    if (!found) {
      return std::string("expected ") + kind + " annotation " +
             (e.message ? "\"" + *e.message + "\"" : "matching " + e.regex.value_or(".*")) +
             " but found " + Join(actual);
    }
  }
  for (const std::string& a : actual) {
    bool found = std::any_of(expected.begin(), expected.end(),
                             [&](const ExpectAnnotation& e) { return Matches(e, a); });
    if (!found) return std::string("unexpected ") + kind + " annotation \"" + a + "\"";
  }
  return "";
}

std::string Num(double f) { return FormatFloatV(f); }

const SeriesDesc* FindExpected(const EvalCmd& cmd, const model::Labels& ls, size_t* pos) {
  for (size_t i = 0; i < cmd.series.size(); ++i) {
    if (cmd.series[i].metric == ls) {
      *pos = i;
      return &cmd.series[i];
    }
  }
  return nullptr;
}

std::string CompareVector(const EvalCmd& cmd, const Vector& vec) {
  if (cmd.expect_scalar) return "expected scalar result, but got vector " + DescribeValue(vec);
  std::vector<bool> seen(cmd.series.size(), false);
  for (size_t i = 0; i < vec.size(); ++i) {
    const Sample& s = vec[i];
    size_t pos = 0;
    const SeriesDesc* exp = FindExpected(cmd, s.metric, &pos);
    if (exp == nullptr) {
      return "unexpected metric " + s.metric.ToString() + " in result, has value " + Num(s.f);
    }
    if (cmd.ordered && pos != i) {
      return "expected metric " + s.metric.ToString() + " at position " + std::to_string(pos + 1) +
             " but was at " + std::to_string(i + 1);
    }
    if (exp->values.empty() || exp->values[0].omitted) {
      return "expected no value for " + s.metric.ToString();
    }
    if (!AlmostEqual(exp->values[0].value, s.f, kEpsilon)) {
      return "expected " + Num(exp->values[0].value) + " for " + s.metric.ToString() + " but got " +
             Num(s.f);
    }
    seen[pos] = true;
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) return "expected metric " + cmd.series[i].metric.ToString() + " not found";
  }
  return "";
}

std::string CompareMatrix(const EvalCmd& cmd, const Matrix& m, int64_t start, int64_t end,
                          int64_t step) {
  if (cmd.ordered) return "expected ordered result, but query returned a matrix";
  if (cmd.expect_scalar) return "expected scalar result, but got matrix " + DescribeValue(m);
  for (size_t i = 1; i < m.size(); ++i) {
    if (model::Labels::Compare(m[i - 1].metric, m[i].metric) > 0) {
      return "matrix results should always be sorted by labels";
    }
  }
  std::vector<bool> seen(cmd.series.size(), false);
  for (const Series& s : m) {
    size_t pos = 0;
    const SeriesDesc* exp = FindExpected(cmd, s.metric, &pos);
    if (exp == nullptr) return "unexpected metric " + s.metric.ToString() + " in result";
    seen[pos] = true;
    std::vector<FPoint> want;
    for (size_t i = 0; i < exp->values.size(); ++i) {
      int64_t t = start + static_cast<int64_t>(i) * step;
      if (t > end) return "expected more points than the query range can return";
      if (!exp->values[i].omitted) want.push_back({t, exp->values[i].value});
    }
    std::string got = DescribeValue(Matrix{s});
    if (want.size() != s.floats.size()) {
      return "expected " + std::to_string(want.size()) + " float points for " +
             s.metric.ToString() + ", but got " + got;
    }
    for (size_t i = 0; i < want.size(); ++i) {
      if (want[i].t != s.floats[i].t) {
        return "expected timestamp " + std::to_string(want[i].t) + " at index " +
               std::to_string(i) + " for " + s.metric.ToString() + ", got " + got;
      }
      if (!AlmostEqual(want[i].f, s.floats[i].f, kEpsilon)) {
        return "expected " + Num(want[i].f) + " at t=" + std::to_string(want[i].t) + " for " +
               s.metric.ToString() + ", got " + got;
      }
    }
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) return "expected metric " + cmd.series[i].metric.ToString() + " not found";
  }
  return "";
}

}  // namespace

bool AlmostEqual(double a, double b, double epsilon) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  constexpr double kMinNormal = 2.2250738585072014e-308;
  double abs_sum = std::fabs(a) + std::fabs(b);
  double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < epsilon * kMinNormal;
  return diff / std::min(abs_sum, 1.7976931348623157e308) < epsilon;
}

std::string CompareResult(const EvalCmd& cmd, const Value& v, int64_t start, int64_t end,
                          int64_t step) {
  switch (KindOf(v)) {
    case ValueKind::kMatrix:
      return CompareMatrix(cmd, std::get<Matrix>(v), start, end, step);
    case ValueKind::kVector:
      return CompareVector(cmd, std::get<Vector>(v));
    case ValueKind::kScalar: {
      double got = std::get<Scalar>(v).v;
      if (!cmd.expect_scalar) return "expected vector or matrix result, but got scalar " + Num(got);
      if (!AlmostEqual(cmd.scalar, got, kEpsilon)) {
        return "expected scalar " + Num(cmd.scalar) + " but got " + Num(got);
      }
      return "";
    }
    case ValueKind::kString: {
      const std::string& got = std::get<String>(v).v;
      if (cmd.expect_string.value_or("") != got) {
        return "expected string \"" + cmd.expect_string.value_or("") + "\" but got \"" + got + "\"";
      }
      return "";
    }
  }
  return "unknown result type";
}

std::string CheckAnnotations(const EvalCmd& cmd, const Annotations& annos, std::string_view query) {
  std::vector<std::string> warns = annos.Warnings(query);
  std::vector<std::string> infos = annos.Infos(query);
  if (cmd.legacy_warn && warns.empty()) return "expected warnings but got none";
  if (cmd.legacy_info && infos.empty()) return "expected info annotations but got none";
  std::string err = CheckKind(cmd.expect_warn, warns, "warn");
  if (err.empty()) err = CheckKind(cmd.expect_info, infos, "info");
  if (err.empty() && cmd.expect_no_warn && !warns.empty()) {
    err = "unexpected warning annotations: " + Join(warns);
  }
  if (err.empty() && cmd.expect_no_info && !infos.empty()) {
    err = "unexpected info annotations: " + Join(infos);
  }
  return err;
}

std::string CheckFailure(const EvalCmd& cmd, const Status& err) {
  const std::string& msg = err.message();
  for (const ExpectAnnotation& e : cmd.expect_fail) {
    if (!Matches(e, msg)) {
      return "expected error " + (e.message ? "\"" + *e.message + "\"" : "matching " + *e.regex) +
             " but got: " + msg;
    }
  }
  return "";
}

std::string DescribeValue(const Value& v) {
  std::string out;
  switch (KindOf(v)) {
    case ValueKind::kScalar:
      return "scalar " + Num(std::get<Scalar>(v).v);
    case ValueKind::kString:
      return "string \"" + std::get<String>(v).v + "\"";
    case ValueKind::kVector:
      for (const Sample& s : std::get<Vector>(v))
        out += "\n    " + s.metric.ToString() + " " + Num(s.f);
      return out.empty() ? "empty vector" : out;
    case ValueKind::kMatrix:
      for (const Series& s : std::get<Matrix>(v)) {
        out += "\n    " + s.metric.ToString();
        for (size_t i = 0; i < s.floats.size() && i < 20; ++i) {
          out += " " + Num(s.floats[i].f) + "@" + std::to_string(s.floats[i].t);
        }
        if (s.floats.size() > 20) out += " ... (" + std::to_string(s.floats.size()) + " points)";
      }
      return out.empty() ? "empty matrix" : out;
  }
  return out;
}

}  // namespace kiln::promql::promqltest
