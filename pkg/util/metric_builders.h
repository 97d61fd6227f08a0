// Registering one unlabelled series of a metric family: every component's metrics struct
// (head, DB, WAL, scrape) registers dozens of Prometheus's names this way. Header-only, so
// kiln_util itself does not depend on prometheus-cpp; users link prometheus-cpp::core.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>

namespace kiln::util {

inline prometheus::Gauge& NewGauge(prometheus::Registry& r, const std::string& name,
                                   const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

// `float_type` adds upstream's {type="float"} label (samples vs histograms counters).
inline prometheus::Counter& NewCounter(prometheus::Registry& r, const std::string& name,
                                       const std::string& help, bool float_type = false) {
  auto& family = prometheus::BuildCounter().Name(name).Help(help).Register(r);
  return float_type ? family.Add({{"type", "float"}}) : family.Add({});
}

}  // namespace kiln::util
