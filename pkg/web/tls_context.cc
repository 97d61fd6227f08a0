#include "pkg/web/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string_view>

namespace kiln::web {

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct ChainFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

// The oldest queued OpenSSL error as text ("" if none); clears the queue.
std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  std::string out;
  if (e != 0) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    out = buf.data();
  }
  ERR_clear_error();
  return out;
}

Result<std::string> ReadFile(const std::string& path, std::string_view field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::BadData("failed to read " + std::string(field) + " (" + path +
                           "): " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct KeyPair {
  X509Ptr cert;
  ChainPtr chain;  // intermediates after the leaf, possibly empty
  PkeyPtr key;
};

// Parses PEM certificate(s) and a PEM private key and checks that they belong together, as
// Go's tls.X509KeyPair does.
Result<KeyPair> ParseKeyPair(const std::string& cert_pem, const std::string& key_pem) {
  KeyPair kp;
  BioPtr cb(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  kp.cert.reset(PEM_read_bio_X509_AUX(cb.get(), nullptr, nullptr, nullptr));
  if (!kp.cert) {
    OpenSslError();
    return Status::BadData(
        "failed to load X509KeyPair: failed to find any PEM data in certificate "
        "input");
  }
  kp.chain.reset(sk_X509_new_null());
  while (X509* extra = PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(kp.chain.get(), extra);
  }
  ERR_clear_error();  // the loop ends on a "no start line" error
  BioPtr kb(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  kp.key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  if (!kp.key) {
    OpenSslError();
    return Status::BadData("failed to load X509KeyPair: failed to find any PEM data in key input");
  }
  if (X509_check_private_key(kp.cert.get(), kp.key.get()) != 1) {
    OpenSslError();
    return Status::BadData("failed to load X509KeyPair: private key does not match public key");
  }
  return kp;
}

// Identity of a file's current contents, to notice a replaced certificate cheaply.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  timespec mtime{};
  bool operator==(const FileStamp& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

FileStamp Stamp(const std::string& path) {
  FileStamp s;
  struct stat st;
  if (!path.empty() && ::stat(path.c_str(), &st) == 0) {
    s.dev = st.st_dev;
    s.ino = st.st_ino;
    s.size = st.st_size;
    s.mtime = st.st_mtim;
  }
  return s;
}

// Re-reads cert_file/key_file on a handshake when either changed since the last read. A pair
// that fails to load keeps the previous one in service (the files may be mid-rotation).
// Thread-safe: handshakes run on many worker threads.
class CertReloader {
 public:
  CertReloader(std::string cert_file, std::string key_file)
      : cert_file_(std::move(cert_file)),
        key_file_(std::move(key_file)),
        cert_stamp_(Stamp(cert_file_)),
        key_stamp_(Stamp(key_file_)) {}

  // OpenSSL's certificate callback: installs the newest pair on `ssl`.
  static int OnHandshake(SSL* ssl, void* arg) {
    static_cast<CertReloader*>(arg)->Apply(ssl);
    return 1;
  }

  static int ExIndex() {
    // Registered once per process; the free callback deletes the reloader with its context.
    static const int index = SSL_CTX_get_ex_new_index(
        0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
          delete static_cast<CertReloader*>(ptr);
        });
    return index;
  }

 private:
  void Apply(SSL* ssl) {
    std::lock_guard<std::mutex> l(mu_);
    FileStamp c = Stamp(cert_file_), k = Stamp(key_file_);
    if (!(c == cert_stamp_) || !(k == key_stamp_)) {
      cert_stamp_ = c;
      key_stamp_ = k;
      Result<std::string> cert = ReadFile(cert_file_, "cert_file");
      Result<std::string> key = ReadFile(key_file_, "key_file");
      if (cert.ok() && key.ok()) {
        Result<KeyPair> kp = ParseKeyPair(*cert, *key);
        if (kp.ok()) current_ = std::make_shared<KeyPair>(std::move(kp).value());
      }
    }
    if (!current_) return;  // unchanged since start: the context's pair applies
    SSL_use_certificate(ssl, current_->cert.get());
    SSL_use_PrivateKey(ssl, current_->key.get());
    SSL_set1_chain(ssl, current_->chain.get());
  }

  const std::string cert_file_;
  const std::string key_file_;
  std::mutex mu_;
  FileStamp cert_stamp_;
  FileStamp key_stamp_;
  std::shared_ptr<KeyPair> current_;  // null until a file changed
};

// Go's HTTPS server answers a plain-HTTP request on its TLS port with a 400 so the user sees
// why instead of an empty reply; OpenSSL recognises such a request as the handshake fails, and
// the info callback writes the same answer to the socket before the connection closes.
void AnswerPlainHttp(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_ACCEPT_EXIT) == 0 || ret > 0) return;
  unsigned long e = ERR_peek_last_error();
  if (ERR_GET_LIB(e) != ERR_LIB_SSL || ERR_GET_REASON(e) != SSL_R_HTTP_REQUEST) return;
  static constexpr std::string_view kAnswer =
      "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";
  int fd = SSL_get_fd(ssl);
  if (fd >= 0) (void)::send(fd, kAnswer.data(), kAnswer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

// Go's tls.CipherSuites() names (the ones upstream accepts) for TLS 1.0-1.2.
constexpr std::array<std::string_view, 14> kTls12Suites = {
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
};
constexpr std::array<std::string_view, 3> kTls13Suites = {
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"};

Status CipherList(const TlsServerConfig& cfg, std::string* out) {
  for (const std::string& name : cfg.cipher_suites) {
    if (std::find(kTls13Suites.begin(), kTls13Suites.end(), name) != kTls13Suites.end()) {
      continue;  // Go never restricts TLS 1.3 suites; neither do we
    }
    if (std::find(kTls12Suites.begin(), kTls12Suites.end(), name) == kTls12Suites.end()) {
      return Status::BadData("tls_server_config.cipher_suites: unknown cipher: " + name);
    }
    const char* ossl = OPENSSL_cipher_name(name.c_str());
    if (ossl == nullptr || std::string_view(ossl) == "(NONE)") {
      return Status::BadData("tls_server_config.cipher_suites: cipher " + name +
                             " is not available in this OpenSSL build");
    }
    if (!out->empty()) *out += ':';
    *out += ossl;
  }
  return Status::OK();
}

// Go's curve names as an OpenSSL groups list.
std::string GroupsList(const TlsServerConfig& cfg) {
  std::string groups;
  for (const std::string& c : cfg.curve_preferences) {
    if (!groups.empty()) groups += ':';
    groups += c == "CurveP256"   ? "P-256"
              : c == "CurveP384" ? "P-384"
              : c == "CurveP521" ? "P-521"
                                 : "X25519";
  }
  return groups;
}

Status Configure(const TlsServerConfig& cfg, SSL_CTX* ctx) {
  // Certificate and key.
  std::string cert_pem = cfg.cert, key_pem = cfg.key;
  if (!cfg.cert_file.empty()) {
    KILN_ASSIGN_OR_RETURN(cert_pem, ReadFile(cfg.cert_file, "cert_file"));
  }
  if (!cfg.key_file.empty()) {
    KILN_ASSIGN_OR_RETURN(key_pem, ReadFile(cfg.key_file, "key_file"));
  }
  KILN_ASSIGN_OR_RETURN(KeyPair kp, ParseKeyPair(cert_pem, key_pem));
  if (SSL_CTX_use_certificate(ctx, kp.cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, kp.key.get()) != 1 ||
      SSL_CTX_set1_chain(ctx, kp.chain.get()) != 1) {
    return Status::BadData("failed to load X509KeyPair: " + OpenSslError());
  }
  if (!cfg.cert_file.empty() && !cfg.key_file.empty()) {
    auto* reloader = new CertReloader(cfg.cert_file, cfg.key_file);
    SSL_CTX_set_ex_data(ctx, CertReloader::ExIndex(), reloader);  // owned by ctx from here
    SSL_CTX_set_cert_cb(ctx, &CertReloader::OnHandshake, reloader);
  }

  // Protocol versions.
  if (SSL_CTX_set_min_proto_version(ctx, cfg.min_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, cfg.max_version) != 1) {
    return Status::BadData("tls_server_config: TLS version not supported by OpenSSL: " +
                           OpenSslError());
  }
  if (cfg.min_version < kTls12) {
    // OpenSSL 3's default security level 1 refuses TLS 1.0/1.1 outright; Go allows them when
    // configured, so lower the level to let the configured minimum take effect.
    SSL_CTX_set_security_level(ctx, 0);
  }

  // Cipher suites (TLS <= 1.2) and curves.
  std::string ciphers;
  KILN_RETURN_IF_ERROR(CipherList(cfg, &ciphers));
  if (!ciphers.empty() && SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) {
    return Status::BadData("tls_server_config.cipher_suites: " + OpenSslError());
  }
  if (cfg.prefer_server_cipher_suites) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (!cfg.curve_preferences.empty()) {
    const std::string groups = GroupsList(cfg);
    if (SSL_CTX_set1_groups_list(ctx, groups.c_str()) != 1) {
      return Status::BadData("tls_server_config.curve_preferences: " + OpenSslError());
    }
  }

  // Client certificates.
  if (!cfg.client_ca_file.empty() || !cfg.client_ca.empty()) {
    std::string ca_pem = cfg.client_ca;
    if (!cfg.client_ca_file.empty()) {
      KILN_ASSIGN_OR_RETURN(ca_pem, ReadFile(cfg.client_ca_file, "client_ca_file"));
    }
    BioPtr bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    int n = 0;
    while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, ca);
      sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca)));
      X509_free(ca);
      ++n;
    }
    ERR_clear_error();
    SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
    if (n == 0) {
      // Go's AppendCertsFromPEM ignores junk silently, leaving an empty pool that rejects
      // every client; saying so at start is kinder.
      return Status::BadData("tls_server_config.client_ca_file: no PEM certificate found");
    }
  }
  const std::string& auth = cfg.client_auth_type;
  // Request*/RequireAny* ask for a certificate but, as in Go, do not verify its chain.
  auto accept_any = [](int, X509_STORE_CTX*) { return 1; };
  if (auth == "RequestClientCert") {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
  } else if (auth == "RequireAnyClientCert" || auth == "RequireClientCert") {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
  } else if (auth == "VerifyClientCertIfGiven") {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else if (auth == "RequireAndVerifyClientCert") {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  SSL_CTX_set_info_callback(ctx, &AnswerPlainHttp);
  // Session resumption with client verification needs a context id.
  static constexpr unsigned char kSessionContext[] = "kiln";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  return Status::OK();
}

// Re-reads the web config file on a handshake when it changed, as upstream's
// GetConfigForClient re-reads it for every connection, and moves the connection to a context
// built from the new tls_server_config. A file that no longer loads (or no longer enables TLS)
// fails handshakes until it is fixed, as upstream's does. Thread-safe.
class ConfigWatcher {
 public:
  explicit ConfigWatcher(std::string path) : path_(std::move(path)), stamp_(Stamp(path_)) {}

  // OpenSSL's ClientHello callback: runs before the protocol version and cipher are chosen,
  // so everything below still applies to this handshake.
  static int OnClientHello(SSL* ssl, int* alert, void* arg) {
    return static_cast<ConfigWatcher*>(arg)->Apply(ssl, alert);
  }

  static int ExIndex() {
    static const int index = SSL_CTX_get_ex_new_index(
        0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
          delete static_cast<ConfigWatcher*>(ptr);
        });
    return index;
  }

 private:
  struct Derived {
    TlsServerConfig cfg;
    std::shared_ptr<SSL_CTX> ctx;
  };

  int Apply(SSL* ssl, int* alert) {
    std::shared_ptr<const Derived> d;
    {
      std::lock_guard<std::mutex> l(mu_);
      FileStamp now = Stamp(path_);
      if (!(now == stamp_)) {
        stamp_ = now;
        Reload();
      }
      if (broken_) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
      }
      d = current_;
    }
    if (d == nullptr) return SSL_CLIENT_HELLO_SUCCESS;  // unchanged since start
    SSL_CTX* ctx = d->ctx.get();
    // SSL_set_SSL_CTX brings the certificate (with its reloader), the trust store and the
    // session id context; what SSL_new copied from the old context is set by hand.
    SSL_set_SSL_CTX(ssl, ctx);
    SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx), SSL_CTX_get_verify_callback(ctx));
    SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(ctx));
    SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(ctx));
    SSL_set_security_level(ssl, SSL_CTX_get_security_level(ctx));
    SSL_clear_options(ssl, SSL_get_options(ssl));
    SSL_set_options(ssl, SSL_CTX_get_options(ctx));
    std::string ciphers;
    (void)CipherList(d->cfg, &ciphers);  // validated when the context was built
    SSL_set_cipher_list(ssl, ciphers.empty() ? OSSL_default_cipher_list() : ciphers.c_str());
    SSL_set1_groups_list(ssl, d->cfg.curve_preferences.empty() ? "X25519:P-256:X448:P-521:P-384"
                                                               : GroupsList(d->cfg).c_str());
    STACK_OF(X509_NAME)* cas = SSL_CTX_get_client_CA_list(ctx);
    SSL_set_client_CA_list(ssl, cas != nullptr ? SSL_dup_CA_list(cas) : nullptr);
    return SSL_CLIENT_HELLO_SUCCESS;
  }

  // REQUIRES: mu_ held.
  void Reload() {
    broken_ = true;
    Result<WebConfig> cfg = LoadWebConfig(path_);
    if (!cfg.ok() || !cfg->tls.Enabled()) return;
    std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    if (ctx == nullptr) return;
    // The options cpp-httplib gives the context it creates.
    SSL_CTX_set_options(ctx.get(),
                        SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
    if (!Configure(cfg->tls, ctx.get()).ok()) return;
    current_ = std::make_shared<const Derived>(Derived{cfg->tls, std::move(ctx)});
    broken_ = false;
  }

  const std::string path_;
  std::mutex mu_;
  FileStamp stamp_;
  bool broken_ = false;
  std::shared_ptr<const Derived> current_;  // null while the file is as at start
};

}  // namespace

Status ConfigureServerTls(const TlsServerConfig& cfg, const std::string& config_path,
                          SSL_CTX* ctx) {
  Status s = Configure(cfg, ctx);
  if (!s.ok()) return Status::BadData("web config file \"" + config_path + "\": " + s.message());
  auto* watcher = new ConfigWatcher(config_path);
  SSL_CTX_set_ex_data(ctx, ConfigWatcher::ExIndex(), watcher);  // owned by ctx from here
  SSL_CTX_set_client_hello_cb(ctx, &ConfigWatcher::OnClientHello, watcher);
  return s;
}

}  // namespace kiln::web
