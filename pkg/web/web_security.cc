#include "pkg/web/web_security.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "pkg/web/bcrypt.h"
#include "pkg/web/tls_context.h"

namespace kiln::web {

namespace {

// Upstream compares unknown users against this fixed hash (of "fakepassword") so a request's
// timing does not reveal whether the user exists.
constexpr std::string_view kFakeHash =
    "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict standard base64 with padding (Go's base64.StdEncoding, which skips CR and LF).
bool DecodeBase64(std::string_view in, std::string* out) {
  std::string s;
  for (char c : in) {
    if (c != '\r' && c != '\n') s += c;
  }
  if (s.size() % 4 != 0) return false;
  out->clear();
  for (size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = s[i + j];
      if (c == '=' && i + 4 == s.size() && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;  // data after padding
      v[j] = Base64Value(c);
      if (v[j] < 0) return false;
    }
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out->push_back(static_cast<char>(n >> 16));
    if (pad < 2) out->push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out->push_back(static_cast<char>(n & 0xff));
  }
  return true;
}

std::string Sha256(std::string_view a, std::string_view b, std::string_view c) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  // Length prefixes keep ("ab","c") and ("a","bc") apart.
  for (std::string_view part : {a, b, c}) {
    uint64_t n = part.size();
    EVP_DigestUpdate(ctx, &n, sizeof n);
    EVP_DigestUpdate(ctx, part.data(), part.size());
  }
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  return std::string(reinterpret_cast<const char*>(md), len);
}

// Go's http.Error: the status text, nosniff, plain text.
void GoError(httplib::Response& res, int status, const char* text) {
  res.status = status;
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(std::string(text) + "\n", "text/plain; charset=utf-8");
}

// A refused request's body is never read; left on a keep-alive connection it would be parsed
// as the next request, so such a connection ends after the answer.
void CloseIfBodyUnread(const httplib::Request& req, httplib::Response& res) {
  const std::string length = req.get_header_value("Content-Length");
  if ((!length.empty() && length != "0") || req.has_header("Transfer-Encoding")) {
    res.set_header("Connection", "close");
  }
}

}  // namespace

bool ParseBasicAuth(std::string_view header, std::string* user, std::string* password) {
  constexpr std::string_view kPrefix = "Basic ";
  if (header.size() < kPrefix.size()) return false;
  for (size_t i = 0; i < kPrefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) !=
        std::tolower(static_cast<unsigned char>(kPrefix[i]))) {
      return false;
    }
  }
  std::string decoded;
  if (!DecodeBase64(header.substr(kPrefix.size()), &decoded)) return false;
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  *user = decoded.substr(0, colon);
  *password = decoded.substr(colon + 1);
  return true;
}

bool WebSecurity::Identify(const std::string& path, FileId* id) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  *id = FileId{st.st_dev, st.st_ino, st.st_size,
               int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
  return true;
}

Result<std::unique_ptr<WebSecurity>> WebSecurity::Open(const std::string& path, Logger logger) {
  FileId id;
  Identify(path, &id);  // before reading, so a change during the read is seen next time
  KILN_ASSIGN_OR_RETURN(WebConfig cfg, LoadWebConfig(path));
  return std::unique_ptr<WebSecurity>(new WebSecurity(path, std::move(logger), std::move(cfg), id));
}

WebSecurity::WebSecurity(std::string path, Logger logger, WebConfig cfg, FileId id)
    : path_(std::move(path)),
      logger_(std::move(logger)),
      initial_(std::make_shared<const WebConfig>(std::move(cfg))),
      current_(initial_),
      current_id_(id) {}

std::shared_ptr<const WebConfig> WebSecurity::Current() {
  FileId id;
  const bool exists = Identify(path_, &id);
  std::lock_guard<std::mutex> l(mu_);
  if (exists && id == current_id_ && current_) return current_;
  if (exists && id == current_id_) return nullptr;  // unchanged and still broken
  current_id_ = id;
  Result<WebConfig> cfg = LoadWebConfig(path_);
  if (!cfg.ok()) {
    logger_.Error("Unable to parse configuration", {{"err", cfg.status().message()}});
    current_ = nullptr;
    return nullptr;
  }
  current_ = std::make_shared<const WebConfig>(std::move(cfg).value());
  cache_.clear();  // hashes may have changed
  return current_;
}

bool WebSecurity::CheckPassword(const WebConfig& cfg, const std::string& user,
                                const std::string& password) {
  auto it = cfg.users.find(user);
  const bool known = it != cfg.users.end();
  const std::string_view hash = known ? std::string_view(it->second) : kFakeHash;
  const std::string key = Sha256(user, hash, password);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (auto c = cache_.find(key); c != cache_.end()) return c->second && known;
  }
  bool ok;
  {
    std::lock_guard<std::mutex> l(bcrypt_mu_);
    ok = BcryptMatches(hash, password) && known;
  }
  std::lock_guard<std::mutex> l(mu_);
  if (cache_.size() >= kCacheSize) cache_.erase(cache_.begin());
  cache_[key] = ok;
  return ok;
}

bool WebSecurity::Admit(const httplib::Request& req, httplib::Response& res) {
  std::shared_ptr<const WebConfig> cfg = Current();
  if (!cfg) {
    GoError(res, 500, "Internal Server Error");
    CloseIfBodyUnread(req, res);
    return false;
  }
  for (const auto& [name, value] : cfg->headers) res.set_header(name, value);
  if (cfg->users.empty()) return true;
  std::string user, password;
  if (ParseBasicAuth(req.get_header_value("Authorization"), &user, &password) &&
      CheckPassword(*cfg, user, password)) {
    return true;
  }
  res.set_header("WWW-Authenticate", "Basic");
  GoError(res, 401, "Unauthorized");
  CloseIfBodyUnread(req, res);
  return false;
}

Status ValidateWebConfigFile(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(WebConfig cfg, LoadWebConfig(path));
  if (!cfg.tls.Enabled()) return Status::OK();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return Status::Internal("cannot create a TLS context");
  Status s = ConfigureServerTls(cfg.tls, path, ctx);
  SSL_CTX_free(ctx);
  return s;
}

}  // namespace kiln::web
