// A real Server on 127.0.0.1 with --web.config.file: TLS (certificates made by the openssl
// CLI), client certificates, basic auth with bcrypt, headers, and the file re-read while
// serving.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "pkg/web/bcrypt.h"
#include "pkg/web/server.h"

namespace kiln::web {
namespace {

namespace fs = std::filesystem;

Logger QuietLogger() {
  static int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  return Logger(LogLevel::kInfo, Logger::Format::kLogfmt, fd);
}

void Write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::trunc) << s; }

// A CA, a server certificate for 127.0.0.1 and a client certificate, signed by the CA.
class Pki {
 public:
  explicit Pki(const fs::path& dir, const std::string& ca_name = "kiln-test-ca") : dir_(dir) {
    fs::create_directories(dir);
    Write(dir / "san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    const std::string d = dir.string();
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    Run("openssl req -x509" + ec + " -keyout " + d + "/ca.key -out " + d + "/ca.crt -days 1 " +
        "-subj /CN=" + ca_name);
    for (const char* who : {"server", "client"}) {
      const std::string w = d + "/" + who;
      Run("openssl req" + ec + " -keyout " + w + ".key -out " + w + ".csr -subj /CN=" + who);
      Run("openssl x509 -req -in " + w + ".csr -CA " + d + "/ca.crt -CAkey " + d +
          "/ca.key -CAcreateserial -out " + w + ".crt -days 1 -extfile " + d + "/san.ext");
    }
  }
  std::string operator()(const char* file) const { return (dir_ / file).string(); }

 private:
  static void Run(const std::string& cmd) {
    ASSERT_EQ(std::system((cmd + " >/dev/null 2>&1").c_str()), 0) << cmd;
  }
  fs::path dir_;
};

class WebSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kiln_websec_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    pki_ = std::make_unique<Pki>(dir_ / "pki");
    Result<std::string> h = BcryptHash("secret", 4);
    ASSERT_TRUE(h.ok());
    alice_hash_ = *h;
  }
  void TearDown() override {
    if (server_) server_->Stop();
    fs::remove_all(dir_);
  }

  // Starts a server with `web_yml` as its web config; "" if Start() succeeded, else its error.
  std::string StartWith(const std::string& web_yml) {
    Write(dir_ / "web.yml", web_yml);
    Server::Options o;
    o.listen_address = "127.0.0.1:0";
    o.web_config_file = (dir_ / "web.yml").string();
    server_ = std::make_unique<Server>(o, QuietLogger());
    server_->Register(
        "GET", "/hello",
        [](const httplib::Request&, httplib::Response& res) {
          res.set_content("hi", "text/plain");
        },
        Server::Gate::kAlways);
    server_->Register("POST", "/upload", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("stored", "text/plain");
    });
    Status s = server_->Start();
    return s.ok() ? "" : s.message();
  }

  std::string TlsYaml(const std::string& extra = "") const {
    return "tls_server_config:\n  cert_file: pki/server.crt\n  key_file: pki/server.key\n" + extra +
           "http_server_config:\n  headers:\n    X-Frame-Options: deny\n" +
           "basic_auth_users:\n  alice: " + alice_hash_ + "\n";
  }

  std::unique_ptr<httplib::SSLClient> Client(const std::string& ca) const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", server_->port());
    c->set_ca_cert_path(ca.c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(5);
    return c;
  }

  fs::path dir_;
  std::unique_ptr<Pki> pki_;
  std::string alice_hash_;
  std::unique_ptr<Server> server_;
};

TEST_F(WebSecurityTest, BasicAuthOverTls) {
  ASSERT_EQ(StartWith(TlsYaml()), "");
  EXPECT_TRUE(server_->tls());
  auto c = Client((*pki_)("ca.crt"));

  auto r = c->Get("/hello");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->body, "Unauthorized\n");
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Basic");
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r->get_header_value("X-Frame-Options"), "deny");

  c->set_basic_auth("alice", "secret");
  r = c->Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hi");
  EXPECT_EQ(r->get_header_value("X-Frame-Options"), "deny");
  EXPECT_FALSE(r->has_header("WWW-Authenticate"));
  r = c->Get("/hello");  // the cached verdict
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  c->set_basic_auth("alice", "wrong");
  r = c->Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Basic");
  c->set_basic_auth("mallory", "secret");
  r = c->Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);

  // Unknown paths are behind auth too, and answer 404 once authenticated.
  c->set_basic_auth("alice", "secret");
  r = c->Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST_F(WebSecurityTest, PlainHttpOnTlsPortIsRefusedWithGosAnswer) {
  ASSERT_EQ(StartWith(TlsYaml()), "");
  for (int i = 0; i < 3; ++i) {
    httplib::Client plain("127.0.0.1", server_->port());
    plain.set_read_timeout(5);
    plain.set_basic_auth("alice", "secret");
    auto r = plain.Get("/hello");
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(r->body, "Client sent an HTTP request to an HTTPS server.\n");
  }
  // The server still speaks TLS afterwards.
  auto c = Client((*pki_)("ca.crt"));
  c->set_basic_auth("alice", "secret");
  auto r = c->Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(WebSecurityTest, UntrustedServerCertificateIsRejectedByClient) {
  ASSERT_EQ(StartWith(TlsYaml()), "");
  Pki other(dir_ / "other", "other-ca");
  auto c = Client(other("ca.crt"));
  EXPECT_FALSE(c->Get("/hello"));
}

TEST_F(WebSecurityTest, AuthWithoutTls) {
  ASSERT_EQ(StartWith("basic_auth_users:\n  alice: " + alice_hash_ + "\n"), "");
  EXPECT_FALSE(server_->tls());
  httplib::Client c("127.0.0.1", server_->port());
  auto r = c.Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  c.set_basic_auth("alice", "secret");
  r = c.Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// A refused request's body is not read; the connection must not parse it as the next request.
TEST_F(WebSecurityTest, RefusedBodyDoesNotPoisonKeepAlive) {
  ASSERT_EQ(StartWith("basic_auth_users:\n  alice: " + alice_hash_ + "\n"), "");
  httplib::Client c("127.0.0.1", server_->port());
  c.set_keep_alive(true);
  c.set_basic_auth("alice", "wrong");
  auto r = c.Post("/upload", std::string(20000, 'x'), "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("Connection"), "close");
  c.set_basic_auth("alice", "secret");
  r = c.Get("/hello");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hi");
}

TEST_F(WebSecurityTest, ConfigReReadWhileServing) {
  ASSERT_EQ(StartWith("basic_auth_users:\n  alice: " + alice_hash_ + "\n"), "");
  httplib::Client c("127.0.0.1", server_->port());
  c.set_basic_auth("bob", "hunter2");
  auto r = c.Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);

  Result<std::string> bob = BcryptHash("hunter2", 4);
  ASSERT_TRUE(bob.ok());
  Write(dir_ / "web.yml", "basic_auth_users:\n  bob: " + *bob + "\n");
  r = c.Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  c.set_basic_auth("alice", "secret");
  r = c.Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);

  // A broken file answers 500 (as upstream) until it is fixed; no users = open.
  Write(dir_ / "web.yml", "basic_auth_users: [\n");
  r = c.Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, "Internal Server Error\n");
  Write(dir_ / "web.yml", "{}\n");
  r = c.Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(WebSecurityTest, ClientCertificateRequired) {
  ASSERT_EQ(StartWith(TlsYaml("  client_auth_type: RequireAndVerifyClientCert\n"
                              "  client_ca_file: pki/ca.crt\n")),
            "");
  auto anon = Client((*pki_)("ca.crt"));
  anon->set_basic_auth("alice", "secret");
  EXPECT_FALSE(anon->Get("/hello"));

  httplib::SSLClient with_cert("127.0.0.1", server_->port(), (*pki_)("client.crt"),
                               (*pki_)("client.key"));
  with_cert.set_ca_cert_path((*pki_)("ca.crt").c_str());
  with_cert.enable_server_certificate_verification(true);
  with_cert.set_basic_auth("alice", "secret");
  auto r = with_cert.Get("/hello");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);

  // A certificate from another CA is refused.
  Pki other(dir_ / "other", "other-ca");
  httplib::SSLClient stranger("127.0.0.1", server_->port(), other("client.crt"),
                              other("client.key"));
  stranger.set_ca_cert_path((*pki_)("ca.crt").c_str());
  stranger.enable_server_certificate_verification(true);
  EXPECT_FALSE(stranger.Get("/hello"));
}

TEST_F(WebSecurityTest, MinVersionEnforced) {
  ASSERT_EQ(StartWith(TlsYaml("  min_version: TLS13\n")), "");
  auto c = Client((*pki_)("ca.crt"));
  c->set_basic_auth("alice", "secret");
  SSL_CTX_set_max_proto_version(c->ssl_context(), TLS1_2_VERSION);
  EXPECT_FALSE(c->Get("/hello"));
  auto ok = Client((*pki_)("ca.crt"));
  ok->set_basic_auth("alice", "secret");
  auto r = ok->Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(WebSecurityTest, CertificateReloadedWhenFilesChange) {
  ASSERT_EQ(StartWith(TlsYaml()), "");
  Pki next(dir_ / "next", "next-ca");
  fs::copy_file(next("server.crt"), dir_ / "pki/server.crt", fs::copy_options::overwrite_existing);
  fs::copy_file(next("server.key"), dir_ / "pki/server.key", fs::copy_options::overwrite_existing);
  auto c = Client(next("ca.crt"));
  c->set_basic_auth("alice", "secret");
  auto r = c->Get("/hello");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(Client((*pki_)("ca.crt"))->Get("/hello"));
}

// Upstream re-reads tls_server_config for every connection; so does Kiln (when the file
// changed): client auth, versions and a broken file take effect without a restart.
TEST_F(WebSecurityTest, TlsSettingsReReadPerConnection) {
  ASSERT_EQ(StartWith(TlsYaml()), "");
  auto get = [this](bool with_cert, bool tls12_only) {
    std::unique_ptr<httplib::SSLClient> c =
        with_cert ? std::make_unique<httplib::SSLClient>(
                        "127.0.0.1", server_->port(), (*pki_)("client.crt"), (*pki_)("client.key"))
                  : std::make_unique<httplib::SSLClient>("127.0.0.1", server_->port());
    c->set_ca_cert_path((*pki_)("ca.crt").c_str());
    c->enable_server_certificate_verification(true);
    c->set_basic_auth("alice", "secret");
    if (tls12_only) SSL_CTX_set_max_proto_version(c->ssl_context(), TLS1_2_VERSION);
    auto r = c->Get("/hello");
    return r ? r->status : -1;
  };
  EXPECT_EQ(get(false, true), 200);

  Write(dir_ / "web.yml", TlsYaml("  client_auth_type: RequireAndVerifyClientCert\n"
                                  "  client_ca_file: pki/ca.crt\n"));
  EXPECT_EQ(get(false, false), -1);
  EXPECT_EQ(get(true, false), 200);
  EXPECT_EQ(get(true, true), 200);

  Write(dir_ / "web.yml", TlsYaml("  min_version: TLS13\n"));
  EXPECT_EQ(get(false, true), -1);
  EXPECT_EQ(get(false, false), 200);

  Write(dir_ / "web.yml", "tls_server_config: [\n");
  EXPECT_EQ(get(false, false), -1);
  Write(dir_ / "web.yml", TlsYaml());
  EXPECT_EQ(get(false, true), 200);
}

// Handshakes, auth checks and cache updates from many threads while the file keeps changing
// (run under ASan/UBSan by `make asan-test`): every answer is one of the two configs' verdicts.
TEST_F(WebSecurityTest, ConcurrentRequestsWhileTheFileChanges) {
  ASSERT_EQ(StartWith(TlsYaml()), "");
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, unauthorized{0}, other{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&, t] {
      while (!stop.load()) {
        auto c = Client((*pki_)("ca.crt"));
        c->set_basic_auth("alice", t % 2 == 0 ? "secret" : "wrong");
        auto r = c->Get("/hello");
        if (!r) {
          other++;
        } else if (r->status == 200) {
          ok++;
        } else if (r->status == 401) {
          unauthorized++;
        } else {
          other++;
        }
      }
    });
  }
  for (int i = 0; i < 10; ++i) {
    // Replaced atomically, as config management does: a half-written file is an invalid
    // config for upstream and Kiln alike.
    Write(dir_ / "web.yml.tmp", i % 2 == 0 ? TlsYaml("  min_version: TLS12\n") : TlsYaml());
    fs::rename(dir_ / "web.yml.tmp", dir_ / "web.yml");
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(unauthorized.load(), 0);
  EXPECT_EQ(other.load(), 0);
}

TEST_F(WebSecurityTest, BadConfigsFailStart) {
  std::string err = StartWith(
      "tls_server_config:\n  cert_file: pki/server.crt\n"
      "  key_file: pki/client.key\n");
  EXPECT_NE(err.find("web.yml"), std::string::npos) << err;
  EXPECT_NE(err.find("private key does not match public key"), std::string::npos) << err;

  err = StartWith("tls_server_config:\n  cert_file: pki/missing.crt\n  key_file: pki/server.key\n");
  EXPECT_NE(err.find("failed to read cert_file"), std::string::npos) << err;
  EXPECT_NE(err.find("missing.crt"), std::string::npos) << err;

  err = StartWith(TlsYaml("  cipher_suites: [TLS_FOO]\n"));
  EXPECT_NE(err.find("unknown cipher: TLS_FOO"), std::string::npos) << err;

  err = StartWith("nonsense: true\n");
  EXPECT_NE(err.find("nonsense: field not found"), std::string::npos) << err;
}

}  // namespace
}  // namespace kiln::web
