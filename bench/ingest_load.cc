// kiln_ingest_load: the remote_write load generator for the ingest benchmark
// (../shared/docs/BENCHMARKS.md). It pre-builds every request body, then sends them from N
// concurrent senders over keep-alive connections and reports accepted samples per second.
//
// Per-series time order is preserved: series are split into blocks of --series-per-request,
// each block belongs to one sender, and a sender sends its blocks round by round.
//
// Output: one JSON object on stdout.
#include <httplib.h>
#include <snappy.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pkg/prompb/remote.pb.h"

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 9090;
  int series = 100000;
  int series_per_request = 1000;
  int samples_per_series = 5;  // per request
  int rounds = 10;
  int senders = 4;
  int64_t interval_ms = 15000;
};

bool ParseFlag(std::string_view arg, std::string_view name, std::string* out) {
  if (!arg.starts_with(name) || arg.size() <= name.size() || arg[name.size()] != '=') return false;
  *out = std::string(arg.substr(name.size() + 1));
  return true;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string v;
    std::string_view a = argv[i];
    if (ParseFlag(a, "--host", &v)) o.host = v;
    else if (ParseFlag(a, "--port", &v)) o.port = std::stoi(v);
    else if (ParseFlag(a, "--series", &v)) o.series = std::stoi(v);
    else if (ParseFlag(a, "--series-per-request", &v)) o.series_per_request = std::stoi(v);
    else if (ParseFlag(a, "--samples-per-series", &v)) o.samples_per_series = std::stoi(v);
    else if (ParseFlag(a, "--rounds", &v)) o.rounds = std::stoi(v);
    else if (ParseFlag(a, "--senders", &v)) o.senders = std::stoi(v);
    else {
      std::cerr << "unknown flag " << a << "\n";
      std::exit(2);
    }
  }
  return o;
}

// Value of series `i` at sample index `k`: a third counters, a third gauges with two
// decimals, a third constants — the mix BENCHMARKS.md calls realistic.
double ValueAt(int i, int64_t k, std::mt19937_64& rng) {
  switch (i % 3) {
    case 0: return static_cast<double>(k * (i % 17 + 1) + static_cast<int64_t>(rng() % 5));
    case 1: return std::round((50.0 + static_cast<double>(rng() % 10000) / 100.0) * 100) / 100;
    default: return static_cast<double>(i % 7);
  }
}

void AddLabel(kiln::prompb::TimeSeries* ts, const char* name, const std::string& value) {
  auto* l = ts->add_labels();
  l->set_name(name);
  l->set_value(value);
}

std::string BuildBody(const Options& o, int block, int round, int64_t t0) {
  std::mt19937_64 rng(static_cast<uint64_t>(block) * 7919 + static_cast<uint64_t>(round));
  kiln::prompb::WriteRequest req;
  const int first = block * o.series_per_request;
  const int last = std::min(o.series, first + o.series_per_request);
  for (int i = first; i < last; i++) {
    auto* ts = req.add_timeseries();
    // Labels sorted by name, as senders must send them.
    AddLabel(ts, "__name__", "bench_metric_" + std::to_string(i % 100) + (i % 3 == 0 ? "_total" : ""));
    AddLabel(ts, "instance", "host-" + std::to_string(i / 100) + ":9100");
    AddLabel(ts, "job", "ingest");
    AddLabel(ts, "region", i % 2 ? "eu-west-1" : "us-east-1");
    AddLabel(ts, "series_id", std::to_string(i));
    for (int s = 0; s < o.samples_per_series; s++) {
      const int64_t k = static_cast<int64_t>(round) * o.samples_per_series + s;
      auto* sample = ts->add_samples();
      sample->set_timestamp(t0 + k * o.interval_ms + static_cast<int64_t>(rng() % 1000));
      sample->set_value(ValueAt(i, k, rng));
    }
  }
  std::string raw, compressed;
  req.SerializeToString(&raw);
  snappy::Compress(raw.data(), raw.size(), &compressed);
  return compressed;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  const int blocks = (o.series + o.series_per_request - 1) / o.series_per_request;
  const int64_t span_ms = static_cast<int64_t>(o.rounds) * o.samples_per_series * o.interval_ms;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t t0 = now_ms - span_ms;

  // bodies[round][block]
  std::vector<std::vector<std::string>> bodies(o.rounds, std::vector<std::string>(blocks));
  size_t total_bytes = 0;
  for (int r = 0; r < o.rounds; r++) {
    for (int b = 0; b < blocks; b++) {
      bodies[r][b] = BuildBody(o, b, r, t0);
      total_bytes += bodies[r][b].size();
    }
  }

  std::atomic<int64_t> failures{0};
  std::atomic<int64_t> requests{0};
  std::string first_error;
  std::mutex error_mu;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < o.senders; s++) {
    threads.emplace_back([&, s] {
      httplib::Client cli(o.host, o.port);
      cli.set_keep_alive(true);
      cli.set_read_timeout(60, 0);
      httplib::Headers headers = {{"Content-Encoding", "snappy"},
                                  {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
      for (int r = 0; r < o.rounds; r++) {
        for (int b = s; b < blocks; b += o.senders) {
          auto res = cli.Post("/api/v1/write", headers, bodies[r][b], "application/x-protobuf");
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
      }
    });
  }
  for (auto& t : threads) t.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double samples =
      static_cast<double>(o.series) * o.samples_per_series * o.rounds;
  std::string err = first_error.substr(0, 200);
  for (char& c : err) {
    if (c == '"' || c == '\\' || c == '\n') c = ' ';
  }
  std::printf(
      "{\"series\":%d,\"samples\":%.0f,\"requests\":%lld,\"failures\":%lld,\"seconds\":%.3f,"
      "\"samples_per_second\":%.0f,\"body_bytes\":%zu,\"first_error\":\"%s\"}\n",
      o.series, samples, static_cast<long long>(requests.load()),
      static_cast<long long>(failures.load()), secs, samples / secs, total_bytes, err.c_str());
  return failures.load() == 0 ? 0 : 1;
}
