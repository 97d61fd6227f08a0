// Section-level validation with upstream's messages. Each Validate() runs right after its
// section is decoded; the decoder prefixes "file:line: ".
#include <algorithm>
#include <cctype>

#include "pkg/config/config.h"
#include "pkg/model/labels.h"

namespace kiln::config {
namespace {

std::string Quote(std::string_view s) {
  std::string out;
  model::AppendGoQuoted(&out, s);
  return out;
}

int NonEmpty(std::initializer_list<const std::string*> fields) {
  return static_cast<int>(std::count_if(fields.begin(), fields.end(),
                                        [](const std::string* s) { return !s->empty(); }));
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ValidTLSVersion(const std::string& v) {
  return v.empty() || v == "TLS10" || v == "TLS11" || v == "TLS12" || v == "TLS13";
}

Status ValidateAuthorization(HTTPClientConfig* c) {
  Authorization& a = *c->authorization;
  if (!c->bearer_token.empty() || !c->bearer_token_file.empty()) {
    return Status::BadData("authorization is not compatible with bearer_token & bearer_token_file");
  }
  if (NonEmpty({&a.credentials, &a.credentials_file}) > 1) {
    return Status::BadData(
        "at most one of authorization credentials & credentials_file must be configured");
  }
  auto first = a.type.find_first_not_of(" \t");
  a.type = first == std::string::npos
               ? ""
               : a.type.substr(first, a.type.find_last_not_of(" \t") - first + 1);
  if (a.type.empty()) a.type = "Bearer";
  if (Lower(a.type) == "basic") {
    return Status::BadData(
        "authorization type cannot be set to \"basic\", use \"basic_auth\" instead");
  }
  if (c->basic_auth || c->oauth2) {
    return Status::BadData("at most one of basic_auth, oauth2 & authorization must be configured");
  }
  return Status::OK();
}

Status ValidateOAuth2(const HTTPClientConfig& c) {
  if (c.basic_auth) {
    return Status::BadData("at most one of basic_auth, oauth2 & authorization must be configured");
  }
  return c.oauth2->Validate();
}

// Reserved remote read/write headers (upstream config.reservedHeaders).
Status ValidateHeaders(const std::map<std::string, std::string>& headers) {
  static const char* const kReserved[] = {"host",
                                          "content-encoding",
                                          "content-length",
                                          "content-type",
                                          "user-agent",
                                          "connection",
                                          "keep-alive",
                                          "proxy-authenticate",
                                          "proxy-authorization",
                                          "www-authenticate",
                                          "accept-encoding",
                                          "x-prometheus-remote-write-version",
                                          "x-prometheus-remote-read-version",
                                          "x-amz-date",
                                          "x-amz-security-token",
                                          "x-amz-content-sha256"};
  for (const auto& [name, value] : headers) {
    std::string l = Lower(name);
    if (l == "authorization") {
      return Status::BadData(
          "authorization header must be changed via the basic_auth, authorization, oauth2, "
          "sigv4, azuread or google_iam parameter");
    }
    for (const char* r : kReserved) {
      if (l == r) return Status::BadData(name + " is a reserved header. It must not be changed");
    }
  }
  return Status::OK();
}

// Without relabeling, a static target is used as the address as is: a URL there is a mistake.
Status CheckStaticTargets(const ServiceDiscoveryConfigs& sd) {
  for (const auto& sc : sd.static_configs) {
    for (const auto& t : sc.targets) {
      if (t.find('/') != std::string::npos) {
        return Status::BadData(Quote(t) + " is not a valid hostname");
      }
    }
  }
  return Status::OK();
}

bool HasHttpScheme(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

}  // namespace

Status TLSConfig::Validate() const {
  if (NonEmpty({&ca, &ca_file}) > 1) {
    return Status::BadData("at most one of ca and ca_file must be configured");
  }
  if (NonEmpty({&cert, &cert_file}) > 1) {
    return Status::BadData("at most one of cert and cert_file must be configured");
  }
  if (NonEmpty({&key, &key_file}) > 1) {
    return Status::BadData("at most one of key and key_file must be configured");
  }
  bool has_cert = !cert.empty() || !cert_file.empty();
  bool has_key = !key.empty() || !key_file.empty();
  if (has_cert && !has_key) {
    return Status::BadData(
        "exactly one of key or key_file must be configured when a client certificate is "
        "configured");
  }
  if (has_key && !has_cert) {
    return Status::BadData(
        "exactly one of cert or cert_file must be configured when a client key is configured");
  }
  if (!ValidTLSVersion(min_version)) return Status::BadData("unknown TLS version: " + min_version);
  if (!ValidTLSVersion(max_version)) return Status::BadData("unknown TLS version: " + max_version);
  return Status::OK();
}

Status BasicAuth::Validate() const {
  if (NonEmpty({&username, &username_file}) > 1) {
    return Status::BadData(
        "at most one of basic_auth username, username_file & username_ref must be configured");
  }
  if (NonEmpty({&password, &password_file}) > 1) {
    return Status::BadData(
        "at most one of basic_auth password, password_file & password_ref must be configured");
  }
  return Status::OK();
}

Status OAuth2::Validate() const {
  if (client_id.empty()) return Status::BadData("oauth2 client_id must be configured");
  if (token_url.empty()) return Status::BadData("oauth2 token_url must be configured");
  if (NonEmpty({&client_secret, &client_secret_file}) > 1) {
    return Status::BadData(
        "at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be "
        "configured");
  }
  return Status::OK();
}

Status HTTPClientConfig::Validate() {
  if (!bearer_token.empty() && !bearer_token_file.empty()) {
    return Status::BadData("at most one of bearer_token & bearer_token_file must be configured");
  }
  if ((basic_auth || oauth2) && (!bearer_token.empty() || !bearer_token_file.empty())) {
    return Status::BadData(
        "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be "
        "configured");
  }
  if (authorization) {
    KILN_RETURN_IF_ERROR(ValidateAuthorization(this));
  } else if (!bearer_token.empty() || !bearer_token_file.empty()) {
    authorization = Authorization{"Bearer", bearer_token, bearer_token_file};
    bearer_token.clear();
    bearer_token_file.clear();
  }
  if (oauth2) KILN_RETURN_IF_ERROR(ValidateOAuth2(*this));
  if (proxy_from_environment && !proxy_url.empty()) {
    return Status::BadData(
        "if proxy_from_environment is configured, proxy_url must not be configured");
  }
  if (!no_proxy.empty() && proxy_url.empty()) {
    return Status::BadData("if no_proxy is configured, proxy_url must also be configured");
  }
  return Status::OK();
}

Status FileSDConfig::Validate() const {
  if (files.empty()) {
    return Status::BadData("file service discovery config must contain at least one path name");
  }
  for (const auto& f : files) {
    auto slash = f.rfind('/');
    std::string base = slash == std::string::npos ? f : f.substr(slash + 1);
    auto dot = base.rfind('.');
    std::string ext = dot == std::string::npos ? "" : base.substr(dot);
    if (ext != ".json" && ext != ".yml" && ext != ".yaml") {
      return Status::BadData("path name " + Quote(f) + " is not valid for file discovery");
    }
  }
  return Status::OK();
}

Status HTTPSDConfig::Validate() {
  if (url.empty()) return Status::BadData("URL is missing");
  if (!HasHttpScheme(url)) return Status::BadData("URL scheme must be 'http' or 'https'");
  return http.Validate();
}

Status DNSSDConfig::Validate() {
  if (names.empty()) {
    return Status::BadData("DNS-SD config must contain at least one SRV record name");
  }
  for (char& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (type == "SRV") return Status::OK();
  if (type == "A" || type == "AAAA" || type == "MX" || type == "NS") {
    if (port == 0) {
      return Status::BadData(
          "a port is required in DNS-SD configs for all record types except SRV");
    }
    return Status::OK();
  }
  return Status::BadData("invalid DNS-SD records type " + type);
}

Status ScrapeConfig::Validate() {
  if (job_name.empty()) return Status::BadData("job_name is empty");
  KILN_RETURN_IF_ERROR(http.Validate());
  if (relabel_configs.empty()) KILN_RETURN_IF_ERROR(CheckStaticTargets(sd));
  return Status::OK();
}

Status AlertmanagerConfig::Validate() {
  KILN_RETURN_IF_ERROR(http.Validate());
  if (api_version != "v2") {
    return Status::BadData("expected Alertmanager api version to be one of [v2] but got " +
                           api_version);
  }
  if (relabel_configs.empty()) KILN_RETURN_IF_ERROR(CheckStaticTargets(sd));
  return Status::OK();
}

Status RemoteWriteConfig::Validate() {
  if (url.empty()) return Status::BadData("url for remote_write is empty");
  if (!HasHttpScheme(url)) {
    return Status::BadData("invalid remote_write url " + Quote(url) + ": scheme must be http(s)");
  }
  KILN_RETURN_IF_ERROR(ValidateHeaders(headers));
  if (protobuf_message != "prometheus.WriteRequest" &&
      protobuf_message != "io.prometheus.write.v2.Request") {
    return Status::BadData("unknown remote write protobuf message " + protobuf_message +
                           ", supported: prometheus.WriteRequest, io.prometheus.write.v2.Request");
  }
  return http.Validate();
}

Status RemoteReadConfig::Validate() {
  if (url.empty()) return Status::BadData("url for remote_read is empty");
  if (!HasHttpScheme(url)) {
    return Status::BadData("invalid remote_read url " + Quote(url) + ": scheme must be http(s)");
  }
  KILN_RETURN_IF_ERROR(ValidateHeaders(headers));
  return http.Validate();
}

Status OTLPConfig::Validate() const {
  static const char* const kStrategies[] = {"UnderscoreEscapingWithSuffixes",
                                            "UnderscoreEscapingWithoutSuffixes",
                                            "NoUTF8EscapingWithSuffixes", "NoTranslation"};
  for (const char* s : kStrategies) {
    if (translation_strategy == s) return Status::OK();
  }
  return Status::BadData("unsupported OTLP translation strategy " + Quote(translation_strategy));
}

Status TracingConfig::Validate() const {
  if (client_type != "grpc" && client_type != "http") {
    return Status::BadData("expected tracing client type to be to be http or grpc, but got " +
                           client_type);
  }
  if (endpoint.empty()) return Status::BadData("tracing endpoint must be set");
  if (!compression.empty() && compression != "gzip") {
    return Status::BadData("invalid compression type " + compression +
                           " provided, valid options: gzip");
  }
  return Status::OK();
}

}  // namespace kiln::config
