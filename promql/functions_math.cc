// Element-wise math on instant vectors: abs, ceil, …, trigonometry, round, clamp*, plus the
// scalar/vector conversions.
#include <cmath>
#include <numbers>

#include "promql/functions.h"

namespace kiln::promql {

namespace {

void Simple(FunctionTable* t, const char* name, double (*f)(double)) {
  (*t)[name] = FunctionInfo{[f](FunctionCall& c) {
                              for (const Sample& s : *c.args[0]) EmitLike(s, f(s.f), c.out);
                            },
                            false};
}

// Go's math.Max/math.Min: NaN wins (std::fmax/fmin would ignore it).
double GoMax(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::nan("");
  return std::fmax(a, b);
}
double GoMin(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::nan("");
  return std::fmin(a, b);
}

double Sgn(double v) {
  if (v > 0) return 1;
  if (v < 0) return -1;
  return v;  // 0, -0 and NaN stay as they are
}

}  // namespace

void RegisterMathFunctions(FunctionTable* t) {
  Simple(t, "abs", [](double v) { return std::fabs(v); });
  Simple(t, "ceil", [](double v) { return std::ceil(v); });
  Simple(t, "floor", [](double v) { return std::floor(v); });
  Simple(t, "exp", [](double v) { return std::exp(v); });
  Simple(t, "sqrt", [](double v) { return std::sqrt(v); });
  Simple(t, "ln", [](double v) { return std::log(v); });
  Simple(t, "log2", [](double v) { return std::log2(v); });
  Simple(t, "log10", [](double v) { return std::log10(v); });
  Simple(t, "sin", [](double v) { return std::sin(v); });
  Simple(t, "cos", [](double v) { return std::cos(v); });
  Simple(t, "tan", [](double v) { return std::tan(v); });
  Simple(t, "asin", [](double v) { return std::asin(v); });
  Simple(t, "acos", [](double v) { return std::acos(v); });
  Simple(t, "atan", [](double v) { return std::atan(v); });
  Simple(t, "sinh", [](double v) { return std::sinh(v); });
  Simple(t, "cosh", [](double v) { return std::cosh(v); });
  Simple(t, "tanh", [](double v) { return std::tanh(v); });
  Simple(t, "asinh", [](double v) { return std::asinh(v); });
  Simple(t, "acosh", [](double v) { return std::acosh(v); });
  Simple(t, "atanh", [](double v) { return std::atanh(v); });
  Simple(t, "deg", [](double v) { return v * 180 / std::numbers::pi; });
  Simple(t, "rad", [](double v) { return v * std::numbers::pi / 180; });
  Simple(t, "sgn", Sgn);
  (*t)["round"] = {[](FunctionCall& c) {
                     double to = c.args.size() > 1 ? c.Scalar(1) : 1;
                     double inv = 1.0 / to;
                     for (const Sample& s : *c.args[0]) {
                       EmitLike(s, std::floor(s.f * inv + 0.5) / inv, c.out);
                     }
                   },
                   false};
  (*t)["clamp"] = {[](FunctionCall& c) {
                     double lo = c.Scalar(1), hi = c.Scalar(2);
                     if (hi < lo) return;
                     for (const Sample& s : *c.args[0]) {
                       EmitLike(s, GoMax(lo, GoMin(hi, s.f)), c.out);
                     }
                   },
                   false};
  (*t)["clamp_min"] = {[](FunctionCall& c) {
                         double lo = c.Scalar(1);
                         for (const Sample& s : *c.args[0]) {
                           EmitLike(s, GoMax(lo, s.f), c.out);
                         }
                       },
                       false};
  (*t)["clamp_max"] = {[](FunctionCall& c) {
                         double hi = c.Scalar(1);
                         for (const Sample& s : *c.args[0]) {
                           EmitLike(s, GoMin(hi, s.f), c.out);
                         }
                       },
                       false};
  (*t)["min_of"] = {[](FunctionCall& c) {
                      c.out->push_back(Sample{{}, c.ts, GoMin(c.Scalar(0), c.Scalar(1))});
                    },
                    true};
  (*t)["max_of"] = {[](FunctionCall& c) {
                      c.out->push_back(Sample{{}, c.ts, GoMax(c.Scalar(0), c.Scalar(1))});
                    },
                    true};
  (*t)["pi"] = {[](FunctionCall& c) {
                  c.out->push_back(Sample{{}, c.ts, std::numbers::pi});
                },
                true};
  (*t)["vector"] = {[](FunctionCall& c) { c.out->push_back(Sample{{}, c.ts, c.Scalar(0)}); }, true};
  (*t)["scalar"] = {[](FunctionCall& c) {
                      const Vector& v = *c.args[0];
                      double f = v.size() == 1 ? v[0].f : std::nan("");
                      c.out->push_back(Sample{{}, c.ts, f});
                    },
                    true};
}

}  // namespace kiln::promql
