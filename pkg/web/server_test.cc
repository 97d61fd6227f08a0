// Real HTTP against a Server on 127.0.0.1 with an ephemeral port.
#include "pkg/web/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <prometheus/registry.h>
#include <snappy.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <regex>

#include "pkg/prompb/write_v2.pb.h"
#include "pkg/remote/write_handler.h"
#include "pkg/web/standard_routes.h"

namespace kiln::web {
namespace {

// Counts committed samples. Thread-safe.
class CountingStorage : public storage::Appendable, public storage::Queryable {
 public:
  class App : public storage::Appender {
   public:
    explicit App(CountingStorage* s) : s_(s) {}
    Result<storage::SeriesRef> Append(storage::SeriesRef, const model::Labels&, int64_t,
                                      double) override {
      staged_++;
      return storage::SeriesRef{1};
    }
    Result<storage::SeriesRef> UpdateMetadata(storage::SeriesRef r, const model::Labels&,
                                              const model::Metadata&) override {
      return r;
    }
    Status Commit() override {
      s_->committed += staged_;
      return Status::OK();
    }
    Status Rollback() override { return Status::OK(); }

   private:
    CountingStorage* s_;
    int staged_ = 0;
  };
  std::unique_ptr<storage::Appender> NewAppender() override { return std::make_unique<App>(this); }
  Result<std::unique_ptr<storage::Querier>> NewQuerier(int64_t, int64_t) override {
    return Status::Unavailable("no reads here");
  }
  std::atomic<int> committed{0};
};

Logger QuietLogger() {
  static int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  return Logger(LogLevel::kDebug, Logger::Format::kLogfmt, fd);
}

struct Harness {
  explicit Harness(bool lifecycle, bool remote_write, std::string prefix = "")
      : write_handler(&storage, &registry, QuietLogger()),
        read_handler(&storage, QuietLogger()),
        server(Server::Options{"127.0.0.1:0", prefix, 4, 16}, QuietLogger()) {
    StandardRoutes r;
    r.enable_lifecycle = lifecycle;
    r.registry = &registry;
    r.write_handler = remote_write ? &write_handler : nullptr;
    r.read_handler = &read_handler;
    r.on_quit = [this] { quits++; };
    r.on_reload = [this] {
      reloads++;
      return fail_reload ? Status::BadData("parsing YAML file x.yml: bad") : Status::OK();
    };
    RegisterStandardRoutes(&server, r);
    EXPECT_TRUE(server.Start().ok());
    client = std::make_unique<httplib::Client>("127.0.0.1", server.port());
  }

  CountingStorage storage;
  prometheus::Registry registry;
  remote::WriteHandler write_handler;
  remote::ReadHandler read_handler;
  Server server;
  std::unique_ptr<httplib::Client> client;
  std::atomic<int> quits{0};
  std::atomic<int> reloads{0};
  bool fail_reload = false;
};

std::string V2Body() {
  kiln::prompb::writev2::Request req;
  for (const char* s : {"", "__name__", "up"}) req.add_symbols(s);
  auto* ts = req.add_timeseries();
  ts->add_labels_refs(1);
  ts->add_labels_refs(2);
  auto* sample = ts->add_samples();
  sample->set_value(1);
  sample->set_timestamp(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
  std::string raw = req.SerializeAsString(), out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

struct RouteCase {
  std::string method;
  std::string path;
  int status;
  std::string body;
};

void CheckRoutes(httplib::Client* c, const std::vector<RouteCase>& cases) {
  for (const auto& rc : cases) {
    httplib::Result res = rc.method == "GET"   ? c->Get(rc.path.c_str())
                          : rc.method == "PUT" ? c->Put(rc.path.c_str(), "", "text/plain")
                                               : c->Post(rc.path.c_str(), "", "text/plain");
    ASSERT_TRUE(res) << rc.method << " " << rc.path;
    EXPECT_EQ(res->status, rc.status) << rc.method << " " << rc.path;
    EXPECT_EQ(res->body, rc.body) << rc.method << " " << rc.path;
  }
}

TEST(ServerTest, RoutesBeforeAndAfterReady) {
  Harness h(/*lifecycle=*/false, /*remote_write=*/false);
  CheckRoutes(h.client.get(), {{"GET", "/-/healthy", 200, "Prometheus Server is Healthy.\n"},
                               {"GET", "/-/ready", 503, "Service Unavailable"},
                               {"POST", "/api/v1/write", 503, "Service Unavailable"}});
  h.server.SetReady(true);
  CheckRoutes(
      h.client.get(),
      {{"GET", "/-/ready", 200, "Prometheus Server is Ready.\n"},
       {"POST", "/-/quit", 403, "Lifecycle API is not enabled."},
       {"PUT", "/-/reload", 403, "Lifecycle API is not enabled."},
       {"GET", "/-/quit", 405, "Only POST or PUT requests allowed"},
       {"GET", "/-/reload", 405, "Only POST or PUT requests allowed"},
       {"POST", "/api/v1/write", 404,
        "remote write receiver needs to be enabled with --web.enable-remote-write-receiver\n"},
       {"GET", "/api/v1/write", 405, "Method Not Allowed\n"},
       {"GET", "/nope", 404, "404 page not found\n"}});
  EXPECT_EQ(h.quits, 0);
  EXPECT_EQ(h.reloads, 0);
  // Go's http.Error headers on the router's own answers (as Prometheus 2.42 sends them).
  httplib::Result r = h.client->Get("/api/v1/write");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Allow"), "OPTIONS, POST");
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  r = h.client->Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  // Every answer carries Go's Date header, in http.TimeFormat.
  for (const char* path : {"/nope", "/-/healthy", "/api/v1/write"}) {
    r = h.client->Get(path);
    ASSERT_TRUE(r);
    EXPECT_TRUE(std::regex_match(
        r->get_header_value("Date"),
        std::regex(
            R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT)")))
        << path << ": " << r->get_header_value("Date");
  }
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; charset=utf-8");
}

TEST(ServerTest, LifecycleEnabled) {
  Harness h(/*lifecycle=*/true, /*remote_write=*/false);
  CheckRoutes(h.client.get(), {{"POST", "/-/reload", 200, ""},
                               {"PUT", "/-/quit", 200, "Requesting termination... Goodbye!"}});
  EXPECT_EQ(h.quits, 1);
  EXPECT_EQ(h.reloads, 1);
  h.fail_reload = true;
  CheckRoutes(h.client.get(), {{"POST", "/-/reload", 500,
                                "failed to reload config: parsing YAML file x.yml: bad\n"}});
}

TEST(ServerTest, RemoteWriteOverHttp) {
  Harness h(/*lifecycle=*/false, /*remote_write=*/true);
  h.server.SetReady(true);
  httplib::Headers headers = {{"Content-Encoding", "snappy"},
                              {"X-Prometheus-Remote-Write-Version", "2.0.0"}};
  auto res = h.client->Post("/api/v1/write", headers, V2Body(),
                            "application/x-protobuf;proto=io.prometheus.write.v2.Request");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204) << res->body;
  EXPECT_EQ(res->get_header_value("X-Prometheus-Remote-Write-Samples-Written"), "1");
  EXPECT_EQ(h.storage.committed, 1);

  res = h.client->Post("/api/v1/write", headers, V2Body(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(h.storage.committed, 1);

  res = h.client->Post("/api/v1/read", "garbage", "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(res->body, "snappy: corrupt input\n");
}

TEST(ServerTest, MetricsVersionAndGzip) {
  Harness h(/*lifecycle=*/false, /*remote_write=*/true);
  auto res = h.client->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res->body.find("prometheus_api_remote_write_invalid_labels_samples_total 0"),
            std::string::npos)
      << res->body;

  res = h.client->Get("/version");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body.rfind("{\"version\":\"", 0), 0u) << res->body;
  EXPECT_NE(res->body.find("\"goVersion\":"), std::string::npos);

  h.client->set_decompress(false);
  res = h.client->Get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip");
}

TEST(ServerTest, RoutePrefix) {
  Harness h(/*lifecycle=*/false, /*remote_write=*/false, "/prom");
  h.server.SetReady(true);
  CheckRoutes(h.client.get(), {{"GET", "/prom/-/healthy", 200, "Prometheus Server is Healthy.\n"},
                               {"GET", "/prom/-/ready", 200, "Prometheus Server is Ready.\n"},
                               {"GET", "/-/healthy", 404, "404 page not found\n"}});
}

TEST(ServerTest, ConcurrentClientsBeyondPoolSize) {
  Harness h(/*lifecycle=*/false, /*remote_write=*/false);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 24; ++i) {
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", h.server.port());
      for (int k = 0; k < 5; ++k) {
        auto r = c.Get("/-/healthy");
        if (r && r->status == 200) ok++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 24 * 5);
}

// A plain TCP connection, for requests httplib's client cannot send (no Content-Length).
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // A server that waits for a body that never comes fails the test instead of hanging it.
    timeval timeout{30, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() { close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }
  int local_port() const {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
  }
  bool Send(std::string_view s) {
    return send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size());
  }

  // One response: its head and a Content-Length body; "" when the server sent none.
  std::string ReadResponse() {
    size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return "";
    }
    head_end += 4;
    size_t body = 0;
    const std::string head = buf_.substr(0, head_end);
    if (size_t p = head.find("Content-Length: "); p != std::string::npos) {
      body = std::stoul(head.substr(p + 16));
    }
    // A HEAD answer announces a length but sends no body.
    if (head_method_) body = 0;
    while (buf_.size() < head_end + body) {
      if (!Fill()) return "";
    }
    std::string out = buf_.substr(0, head_end + body);
    buf_.erase(0, head_end + body);
    return out;
  }
  void set_head(bool head) { head_method_ = head; }

 private:
  bool Fill() {
    char chunk[4096];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  bool connected_ = false;
  bool head_method_ = false;
  std::string buf_;
};

// The server's end of a loopback connection whose client side is `client_port`, among this
// process's descriptors; -1 when there is none.
int ServerSocketFor(int server_port, int client_port) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(entry.path().filename().string());
    sockaddr_in local{}, peer{};
    socklen_t llen = sizeof local, plen = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) != 0 ||
        getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) != 0 ||
        local.sin_family != AF_INET) {
      continue;
    }
    if (ntohs(local.sin_port) == server_port && ntohs(peer.sin_port) == client_port) return fd;
  }
  return -1;
}

// Go's net/http sets TCP_NODELAY on accepted connections; without it a keep-alive client's
// next request waits out a delayed ACK (~40 ms) whenever an answer leaves in more than one
// write. The option is read from the server's own socket, so no timing is involved.
TEST(ServerTest, AcceptedConnectionsHaveNoDelay) {
  Harness h(/*lifecycle=*/false, /*remote_write=*/false);
  h.server.SetReady(true);
  h.client->set_keep_alive(true);
  for (int i = 0; i < 20; ++i) {
    auto r = h.client->Get("/metrics");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
  }
  RawConnection c(h.server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("GET /-/healthy HTTP/1.1\r\nHost: kiln\r\n\r\n"));
  ASSERT_NE(c.ReadResponse(), "");
  // Half a request keeps the server's end open (reading, under its 5-minute read timeout).
  ASSERT_TRUE(c.Send("GET /-/healthy HTTP/1.1\r\n"));
  const int fd = ServerSocketFor(h.server.port(), c.local_port());
  ASSERT_GE(fd, 0);
  int nodelay = 0;
  socklen_t len = sizeof nodelay;
  ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
  EXPECT_NE(nodelay, 0);
}

// Go's server keeps a connection for as many requests as the client sends (httplib's default
// is 5) and its router answers OPTIONS itself.
TEST(ServerTest, KeepAliveBeyondFiveRequestsAndOptions) {
  Harness h(/*lifecycle=*/false, /*remote_write=*/false);
  h.server.SetReady(true);
  h.client->set_keep_alive(true);
  for (int i = 0; i < 20; ++i) {
    auto r = h.client->Get("/metrics");
    ASSERT_TRUE(r);
    EXPECT_NE(r->get_header_value("Connection"), "close") << "request " << i;
  }
  auto r = h.client->Options("/-/healthy");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(r->body, "");
  r = h.client->Options("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

// `curl -X POST http://…/-/reload` sends neither Content-Length nor a body; Go (and so
// Prometheus) reads that as an empty body. The connection stays usable for the next request.
TEST(ServerTest, PostWithoutContentLength) {
  Harness h(/*lifecycle=*/true, /*remote_write=*/false);
  h.server.SetReady(true);
  RawConnection c(h.server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("POST /-/reload HTTP/1.1\r\nHost: kiln\r\nUser-Agent: curl/7.88.1\r\n\r\n"));
  std::string res = c.ReadResponse();
  EXPECT_EQ(res.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << res;
  EXPECT_EQ(h.reloads, 1);
  ASSERT_TRUE(c.Send("PUT /-/quit HTTP/1.1\r\nHost: kiln\r\n\r\n"));
  res = c.ReadResponse();
  EXPECT_EQ(res.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << res;
  EXPECT_NE(res.find("Requesting termination... Goodbye!"), std::string::npos) << res;
  EXPECT_EQ(h.quits, 1);
  // A body announced by Transfer-Encoding is still read as such.
  ASSERT_TRUE(
      c.Send("POST /-/reload HTTP/1.1\r\nHost: kiln\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3\r\nabc\r\n0\r\n\r\n"));
  res = c.ReadResponse();
  EXPECT_EQ(res.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << res;
  EXPECT_EQ(h.reloads, 2);
}

// Go's router serves HEAD only where a HEAD route exists (Prometheus has two: /-/healthy and
// /-/ready); elsewhere it is 405 with the path's methods, as Prometheus 2.42 answers.
TEST(ServerTest, HeadOnlyWhereRegistered) {
  Harness h(/*lifecycle=*/false, /*remote_write=*/false);
  struct Case {
    std::string path;
    int status;
    std::string allow;
  };
  auto check = [&](const std::vector<Case>& cases) {
    for (const auto& c : cases) {
      auto r = h.client->Head(c.path.c_str());
      ASSERT_TRUE(r) << c.path;
      EXPECT_EQ(r->status, c.status) << c.path;
      EXPECT_EQ(r->get_header_value("Allow"), c.allow) << c.path;
      EXPECT_EQ(r->body, "") << c.path;
    }
  };
  check({{"/-/healthy", 200, ""}, {"/-/ready", 503, ""}});
  h.server.SetReady(true);
  check({{"/-/healthy", 200, ""},
         {"/-/ready", 200, ""},
         {"/metrics", 405, "GET, OPTIONS"},
         {"/version", 405, "GET, OPTIONS"},
         {"/-/reload", 405, "GET, OPTIONS, POST, PUT"},
         {"/api/v1/write", 405, "OPTIONS, POST"},
         {"/nope", 404, ""}});
  // The HEAD routes count among a path's methods, as in Go's Allow header.
  auto r = h.client->Post("/-/healthy", "", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "GET, HEAD, OPTIONS");
  // On a raw connection, the 405 keeps the connection usable (no body follows a HEAD answer).
  RawConnection c(h.server.port());
  ASSERT_TRUE(c.connected());
  c.set_head(true);
  ASSERT_TRUE(c.Send("HEAD /metrics HTTP/1.1\r\nHost: kiln\r\n\r\n"));
  std::string res = c.ReadResponse();
  EXPECT_EQ(res.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << res;
  c.set_head(false);
  ASSERT_TRUE(c.Send("GET /-/healthy HTTP/1.1\r\nHost: kiln\r\n\r\n"));
  res = c.ReadResponse();
  EXPECT_NE(res.find("Prometheus Server is Healthy."), std::string::npos) << res;
}

TEST(ServerTest, BindFailures) {
  Server::Options no_port;
  no_port.listen_address = "127.0.0.1";
  Server bad(no_port, QuietLogger());
  EXPECT_EQ(bad.Start().code(), StatusCode::kBadData);
  Harness h(false, false);
  Server::Options taken;
  taken.listen_address = "127.0.0.1:" + std::to_string(h.server.port());
  Server clash(taken, QuietLogger());
  EXPECT_EQ(clash.Start().code(), StatusCode::kIOError);
}

}  // namespace
}  // namespace kiln::web
