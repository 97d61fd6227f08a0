#include "pkg/web/server.h"

#include <httplib.h>
#include <openssl/ssl.h>

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>

#include "pkg/web/tls_context.h"
#include "pkg/web/web_security.h"

namespace kiln::web {

namespace {

constexpr size_t kKeepAliveMaxRequests = 1 << 20;

// httplib's task queue with a fixed worker count and a bounded backlog: enqueue() blocks the
// accept loop while the backlog is full. Thread-safe (mu_ guards jobs_ and shutdown_).
class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(size_t threads, size_t max_queued) : max_queued_(max_queued) {
    for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
  }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> l(mu_);
    space_.wait(l, [this] { return jobs_.size() < max_queued_ || shutdown_; });
    if (shutdown_) return;  // the connection closes when fn is dropped unrun
    jobs_.push_back(std::move(fn));
    ready_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      shutdown_ = true;
    }
    ready_.notify_all();
    space_.notify_all();
    for (auto& t : workers_) t.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> l(mu_);
        ready_.wait(l, [this] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;  // shut down and drained
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      space_.notify_one();
      fn();
    }
  }

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::condition_variable space_;
  std::deque<std::function<void()>> jobs_;
  bool shutdown_ = false;
  std::vector<std::thread> workers_;
};

Status ParseListenAddress(const std::string& addr, std::string* host, int* port) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos) {
    return Status::BadData("address " + addr + ": missing port in address");
  }
  *host = addr.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  if (host->empty()) *host = "0.0.0.0";
  std::string p = addr.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(p) > 65535) {
    return Status::BadData("address " + addr + ": invalid port");
  }
  *port = std::stoi(p);
  return Status::OK();
}

// Go's http.TimeFormat ("Sun, 22 Nov 2026 05:06:33 GMT"), written without the C locale's
// help so that no setlocale() can change the names.
std::string HttpDate(std::chrono::system_clock::time_point now) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

}  // namespace

std::string RegexEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

Server::Server(Options options, Logger logger)
    : options_(std::move(options)), logger_(std::move(logger)) {
  if (!options_.web_config_file.empty()) {
    Result<std::unique_ptr<WebSecurity>> sec = WebSecurity::Open(options_.web_config_file, logger_);
    if (sec.ok()) {
      security_ = std::move(sec).value();
    } else {
      init_status_ = sec.status();
    }
  }
  if (security_ != nullptr && security_->initial().tls.Enabled()) {
    Status tls_status;
    const WebSecurity& sec = *security_;
    auto ssl = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
      tls_status = ConfigureServerTls(sec.initial().tls, sec.path(), &ctx);
      return tls_status.ok();
    });
    if (!tls_status.ok() || !ssl->is_valid()) {
      init_status_ = tls_status.ok() ? Status::Internal("cannot create a TLS context") : tls_status;
    }
    http_ = std::move(ssl);
    tls_ = true;
  } else {
    http_ = std::make_unique<httplib::Server>();
  }
  // httplib routes before it reads a request body, so this sees every request first.
  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    return PreRoute(req, res) ? httplib::Server::HandlerResponse::Handled
                              : httplib::Server::HandlerResponse::Unhandled;
  });
  size_t threads = std::max<size_t>(1, options_.worker_threads);
  size_t queued = std::max<size_t>(1, options_.max_queued_connections);
  http_->new_task_queue = [threads, queued] { return new BoundedTaskQueue(threads, queued); };
  // httplib's default also sets SO_REUSEPORT, which would let a second server bind a port
  // that is in use instead of failing like Prometheus does.
  http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Go's net/http sets TCP_NODELAY; without it a keep-alive client's next request waits out
  // a delayed ACK (~40 ms) whenever an answer leaves in more than one write.
  http_->set_tcp_nodelay(true);
  // httplib closes a connection after 5 requests; Go never does, and clients (Grafana, a
  // federating Prometheus, TLS clients above all) would pay a new handshake every 5 requests.
  // The idle timeout stays short: an idle keep-alive connection holds a worker thread.
  http_->set_keep_alive_max_count(kKeepAliveMaxRequests);
  http_->set_read_timeout(options_.read_timeout_sec);
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_error_handler(
      [this](const httplib::Request& req, httplib::Response& res) { HandleError(req, res); });
  http_->set_logger(
      [this](const httplib::Request& req, const httplib::Response& res) { LogRequest(req, res); });
}

Server::~Server() { Stop(); }

bool Server::PreRoute(const httplib::Request& req, httplib::Response& res) {
  // Go's server dates every answer (the API's CORS headers expose it to browsers).
  res.set_header("Date", HttpDate(std::chrono::system_clock::now()));
  if (security_ != nullptr && !security_->Admit(req, res)) return true;
  if (req.method == "HEAD") {
    // httplib answers HEAD with the GET handler; Go's router only with a HEAD route, and
    // otherwise 405 with the path's methods (HandleError writes that answer for a 404).
    for (const HeadRoute& r : head_routes_) {
      if (std::regex_match(req.path, r.pattern)) {
        r.handler(req, res);
        return true;
      }
    }
    res.status = 404;
    return true;
  }
  // A request with neither Content-Length nor Transfer-Encoding has an empty body (RFC 9112
  // section 6.3; Go reads it so): `curl -X POST .../-/reload` sends exactly that. httplib 0.11
  // would instead read until the client closes the connection, which a keep-alive client
  // never does. The Request is httplib's own non-const object, so the added header is
  // well-defined; it makes httplib read the zero-length body and route as usual.
  if ((req.method == "POST" || req.method == "PUT" || req.method == "PATCH" ||
       req.method == "DELETE") &&
      !req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
    const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
  }
  return false;
}

void Server::Register(std::string_view method, std::string_view pattern, Handler handler,
                      Gate gate) {
  std::string full = RegexEscape(options_.route_prefix) + std::string(pattern);
  routes_.push_back({std::string(method), std::regex(full)});
  Handler h = [this, gate, handler = std::move(handler)](const httplib::Request& req,
                                                         httplib::Response& res) {
    if (gate == Gate::kWhenReady && !ready()) {
      res.status = 503;
      res.set_content("Service Unavailable", "text/plain; charset=utf-8");
      return;
    }
    handler(req, res);
  };
  if (method == "HEAD") {
    head_routes_.push_back({std::regex(full), std::move(h)});  // PreRoute serves these
  } else if (method == "GET") {
    http_->Get(full, std::move(h));
  } else if (method == "POST") {
    http_->Post(full, std::move(h));
  } else if (method == "PUT") {
    http_->Put(full, std::move(h));
  } else if (method == "DELETE") {
    http_->Delete(full, std::move(h));
  } else if (method == "PATCH") {
    http_->Patch(full, std::move(h));
  } else if (method == "OPTIONS") {
    http_->Options(full, std::move(h));
  } else {
    logger_.Error("Ignoring route with unsupported method", {{"method", std::string(method)}});
  }
}

Status Server::Start() {
  KILN_RETURN_IF_ERROR(init_status_);
  std::string host;
  int port = 0;
  KILN_RETURN_IF_ERROR(ParseListenAddress(options_.listen_address, &host, &port));
  if (port == 0) {
    port_ = http_->bind_to_any_port(host);
    if (port_ < 0) return Status::IOError("listen tcp " + options_.listen_address + ": failed");
  } else {
    if (!http_->bind_to_port(host, port)) {
      return Status::IOError("listen tcp " + options_.listen_address +
                             ": bind: address already in use or not available");
    }
    port_ = port;
  }
  // Upstream's exporter-toolkit logs the same lines once the listener is up.
  if (security_ != nullptr) {
    logger_.Info(tls_ ? "TLS is enabled." : "TLS is disabled.",
                 {{"http2", "false"}, {"address", options_.listen_address}});
  }
  started_ = true;
  serve_thread_ = std::thread([this] { http_->listen_after_bind(); });
  // httplib's stop() is a no-op until the accept loop runs, so a Stop() right after Start()
  // would leave the loop (and the join) hanging. Wait for it; this takes microseconds.
  while (!http_->is_running()) std::this_thread::sleep_for(std::chrono::microseconds(50));
  return Status::OK();
}

void Server::Stop() {
  if (!started_.exchange(false)) return;
  http_->stop();
  if (serve_thread_.joinable()) serve_thread_.join();
}

// Called by httplib for every answer >= 400. Handlers' own error bodies are kept; unrouted
// requests get Go's texts: 405 when the path exists for another method, else 404. OPTIONS on
// an existing path is 200 with the allowed methods, as Go's router answers it.
void Server::HandleError(const httplib::Request& req, httplib::Response& res) const {
  if (!res.body.empty() || res.status != 404) return;
  // Go's http.Error marks these nosniff; its router lists the methods the path does have.
  res.set_header("X-Content-Type-Options", "nosniff");
  std::vector<std::string> allowed;
  for (const auto& r : routes_) {
    // As Go's httprouter: a catch-all OPTIONS route (the API's CORS preflight) does not make
    // every path "exist", so unknown paths stay 404.
    if (r.method != "OPTIONS" && std::regex_match(req.path, r.pattern)) {
      allowed.push_back(r.method);
    }
  }
  // A handler of this very method that answered an empty 404 keeps it.
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), req.method) == allowed.end()) {
    allowed.push_back("OPTIONS");
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    std::string allow;
    for (const std::string& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    res.set_header("Allow", allow);
    if (req.method == "OPTIONS") {
      res.status = 200;
      res.headers.erase("X-Content-Type-Options");
      return;
    }
    res.status = 405;
    res.set_content("Method Not Allowed\n", "text/plain; charset=utf-8");
    return;
  }
  res.set_content("404 page not found\n", "text/plain; charset=utf-8");
}

void Server::LogRequest(const httplib::Request& req, const httplib::Response& res) const {
  if (!logger_.Enabled(LogLevel::kDebug)) return;
  logger_.Debug("HTTP request", {{"method", req.method},
                                 {"path", req.path},
                                 {"status", std::to_string(res.status)},
                                 {"remote_addr", req.remote_addr}});
}

}  // namespace kiln::web
