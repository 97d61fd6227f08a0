// Turns a web config's tls_server_config into an OpenSSL server context, with upstream's
// (Go crypto/tls) semantics: client_auth_type modes, TLS 1.0-1.3 bounds, Go cipher-suite names
// (they restrict TLS 1.0-1.2 only; Go does not let TLS 1.3 suites be configured either), curve
// preferences, and the certificate and key re-read from disk on every handshake when their
// files changed, so a renewed certificate is served without a restart (upstream re-reads on
// every connection too).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "pkg/util/status.h"
#include "pkg/web/web_config.h"

namespace kiln::web {

// Configures `ctx` (a fresh TLS_server_method() context) for `cfg`; the certificate and key
// are loaded and checked against each other now. `config_path` only labels errors.
// The context keeps its own copy of what it needs for reloading.
// Errors: kBadData naming the file and field ("failed to load X509KeyPair: ...").
Status ConfigureServerTls(const TlsServerConfig& cfg, const std::string& config_path, SSL_CTX* ctx);

}  // namespace kiln::web
