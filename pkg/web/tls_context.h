// Turns a web config's tls_server_config into an OpenSSL server context, with upstream's
// (Go crypto/tls) semantics: client_auth_type modes, TLS 1.0-1.3 bounds, Go cipher-suite names
// (they restrict TLS 1.0-1.2 only; Go does not let TLS 1.3 suites be configured either), curve
// preferences. Like upstream (which re-reads everything for every connection), nothing needs a
// restart: each handshake checks (one stat() each) whether the web config file or the
// certificate/key files changed; a changed web config moves the connection to a context built
// from the new tls_server_config (a file that no longer loads fails handshakes until fixed, as
// upstream), a changed certificate or key is loaded (a pair that fails to load keeps the old
// one in service, since the files may be mid-rotation).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "pkg/util/status.h"
#include "pkg/web/web_config.h"

namespace kiln::web {

// Configures `ctx` (a fresh TLS_server_method() context) for `cfg`; the certificate and key
// are loaded and checked against each other now. `config_path` labels errors and is the file
// re-read on change. The context owns what it needs for reloading.
// Errors: kBadData naming the file and field ("failed to load X509KeyPair: ...").
Status ConfigureServerTls(const TlsServerConfig& cfg, const std::string& config_path, SSL_CTX* ctx);

}  // namespace kiln::web
