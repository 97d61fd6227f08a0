// kiln_bench_data: the dashboard-like data set of the storage, query and startup workloads
// (../shared/docs/BENCHMARKS.md), produced identically in two shapes:
//
//   kiln_bench_data openmetrics --out=FILE [shape flags]    an OpenMetrics file for
//       `promtool|kilntool tsdb create-blocks-from openmetrics`
//   kiln_bench_data remote-write --port=P [shape flags]     the same samples sent by
//       remote_write 1.0, time-major, so a head that rejects samples older than its newest
//       minus half a chunk range accepts all of them
//
// Shape flags: --instances=N (100 series each), --minutes=M, --interval-s=S, --end-ms=T (the
// data ends just before T; default now). Every value and timestamp is a pure function of (series,
// step), so both shapes carry bit-identical samples and any run can be reproduced.
//
// Per instance (what a node_exporter plus an instrumented API server would export):
//   20 http_requests_total{method,status} counters, one 10-bucket
//   http_request_duration_seconds histogram (_bucket, _sum, _count: 12 series),
//   8 node_cpu_seconds_total{cpu,mode} counters and 60 node_gauge{idx} gauges (noisy with 2
//   decimals, stepping, constant).
// All series of one instance share each scrape's timestamp.
//
// Output: remote-write prints one JSON object on stdout; openmetrics prints nothing.
#include <httplib.h>
#include <snappy.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "pkg/prompb/remote.pb.h"

namespace {

struct Options {
  std::string mode;
  std::string out;
  std::string host = "127.0.0.1";
  int port = 9090;
  int instances = 100;
  int minutes = 360;
  int interval_s = 15;
  int64_t end_ms = 0;  // 0: now
  int senders = 4;
  int series_per_request = 1000;
  int steps_per_request = 5;
};

bool ParseFlag(std::string_view arg, std::string_view name, std::string* out) {
  if (!arg.starts_with(name) || arg.size() <= name.size() || arg[name.size()] != '=') return false;
  *out = std::string(arg.substr(name.size() + 1));
  return true;
}

[[noreturn]] void Usage(const std::string& why) {
  std::cerr << "kiln_bench_data: " << why
            << "\nusage: kiln_bench_data openmetrics|remote-write [--out=FILE] [--port=P] "
               "[--host=H] [--instances=N] [--minutes=M] [--interval-s=S] [--end-ms=T] "
               "[--senders=N]\n";
  std::exit(2);
}

int ParseInt(const std::string& flag, const std::string& v, int64_t min) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < min || n > (int64_t{1} << 30)) {
    Usage("bad value for " + flag + ": " + v);
  }
  return static_cast<int>(n);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  if (argc < 2) Usage("missing mode");
  o.mode = argv[1];
  if (o.mode != "openmetrics" && o.mode != "remote-write") Usage("unknown mode " + o.mode);
  for (int i = 2; i < argc; i++) {
    std::string v;
    const std::string_view a = argv[i];
    if (ParseFlag(a, "--out", &v))
      o.out = v;
    else if (ParseFlag(a, "--host", &v))
      o.host = v;
    else if (ParseFlag(a, "--port", &v))
      o.port = ParseInt("--port", v, 1);
    else if (ParseFlag(a, "--instances", &v))
      o.instances = ParseInt("--instances", v, 1);
    else if (ParseFlag(a, "--minutes", &v))
      o.minutes = ParseInt("--minutes", v, 1);
    else if (ParseFlag(a, "--interval-s", &v))
      o.interval_s = ParseInt("--interval-s", v, 1);
    else if (ParseFlag(a, "--senders", &v))
      o.senders = ParseInt("--senders", v, 1);
    else if (ParseFlag(a, "--end-ms", &v)) {
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), o.end_ms);
      if (ec != std::errc() || p != v.data() + v.size() || o.end_ms <= 0) {
        Usage("bad value for --end-ms: " + v);
      }
    } else {
      Usage("unknown flag " + std::string(a));
    }
  }
  if (o.mode == "openmetrics" && o.out.empty()) Usage("openmetrics needs --out");
  if (o.end_ms == 0) {
    o.end_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  }
  return o;
}

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser: cheap, deterministic noise
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Noise(uint64_t a, int64_t k) { return Mix(a * 1000003ULL ^ static_cast<uint64_t>(k)); }

double Round(double v, double scale) { return std::round(v * scale) / scale; }

enum class Kind { kRequests, kBucket, kHistSum, kHistCount, kCpu, kGauge };

constexpr double kBucketBounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, INFINITY};
constexpr const char* kBucketLabels[] = {"0.005", "0.01", "0.025", "0.05", "0.1",
                                         "0.25",  "0.5",  "1",     "2.5",  "+Inf"};
// Cumulative share of requests at or below each bound.
constexpr double kBucketShare[] = {0.05, 0.12, 0.25, 0.45, 0.65, 0.82, 0.92, 0.97, 0.995, 1.0};
constexpr const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
constexpr const char* kStatuses[] = {"200", "201", "404", "500", "503"};
constexpr const char* kModes[] = {"idle", "user", "system", "iowait"};
constexpr double kModeShare[] = {0.7, 0.2, 0.08, 0.02};
constexpr int kGaugesPerInstance = 60;

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Series {
  Kind kind;
  int instance;
  int param;      // bucket index, cpu*4+mode, request combo or gauge index
  uint64_t seed;  // distinct per series
  Labels labels;  // sorted by name, __name__ first
};

class DataSet {
 public:
  explicit DataSet(const Options& o)
      : steps_(static_cast<int64_t>(o.minutes) * 60 / o.interval_s),
        interval_ms_(int64_t{o.interval_s} * 1000),
        start_ms_(o.end_ms - steps_ * interval_ms_ + 250),
        interval_s_(o.interval_s) {
    for (int i = 0; i < o.instances; i++) AddInstance(i);
  }

  const std::vector<Series>& series() const { return series_; }
  int64_t steps() const { return steps_; }

  // Scrapes land 250 ms past a whole second, three in four on time and the rest 1-4 ms late
  // (the jitter of a real scrape loop). Never on a whole second: queries start and end on
  // whole seconds, and whether a sample exactly on a range's left edge is selected differs
  // between Prometheus 2.x (closed) and 3.x (left-open), which Kiln follows.
  int64_t Timestamp(const Series& s, int64_t k) const {
    const uint64_t n = Noise(s.instance, k);
    const int64_t late = n % 4 == 0 ? 1 + static_cast<int64_t>((n >> 8) % 4) : 0;
    return start_ms_ + k * interval_ms_ + late;
  }

  double Value(const Series& s, int64_t k) const {
    switch (s.kind) {
      case Kind::kRequests:
        // An increment of at least 5 per step outruns the noise, so the counter never resets.
        return static_cast<double>(k * 5 * (1 + s.param % 7) +
                                   static_cast<int64_t>(Noise(s.seed, k) % 5));
      case Kind::kBucket:
        return std::floor(static_cast<double>(HistCount(s.instance, k)) * kBucketShare[s.param]);
      case Kind::kHistSum:
        return Round(static_cast<double>(HistCount(s.instance, k)) * 0.123, 1000);
      case Kind::kHistCount:
        return static_cast<double>(HistCount(s.instance, k));
      case Kind::kCpu:
        // A load factor distinct per instance, so topk has no ties to break.
        return Round(static_cast<double>(k * interval_s_) * kModeShare[s.param % 4] *
                         (1 + 0.001 * static_cast<double>(s.instance)),
                     100);
      case Kind::kGauge:
        // node_exporter's mix: a third noisy (load, temperatures), a third moving in steps
        // (memory and filesystem bytes), a third constant (sizes, limits, info).
        switch (s.param % 3) {
          case 0:
            return Round(1000.0 * (s.param + 1) +
                             100 * std::sin(static_cast<double>(k) / 40 + s.param) +
                             static_cast<double>(Noise(s.seed, k) % 100) / 100,
                         100);
          case 1:
            return 1e9 + static_cast<double>(k / 20) * 4096 * (s.param + 1);
          default:
            return 1024.0 * (s.param + 1);
        }
    }
    return 0;
  }

 private:
  int64_t HistCount(int instance, int64_t k) const {
    return k * (20 + instance % 10) + static_cast<int64_t>(Noise(instance + 77777, k) % 20);
  }

  void Add(Kind kind, int instance, int param, Labels labels) {
    std::sort(labels.begin(), labels.end());  // "__name__" sorts first
    series_.push_back(
        {kind, instance, param, static_cast<uint64_t>(series_.size()) + 1, std::move(labels)});
  }

  void AddInstance(int i) {
    const std::string inst = "host-" + std::to_string(i) + ":9100";
    int combo = 0;
    for (const char* m : kMethods) {
      for (const char* st : kStatuses) {
        Add(Kind::kRequests, i, combo++,
            {{"__name__", "http_requests_total"},
             {"instance", inst},
             {"job", "api"},
             {"method", m},
             {"status", st}});
      }
    }
    for (int b = 0; b < static_cast<int>(std::size(kBucketBounds)); b++) {
      Add(Kind::kBucket, i, b,
          {{"__name__", "http_request_duration_seconds_bucket"},
           {"instance", inst},
           {"job", "api"},
           {"le", kBucketLabels[b]}});
    }
    Add(Kind::kHistSum, i, 0,
        {{"__name__", "http_request_duration_seconds_sum"}, {"instance", inst}, {"job", "api"}});
    Add(Kind::kHistCount, i, 0,
        {{"__name__", "http_request_duration_seconds_count"}, {"instance", inst}, {"job", "api"}});
    for (int cpu = 0; cpu < 2; cpu++) {
      for (int m = 0; m < 4; m++) {
        Add(Kind::kCpu, i, cpu * 4 + m,
            {{"__name__", "node_cpu_seconds_total"},
             {"cpu", std::to_string(cpu)},
             {"instance", inst},
             {"job", "node"},
             {"mode", kModes[m]}});
      }
    }
    for (int g = 0; g < kGaugesPerInstance; g++) {
      Add(Kind::kGauge, i, g,
          {{"__name__", "node_gauge"},
           {"idx", std::to_string(g)},
           {"instance", inst},
           {"job", "node"}});
    }
  }

  std::vector<Series> series_;
  int64_t steps_;
  int64_t interval_ms_;
  int64_t start_ms_;
  int interval_s_;
};

// Shortest round-trip text, so the parsed double equals the one sent by remote_write.
void AppendDouble(std::string* out, double v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, p);
}

std::string_view FamilyOf(Kind k) {
  switch (k) {
    case Kind::kRequests:
      return "http_requests";
    case Kind::kBucket:
    case Kind::kHistSum:
    case Kind::kHistCount:
      return "http_request_duration_seconds";
    case Kind::kCpu:
      return "node_cpu_seconds";
    case Kind::kGauge:
      return "node_gauge";
  }
  return "";
}

std::string_view TypeOf(Kind k) {
  switch (k) {
    case Kind::kRequests:
    case Kind::kCpu:
      return "counter";
    case Kind::kGauge:
      return "gauge";
    default:
      return "histogram";
  }
}

int WriteOpenMetrics(const Options& o, const DataSet& d) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(o.out.c_str(), "w"), std::fclose);
  if (!f) {
    std::perror(o.out.c_str());
    return 1;
  }
  // A metric family's lines must be contiguous: emit family by family, series by series.
  const Kind order[][3] = {{Kind::kRequests, Kind::kRequests, Kind::kRequests},
                           {Kind::kBucket, Kind::kHistSum, Kind::kHistCount},
                           {Kind::kCpu, Kind::kCpu, Kind::kCpu},
                           {Kind::kGauge, Kind::kGauge, Kind::kGauge}};
  std::string buf;
  for (const auto& family : order) {
    buf = "# TYPE ";
    buf += FamilyOf(family[0]);
    buf += ' ';
    buf += TypeOf(family[0]);
    buf += '\n';
    for (const Series& s : d.series()) {
      if (s.kind != family[0] && s.kind != family[1] && s.kind != family[2]) continue;
      std::string prefix = s.labels[0].second + "{";
      for (size_t l = 1; l < s.labels.size(); l++) {
        if (l > 1) prefix += ',';
        prefix += s.labels[l].first + "=\"" + s.labels[l].second + "\"";
      }
      prefix += "} ";
      for (int64_t k = 0; k < d.steps(); k++) {
        buf += prefix;
        AppendDouble(&buf, d.Value(s, k));
        const int64_t t = d.Timestamp(s, k);
        char ts[48];
        std::snprintf(ts, sizeof(ts), " %lld.%03lld\n", static_cast<long long>(t / 1000),
                      static_cast<long long>(t % 1000));
        buf += ts;
      }
      if (buf.size() > (1 << 20)) {
        std::fwrite(buf.data(), 1, buf.size(), f.get());
        buf.clear();
      }
    }
    std::fwrite(buf.data(), 1, buf.size(), f.get());
    buf.clear();
  }
  std::fputs("# EOF\n", f.get());
  if (std::ferror(f.get())) {
    std::perror(o.out.c_str());
    return 1;
  }
  return 0;
}

std::string BuildBody(const DataSet& d, size_t first, size_t last, int64_t k0, int64_t k1) {
  kiln::prompb::WriteRequest req;
  for (size_t i = first; i < last; i++) {
    const Series& s = d.series()[i];
    auto* ts = req.add_timeseries();
    for (const auto& [name, value] : s.labels) {
      auto* l = ts->add_labels();
      l->set_name(name);
      l->set_value(value);
    }
    for (int64_t k = k0; k < k1; k++) {
      auto* smp = ts->add_samples();
      smp->set_timestamp(d.Timestamp(s, k));
      smp->set_value(d.Value(s, k));
    }
  }
  std::string raw, compressed;
  req.SerializeToString(&raw);
  snappy::Compress(raw.data(), raw.size(), &compressed);
  return compressed;
}

int RemoteWrite(const Options& o, const DataSet& d) {
  const size_t n = d.series().size();
  const size_t blocks = (n + o.series_per_request - 1) / o.series_per_request;
  const int64_t rounds = (d.steps() + o.steps_per_request - 1) / o.steps_per_request;
  std::atomic<int64_t> failures{0}, requests{0};
  std::string first_error;
  std::mutex error_mu;
  // Every sender finishes a round before any starts the next: a sender running ahead would
  // move the head's newest time and make the others' samples out of bounds.
  std::barrier sync(o.senders);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < o.senders; s++) {
    threads.emplace_back([&, s] {
      httplib::Client cli(o.host, o.port);
      cli.set_keep_alive(true);
      cli.set_read_timeout(120, 0);
      const httplib::Headers headers = {{"Content-Encoding", "snappy"},
                                        {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
      for (int64_t r = 0; r < rounds; r++) {
        const int64_t k0 = r * o.steps_per_request;
        const int64_t k1 = std::min(d.steps(), k0 + o.steps_per_request);
        for (size_t b = s; b < blocks; b += o.senders) {
          const size_t first = b * o.series_per_request;
          const std::string body =
              BuildBody(d, first, std::min(n, first + o.series_per_request), k0, k1);
          auto res = cli.Post("/api/v1/write", headers, body, "application/x-protobuf");
          requests++;
          if (!res || res->status / 100 != 2) {
            failures++;
            std::lock_guard<std::mutex> l(error_mu);
            if (first_error.empty()) {
              first_error = res ? std::to_string(res->status) + " " + res->body
                                : "transport error " + httplib::to_string(res.error());
            }
          }
        }
        sync.arrive_and_wait();
      }
    });
  }
  for (auto& t : threads) t.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double samples = static_cast<double>(n) * static_cast<double>(d.steps());
  std::string err = first_error.substr(0, 200);
  for (char& c : err) {
    if (c == '"' || c == '\\' || c == '\n') c = ' ';
  }
  std::printf(
      "{\"series\":%zu,\"samples\":%.0f,\"requests\":%lld,\"failures\":%lld,\"seconds\":%.3f,"
      "\"samples_per_second\":%.0f,\"first_error\":\"%s\"}\n",
      n, samples, static_cast<long long>(requests.load()), static_cast<long long>(failures.load()),
      secs, samples / secs, err.c_str());
  return failures.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  const DataSet d(o);
  if (o.mode == "openmetrics") return WriteOpenMetrics(o, d);
  return RemoteWrite(o, d);
}
