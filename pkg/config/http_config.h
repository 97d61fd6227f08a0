// HTTP client settings shared by scrape configs, HTTP SD, Alertmanagers and remote
// read/write (prometheus/common's config.HTTPClientConfig): TLS, basic auth, authorization
// headers, OAuth2, proxies and custom headers.
//
// Every struct here is a plain value type (thread-compatible). `Fields(v, self)` lists the
// YAML keys in upstream's order; the same list drives decoding and ToYaml. Relative file
// paths are already resolved against the config file's directory after loading. Secrets hold
// the real value; ToYaml prints them as `<secret>`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pkg/util/status.h"

namespace kiln::config {

struct TLSConfig {
  static constexpr const char* kYamlType = "config.TLSConfig";
  std::string ca;
  std::string ca_file;
  std::string cert;
  std::string cert_file;
  std::string key;  // secret
  std::string key_file;
  std::string server_name;
  bool insecure_skip_verify = false;
  std::string min_version;  // "", TLS10, TLS11, TLS12, TLS13
  std::string max_version;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("ca", s.ca);
    v("cert", s.cert);
    v.Secret("key", s.key);
    v.File("ca_file", s.ca_file);
    v.File("cert_file", s.cert_file);
    v.File("key_file", s.key_file);
    v("server_name", s.server_name);
    v("insecure_skip_verify", s.insecure_skip_verify);
    v("min_version", s.min_version);
    v("max_version", s.max_version);
  }
  Status Validate() const;
};

struct BasicAuth {
  static constexpr const char* kYamlType = "config.BasicAuth";
  std::string username;
  std::string username_file;
  std::string password;  // secret
  std::string password_file;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("username", s.username);
    v.File("username_file", s.username_file);
    v.Secret("password", s.password);
    v.File("password_file", s.password_file);
  }
  Status Validate() const;
};

struct Authorization {
  static constexpr const char* kYamlType = "config.Authorization";
  std::string type;         // defaults to "Bearer" when credentials are configured
  std::string credentials;  // secret
  std::string credentials_file;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("type", s.type);
    v.Secret("credentials", s.credentials);
    v.File("credentials_file", s.credentials_file);
  }
};

struct OAuth2 {
  static constexpr const char* kYamlType = "config.OAuth2";
  std::string client_id;
  std::string client_secret;  // secret
  std::string client_secret_file;
  std::vector<std::string> scopes;
  std::string token_url;
  std::map<std::string, std::string> endpoint_params;
  TLSConfig tls_config;
  std::string proxy_url;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("client_id", s.client_id);
    v.Secret("client_secret", s.client_secret);
    v.File("client_secret_file", s.client_secret_file);
    v("scopes", s.scopes);
    v("token_url", s.token_url);
    v("endpoint_params", s.endpoint_params);
    v("tls_config", s.tls_config);
    v("proxy_url", s.proxy_url);
  }
  Status Validate() const;
};

// One entry of http_headers: plain values, secret values and files holding values.
struct HTTPHeader {
  static constexpr const char* kYamlType = "config.Header";
  std::vector<std::string> values;
  std::vector<std::string> secrets;
  std::vector<std::string> files;

  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("values", s.values);
    v.SecretList("secrets", s.secrets);
    v.FileList("files", s.files);
  }
};

struct HTTPClientConfig {
  static constexpr const char* kYamlType = "config.HTTPClientConfig";
  std::optional<BasicAuth> basic_auth;
  std::optional<Authorization> authorization;
  std::optional<OAuth2> oauth2;
  // Legacy fields; Validate() folds them into `authorization` (type Bearer) as upstream does.
  std::string bearer_token;  // secret
  std::string bearer_token_file;
  TLSConfig tls_config;
  std::string proxy_url;
  std::string no_proxy;
  bool proxy_from_environment = false;
  std::map<std::string, std::vector<std::string>> proxy_connect_header;
  bool follow_redirects = true;
  bool enable_http2 = true;
  std::map<std::string, HTTPHeader> http_headers;

  // Inline fields of the enclosing struct (ScrapeConfig, RemoteWriteConfig, …).
  template <typename V, typename S>
  static void Fields(V& v, S& s) {
    v("basic_auth", s.basic_auth);
    v("authorization", s.authorization);
    v("oauth2", s.oauth2);
    v.Secret("bearer_token", s.bearer_token);
    v.File("bearer_token_file", s.bearer_token_file);
    v("tls_config", s.tls_config);
    v("proxy_url", s.proxy_url);
    v("no_proxy", s.no_proxy);
    v("proxy_from_environment", s.proxy_from_environment);
    v("proxy_connect_header", s.proxy_connect_header);
    v("follow_redirects", s.follow_redirects);
    v("enable_http2", s.enable_http2);
    v("http_headers", s.http_headers);
  }
  // Upstream's rules ("at most one of basic_auth, oauth2, bearer_token & bearer_token_file
  // must be configured", …); moves bearer_token(_file) into authorization.
  Status Validate();
};

}  // namespace kiln::config
