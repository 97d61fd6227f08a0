// Time functions: time(), timestamp(), and the calendar functions (UTC).
#include <cmath>
#include <ctime>

#include "promql/functions.h"

namespace kiln::promql {

namespace {

std::tm ToUtc(double seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

int DaysInMonth(int year, int month0) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month0 == 1 && leap ? 29 : kDays[month0];
}

// Registers a calendar function; with no argument it applies to the evaluation time.
void Calendar(FunctionTable* t, const char* name, double (*f)(const std::tm&)) {
  (*t)[name] = {[f](FunctionCall& c) {
                  if (c.call->args.empty()) {
                    c.out->push_back(Sample{{}, c.ts, f(ToUtc(static_cast<double>(c.ts) / 1000))});
                    return;
                  }
                  for (const Sample& s : *c.args[0]) {
                    if (std::isnan(s.f) || std::isinf(s.f)) {
                      EmitLike(s, s.f, c.out);
                      continue;
                    }
                    EmitLike(s, f(ToUtc(s.f)), c.out);
                  }
                },
                false};
}

}  // namespace

void RegisterTimeFunctions(FunctionTable* t) {
  (*t)["time"] = {[](FunctionCall& c) {
                    c.out->push_back(Sample{{}, c.ts, static_cast<double>(c.ts) / 1000});
                  },
                  true};
  // Step-aligned evaluation gives every sample the step time; timestamp() over a plain
  // selector is special-cased in EvalCall to see the stored sample times.
  (*t)["timestamp"] = {[](FunctionCall& c) {
                         for (const Sample& s : *c.args[0]) {
                           EmitLike(s, static_cast<double>(s.t) / 1000, c.out);
                         }
                       },
                       false};
  auto query_time = [t](const char* name, int64_t (*f)(const EvalSettings&)) {
    (*t)[name] = {[f](FunctionCall& c) {
                    double v = static_cast<double>(f(c.ev->settings())) / 1000;
                    c.out->push_back(Sample{{}, c.ts, v});
                  },
                  true};
  };
  query_time("start", [](const EvalSettings& s) { return s.query_start; });
  query_time("end", [](const EvalSettings& s) { return s.query_end; });
  query_time("range", [](const EvalSettings& s) { return s.query_end - s.query_start; });
  query_time("step", [](const EvalSettings& s) { return s.query_step; });
  Calendar(t, "day_of_month", [](const std::tm& tm) { return double(tm.tm_mday); });
  Calendar(t, "day_of_week", [](const std::tm& tm) { return double(tm.tm_wday); });
  Calendar(t, "day_of_year", [](const std::tm& tm) { return double(tm.tm_yday + 1); });
  Calendar(t, "days_in_month",
           [](const std::tm& tm) { return double(DaysInMonth(tm.tm_year + 1900, tm.tm_mon)); });
  Calendar(t, "hour", [](const std::tm& tm) { return double(tm.tm_hour); });
  Calendar(t, "minute", [](const std::tm& tm) { return double(tm.tm_min); });
  Calendar(t, "month", [](const std::tm& tm) { return double(tm.tm_mon + 1); });
  Calendar(t, "year", [](const std::tm& tm) { return double(tm.tm_year + 1900); });
}

}  // namespace kiln::promql
