#include "pkg/discovery/http_client.h"

#include <fstream>
#include <sstream>

namespace kiln::discovery {
namespace {

Result<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("unable to read file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  // Upstream trims surrounding whitespace from credential files.
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

Result<std::string> SecretOrFile(const std::string& inline_value, const std::string& file) {
  if (!file.empty()) return ReadSecretFile(file);
  return inline_value;
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

Result<ParsedUrl> ParseUrl(const std::string& url) {
  size_t sep = url.find("://");
  if (sep == std::string::npos) return Status::BadData("invalid URL " + url);
  ParsedUrl u;
  u.scheme = url.substr(0, sep);
  if (u.scheme != "http" && u.scheme != "https") {
    return Status::BadData("unsupported URL scheme " + u.scheme);
  }
  size_t rest = sep + 3;
  size_t slash = url.find_first_of("/?", rest);
  u.host_port = url.substr(rest, slash == std::string::npos ? std::string::npos : slash - rest);
  u.path_query = slash == std::string::npos ? "/" : url.substr(slash);
  if (!u.path_query.empty() && u.path_query[0] == '?') u.path_query = "/" + u.path_query;
  if (u.host_port.empty()) return Status::BadData("invalid URL " + url);
  return u;
}

Status ValidateClientConfig(const config::HTTPClientConfig& cfg) {
  std::string unsupported;
  auto note = [&](bool set, const char* what) {
    if (set) unsupported += std::string(unsupported.empty() ? "" : ", ") + what;
  };
  note(cfg.oauth2.has_value(), "oauth2");
  note(!cfg.tls_config.ca.empty() || !cfg.tls_config.cert.empty() || !cfg.tls_config.key.empty(),
       "inline tls_config ca/cert/key");
  note(!cfg.tls_config.server_name.empty(), "tls_config.server_name");
  note(!cfg.proxy_connect_header.empty(), "proxy_connect_header");
  if (unsupported.empty()) return Status::OK();
  return Status::BadData("unsupported HTTP client settings ignored: " + unsupported);
}

Result<std::unique_ptr<httplib::Client>> NewHttpClient(const config::HTTPClientConfig& cfg,
                                                       const std::string& scheme,
                                                       const std::string& host_port,
                                                       std::chrono::milliseconds timeout) {
  const config::TLSConfig& tls = cfg.tls_config;
  auto client =
      std::make_unique<httplib::Client>(scheme + "://" + host_port, tls.cert_file, tls.key_file);
  if (!client->is_valid()) return Status::BadData("invalid target address " + host_port);
  if (scheme == "https") {
    if (!tls.ca_file.empty()) client->set_ca_cert_path(tls.ca_file.c_str());
    client->enable_server_certificate_verification(!tls.insecure_skip_verify);
  }
  client->set_follow_location(cfg.follow_redirects);
  client->set_connection_timeout(timeout);
  client->set_read_timeout(timeout);
  client->set_write_timeout(timeout);
  if (!cfg.proxy_url.empty()) {
    KILN_ASSIGN_OR_RETURN(ParsedUrl proxy, ParseUrl(cfg.proxy_url));
    size_t colon = proxy.host_port.rfind(':');
    int port = colon == std::string::npos ? 80 : std::atoi(proxy.host_port.c_str() + colon + 1);
    client->set_proxy(proxy.host_port.substr(0, colon), port);
  }
  return client;
}

Status AddConfiguredHeaders(const config::HTTPClientConfig& cfg, httplib::Headers* headers) {
  if (cfg.basic_auth) {
    const config::BasicAuth& b = *cfg.basic_auth;
    KILN_ASSIGN_OR_RETURN(std::string user, SecretOrFile(b.username, b.username_file));
    KILN_ASSIGN_OR_RETURN(std::string pass, SecretOrFile(b.password, b.password_file));
    headers->emplace("Authorization", "Basic " + Base64(user + ":" + pass));
  } else if (cfg.authorization) {
    const config::Authorization& a = *cfg.authorization;
    KILN_ASSIGN_OR_RETURN(std::string cred, SecretOrFile(a.credentials, a.credentials_file));
    std::string type = a.type.empty() ? "Bearer" : a.type;
    if (!cred.empty()) headers->emplace("Authorization", type + " " + cred);
  }
  for (const auto& [name, h] : cfg.http_headers) {
    for (const std::string& v : h.values) headers->emplace(name, v);
    for (const std::string& v : h.secrets) headers->emplace(name, v);
    for (const std::string& f : h.files) {
      KILN_ASSIGN_OR_RETURN(std::string v, ReadSecretFile(f));
      headers->emplace(name, v);
    }
  }
  return Status::OK();
}

}  // namespace kiln::discovery
