// Server: Kiln's HTTP server over cpp-httplib. Components register their routes here; the
// server adds the route prefix, readiness gating, Go-like 404/405 answers, debug request
// logging and gzip (httplib compresses text and JSON when the client accepts gzip).
//
// Connections are served by a fixed pool of worker threads; when all are busy, accepted
// connections wait in a bounded queue, and when that is full the accept loop blocks, so load
// spills into the kernel's listen backlog instead of unbounded memory.
//
// Thread-safety: Register() before Start() only; SetReady(), ready(), port() and Stop() from
// any thread. Handlers run concurrently on the worker threads.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pkg/util/logger.h"
#include "pkg/util/status.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace kiln::web {

class WebSecurity;

class Server {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  // kWhenReady routes answer 503 "Service Unavailable" until SetReady(true), as Prometheus's
  // API does while the TSDB is opening; kAlways routes (health, metrics, …) always run.
  enum class Gate { kWhenReady, kAlways };

  struct Options {
    std::string listen_address = "0.0.0.0:9090";  // host:port; ":port" = all interfaces
    std::string route_prefix;                     // "" or "/path", no trailing slash
    size_t worker_threads = 16;
    size_t max_queued_connections = 512;
    int read_timeout_sec = 300;  // Prometheus's --web.read-timeout=5m
    size_t max_body_bytes = size_t{128} << 20;
    // --web.config.file: TLS, basic auth and response headers (web_security.h). Empty = plain
    // HTTP, no authentication.
    std::string web_config_file;
  };

  Server(Options options, Logger logger);
  ~Server();  // Stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves `method` (GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS) at route_prefix +
  // `pattern`. As with Go's router, GET does not answer HEAD: a path without a HEAD route
  // answers it 405 (or 404 when no method serves the path). `pattern` is an ECMAScript regex
  // matched against the whole path, so "/api/v1/label/([^/]+)/values" puts the name in
  // req.matches[1]. Literal paths need no escaping beyond regex metacharacters. REQUIRES: Start()
  // not called yet.
  void Register(std::string_view method, std::string_view pattern, Handler handler,
                Gate gate = Gate::kWhenReady);

  // Binds the listen address and starts serving on a background thread. Errors: kIOError when
  // the address cannot be bound, kBadData when it cannot be parsed or the web config file is
  // invalid.
  Status Start();
  // Stops accepting, lets in-flight requests finish, joins the threads. Idempotent.
  void Stop();

  // The bound port (useful with port 0). REQUIRES: Start() succeeded.
  int port() const { return port_; }
  void SetReady(bool ready) { ready_.store(ready); }
  bool ready() const { return ready_.load(); }
  // Whether connections are TLS (the web config has a tls_server_config).
  bool tls() const { return tls_; }
  const std::string& route_prefix() const { return options_.route_prefix; }

 private:
  struct Route {
    std::string method;
    std::regex pattern;
  };

  struct HeadRoute {
    std::regex pattern;
    Handler handler;
  };

  // Runs before httplib routes a request (and reads its body): authentication, HEAD, and
  // POST-like requests without a length. True when the request was answered.
  bool PreRoute(const httplib::Request& req, httplib::Response& res);
  void HandleError(const httplib::Request& req, httplib::Response& res) const;
  void LogRequest(const httplib::Request& req, const httplib::Response& res) const;

  Options options_;
  Logger logger_;
  Status init_status_;                     // a web config error, reported by Start()
  std::unique_ptr<WebSecurity> security_;  // null without a web config
  bool tls_ = false;
  std::unique_ptr<httplib::Server> http_;
  std::vector<Route> routes_;           // for telling 405 from 404; written before Start() only
  std::vector<HeadRoute> head_routes_;  // written before Start() only
  std::thread serve_thread_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> started_{false};
  int port_ = 0;
};

// Escapes regex metacharacters so `s` matches literally inside a Register() pattern.
std::string RegexEscape(std::string_view s);

}  // namespace kiln::web
