// WebSecurity: what --web.config.file asks of every HTTP request, as Prometheus's
// exporter-toolkit does it: the configured response headers on every answer, and with
// basic_auth_users a 401 "Unauthorized" + `WWW-Authenticate: Basic` unless the request carries
// a known user and the password matching its bcrypt hash.
//
// Like upstream, the file is re-read while serving: each request checks the file's identity
// (inode, size, mtime; one stat()) and re-parses it when it changed, so users and headers can
// change without a restart. A file that stops parsing answers 500 until it is fixed (upstream's
// behaviour). TLS settings are re-read per handshake (tls_context.h).
//
// bcrypt is slow on purpose, so verified (user, hash, password) outcomes are cached (keyed by
// their SHA-256, at most kCacheSize entries) and hashing is serialised, as upstream does.
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pkg/util/logger.h"
#include "pkg/util/result.h"
#include "pkg/web/web_config.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace kiln::web {

class WebSecurity {
 public:
  static constexpr size_t kCacheSize = 100;

  // Loads and validates `path` (not the TLS files; see tls_context.h).
  static Result<std::unique_ptr<WebSecurity>> Open(const std::string& path, Logger logger);

  // The configuration read at Open(); TLS is set up from it.
  const WebConfig& initial() const { return *initial_; }
  const std::string& path() const { return path_; }

  // Sets the configured headers on `res` and checks basic auth. Returns true when the request
  // may proceed; otherwise `res` holds the complete 401 (or 500) answer.
  bool Admit(const httplib::Request& req, httplib::Response& res);

 private:
  struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const FileId&) const = default;
  };

  // False when `path` cannot be stat()ed.
  static bool Identify(const std::string& path, FileId* id);

  WebSecurity(std::string path, Logger logger, WebConfig cfg, FileId id);

  // The configuration now in force, re-read if the file changed. Null when it no longer
  // loads (already logged).
  std::shared_ptr<const WebConfig> Current();
  bool CheckPassword(const WebConfig& cfg, const std::string& user, const std::string& password);

  const std::string path_;
  const Logger logger_;
  const std::shared_ptr<const WebConfig> initial_;

  std::mutex mu_;  // guards current_, current_id_, cache_
  std::shared_ptr<const WebConfig> current_;
  FileId current_id_;
  std::unordered_map<std::string, bool> cache_;  // SHA-256(user, hash, password) → outcome

  std::mutex bcrypt_mu_;  // one bcrypt at a time: a flood of bad passwords costs one core
};

// Checks a --web.config.file the way Prometheus does at startup (exporter-toolkit's Validate):
// the file parses, the hashes are bcrypt, and the TLS certificate, key and client CA load.
// Errors: kBadData/kIOError naming the file and the field.
Status ValidateWebConfigFile(const std::string& path);

// Decodes an `Authorization: Basic` header value as Go's Request.BasicAuth does.
// Returns false when it is not basic auth or not valid base64 with a ':'.
bool ParseBasicAuth(std::string_view header, std::string* user, std::string* password);

}  // namespace kiln::web
