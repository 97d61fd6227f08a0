// WebConfig: the file behind --web.config.file, in the Prometheus exporter-toolkit format
// (https://prometheus.io/docs/prometheus/latest/configuration/https/):
//
//   tls_server_config:        # TLS is on when any cert/key/client-CA/client-auth field is set
//     cert_file: server.crt   # or `cert:` with the PEM inline; paths relative to the file
//     key_file: server.key    # or `key:`
//     client_auth_type: RequireAndVerifyClientCert
//     client_ca_file: ca.crt  # or `client_ca:`
//     min_version: TLS12      # TLS10..TLS13, default TLS12; max_version default TLS13
//     cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]   # Go's (IANA) names
//     curve_preferences: [X25519, CurveP256]
//     prefer_server_cipher_suites: true
//   http_server_config:
//     http2: true             # accepted; Kiln speaks HTTP/1.1 only
//     headers: {X-Frame-Options: deny}   # only the security headers upstream allows
//   basic_auth_users:
//     alice: $2y$10$...       # bcrypt hashes
//
// Parsing is strict like upstream's yaml.UnmarshalStrict: unknown fields are errors. Every
// error names the file and the field. The TLS material itself (cert/key/CA files) is checked by
// NewServerTlsContext() in tls_context.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pkg/util/result.h"

namespace kiln::web {

// TLS protocol versions as on the wire (and as OpenSSL's TLS1_x_VERSION constants).
inline constexpr uint16_t kTls10 = 0x0301;
inline constexpr uint16_t kTls11 = 0x0302;
inline constexpr uint16_t kTls12 = 0x0303;
inline constexpr uint16_t kTls13 = 0x0304;

struct TlsServerConfig {
  std::string cert_file;  // absolute, or relative to the process's cwd once resolved
  std::string key_file;
  std::string cert;  // inline PEM
  std::string key;
  std::string client_auth_type;  // "" means NoClientCert
  std::string client_ca_file;
  std::string client_ca;
  std::vector<std::string> cipher_suites;
  std::vector<std::string> curve_preferences;
  uint16_t min_version = kTls12;
  uint16_t max_version = kTls13;
  bool prefer_server_cipher_suites = true;

  // Whether the file asks for TLS at all (upstream's errNoTLSConfig otherwise).
  bool Enabled() const;
};

struct WebConfig {
  TlsServerConfig tls;
  bool http2 = true;
  std::vector<std::pair<std::string, std::string>> headers;  // sorted by name
  std::map<std::string, std::string> users;                  // user → bcrypt hash
};

// Parses `yaml` (the contents of `path`; relative file names in it are resolved against
// dirname(path)). Errors: kBadData "web config file \"<path>\": <field>: <problem>".
Result<WebConfig> ParseWebConfig(std::string_view yaml, const std::string& path);

// Reads and parses `path`. Errors: kIOError when it cannot be read, else as ParseWebConfig.
Result<WebConfig> LoadWebConfig(const std::string& path);

}  // namespace kiln::web
