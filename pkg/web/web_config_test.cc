// The web config parser, bcrypt through libcrypt, and Basic auth header decoding.
#include "pkg/web/web_config.h"

#include <gtest/gtest.h>

#include "pkg/web/bcrypt.h"
#include "pkg/web/web_security.h"

namespace kiln::web {
namespace {

// Made by Go's golang.org/x/crypto/bcrypt (upstream's fixed "fakepassword" hash): proves
// libcrypt verifies hashes made elsewhere, not only its own.
constexpr const char* kGoHash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

std::string ErrorOf(std::string_view yaml) {
  Result<WebConfig> c = ParseWebConfig(yaml, "/etc/kiln/web.yml");
  return c.ok() ? "OK" : c.status().message();
}

TEST(WebConfigTest, FullConfig) {
  std::string yaml = std::string(R"(
tls_server_config:
  cert_file: server.crt
  key_file: /abs/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS13
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
  curve_preferences: [X25519, CurveP256]
  prefer_server_cipher_suites: false
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  alice: ')") + kGoHash +
                     "'\n";
  Result<WebConfig> c = ParseWebConfig(yaml, "/etc/kiln/web.yml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->tls.Enabled());
  EXPECT_EQ(c->tls.cert_file, "/etc/kiln/server.crt");  // relative to the file
  EXPECT_EQ(c->tls.key_file, "/abs/server.key");
  EXPECT_EQ(c->tls.client_ca_file, "/etc/kiln/ca.crt");
  EXPECT_EQ(c->tls.client_auth_type, "RequireAndVerifyClientCert");
  EXPECT_EQ(c->tls.min_version, kTls13);
  EXPECT_EQ(c->tls.max_version, kTls13);
  EXPECT_EQ(c->tls.cipher_suites,
            std::vector<std::string>{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"});
  EXPECT_EQ(c->tls.curve_preferences, (std::vector<std::string>{"X25519", "CurveP256"}));
  EXPECT_FALSE(c->tls.prefer_server_cipher_suites);
  EXPECT_FALSE(c->http2);
  ASSERT_EQ(c->headers.size(), 2u);
  EXPECT_EQ(c->headers[0].first, "Strict-Transport-Security");
  EXPECT_EQ(c->headers[1], (std::pair<std::string, std::string>{"X-Frame-Options", "deny"}));
  EXPECT_EQ(c->users.at("alice"), kGoHash);
}

TEST(WebConfigTest, EmptyFileMeansNoTlsNoAuth) {
  Result<WebConfig> c = ParseWebConfig("", "w.yml");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->tls.Enabled());
  EXPECT_TRUE(c->users.empty());
  EXPECT_EQ(c->tls.min_version, kTls12);
  EXPECT_EQ(c->tls.max_version, kTls13);
}

TEST(WebConfigTest, ErrorsNameFileFieldAndLine) {
  EXPECT_EQ(ErrorOf("foo: 1"),
            "web config file \"/etc/kiln/web.yml\": foo: field not found (line 1)");
  EXPECT_EQ(ErrorOf("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14"),
            "web config file \"/etc/kiln/web.yml\": tls_server_config.min_version: unknown TLS "
            "version: TLS14 (line 4)");
  EXPECT_EQ(ErrorOf("tls_server_config:\n  cert_file: a\n  keyfile: b"),
            "web config file \"/etc/kiln/web.yml\": tls_server_config.keyfile: field not found "
            "(line 3)");
  EXPECT_EQ(
      ErrorOf("tls_server_config: [1]"),
      "web config file \"/etc/kiln/web.yml\": tls_server_config: expected a mapping (line 1)");
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: a").find("missing key_file"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  key_file: a").find("missing cert_file"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Bogus")
                .find("tls_server_config.client_auth_type: invalid ClientAuth: Bogus"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c")
                .find("client CA's have been configured without a Client Auth Policy"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [P1]")
                .find("unknown curve: P1"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n"
                    "  max_version: TLS12")
                .find("min_version is greater than max_version"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("http_server_config:\n  headers:\n    Foo: bar"),
            "web config file \"/etc/kiln/web.yml\": http_server_config.headers.Foo: HTTP header "
            "\"Foo\" can not be configured (line 3)");
  EXPECT_NE(ErrorOf("http_server_config:\n  headers:\n    X-Frame-Options: allow")
                .find("http_server_config.headers.X-Frame-Options: invalid value"),
            std::string::npos);
  EXPECT_NE(ErrorOf("http_server_config:\n  http2: maybe").find("http_server_config.http2"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("basic_auth_users:\n  bob: plain"),
            "web config file \"/etc/kiln/web.yml\": basic_auth_users.bob: hashedSecret too short "
            "to be a bcrypted password (line 2)");
  EXPECT_NE(ErrorOf("a: [").find("invalid YAML"), std::string::npos);
  EXPECT_EQ(ErrorOf(std::string("basic_auth_users:\n  bob: ") + kGoHash + "\n  bob: " + kGoHash),
            "web config file \"/etc/kiln/web.yml\": basic_auth_users.bob: key already set in map "
            "(line 3)");
  EXPECT_NE(ErrorOf("http_server_config: {}\nhttp_server_config: {}").find("already set"),
            std::string::npos);
}

TEST(WebConfigTest, Yaml11Booleans) {
  Result<WebConfig> c = ParseWebConfig("http_server_config:\n  http2: no\n", "w.yml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->http2);
  c = ParseWebConfig("tls_server_config:\n  prefer_server_cipher_suites: Off\n", "w.yml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->tls.prefer_server_cipher_suites);
}

TEST(WebConfigTest, LoadMissingFile) {
  Result<WebConfig> c = LoadWebConfig("/nonexistent/web.yml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/nonexistent/web.yml"), std::string::npos);
}

TEST(BcryptTest, VerifiesGoHash) {
  EXPECT_TRUE(CheckBcryptHash(kGoHash).ok());
  EXPECT_TRUE(BcryptMatches(kGoHash, "fakepassword"));
  EXPECT_FALSE(BcryptMatches(kGoHash, "fakepassword2"));
  EXPECT_FALSE(BcryptMatches(kGoHash, ""));
  EXPECT_FALSE(BcryptMatches(kGoHash, std::string("fakepassword\0x", 14)));
}

TEST(BcryptTest, HashRoundTrip) {
  Result<std::string> h = BcryptHash("s3cr3t", 4);
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->substr(0, 7), "$2b$04$");
  EXPECT_TRUE(CheckBcryptHash(*h).ok());
  EXPECT_TRUE(BcryptMatches(*h, "s3cr3t"));
  EXPECT_FALSE(BcryptMatches(*h, "s3cr3T"));
}

TEST(BcryptTest, RejectsMalformedHashes) {
  EXPECT_FALSE(CheckBcryptHash("").ok());
  EXPECT_FALSE(
      CheckBcryptHash("x2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi").ok());
  EXPECT_FALSE(CheckBcryptHash("$1$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi").ok());
  EXPECT_EQ(
      CheckBcryptHash("$2y$03$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi").message(),
      "cost 3 is outside allowed range (4,31)");
  EXPECT_FALSE(
      CheckBcryptHash("$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeS!").ok());
  EXPECT_FALSE(BcryptMatches("$2y$10$short", "x"));
}

TEST(BasicAuthTest, ParsesLikeGo) {
  std::string u, p;
  ASSERT_TRUE(ParseBasicAuth("Basic YWxpY2U6c2VjcmV0", &u, &p));  // alice:secret
  EXPECT_EQ(u, "alice");
  EXPECT_EQ(p, "secret");
  ASSERT_TRUE(ParseBasicAuth("basic YTpiOmM=", &u, &p));  // a:b:c, prefix case-insensitive
  EXPECT_EQ(u, "a");
  EXPECT_EQ(p, "b:c");
  ASSERT_TRUE(ParseBasicAuth("Basic Og==", &u, &p));  // ":"
  EXPECT_EQ(u, "");
  EXPECT_EQ(p, "");
  EXPECT_FALSE(ParseBasicAuth("", &u, &p));
  EXPECT_FALSE(ParseBasicAuth("Bearer YWxpY2U6c2VjcmV0", &u, &p));
  EXPECT_FALSE(ParseBasicAuth("Basic YWxpY2U", &u, &p));            // bad length
  EXPECT_FALSE(ParseBasicAuth("Basic YWxpY2U=", &u, &p));           // no colon ("alice")
  EXPECT_FALSE(ParseBasicAuth("Basic YW=pY2U6", &u, &p));           // padding inside
  EXPECT_FALSE(ParseBasicAuth("Basic  YWxpY2U6c2VjcmV0", &u, &p));  // extra space
}

}  // namespace
}  // namespace kiln::web
