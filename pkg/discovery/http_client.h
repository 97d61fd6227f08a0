// HTTP client construction shared by HTTP service discovery and scraping: turns a
// config::HTTPClientConfig into a configured cpp-httplib client plus the request headers it
// implies (basic auth, Authorization, http_headers).
//
// Supported: basic_auth (inline or *_file), authorization / bearer token (inline or file),
// http_headers values and files, tls_config ca_file / cert_file / key_file /
// insecure_skip_verify, follow_redirects, proxy_url (http proxies). Not supported: oauth2,
// inline PEM `ca`/`cert`/`key`, server_name, proxy_connect_header; ValidateClientConfig names
// them so the caller can log once. Functions are thread-safe; a Client is not.
#pragma once

#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>

#include "pkg/config/http_config.h"
#include "pkg/util/result.h"

namespace kiln::discovery {

// A URL split the way the clients need it.
struct ParsedUrl {
  std::string scheme;  // "http" or "https"
  std::string host_port;
  std::string path_query;  // "/" at least
};
Result<ParsedUrl> ParseUrl(const std::string& url);

// Explains which configured settings Kiln ignores; OK when everything is supported.
Status ValidateClientConfig(const config::HTTPClientConfig& cfg);

// A client for scheme://host_port with TLS, redirect and proxy settings and `timeout` applied
// to connect, read and write.
Result<std::unique_ptr<httplib::Client>> NewHttpClient(const config::HTTPClientConfig& cfg,
                                                       const std::string& scheme,
                                                       const std::string& host_port,
                                                       std::chrono::milliseconds timeout);

// Appends Authorization and http_headers entries. Credential files are read on every call,
// so rotated secrets are picked up as upstream does.
Status AddConfiguredHeaders(const config::HTTPClientConfig& cfg, httplib::Headers* headers);

}  // namespace kiln::discovery
