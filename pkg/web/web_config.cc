#include "pkg/web/web_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "pkg/web/bcrypt.h"

namespace kiln::web {

namespace {

// Walks the YAML document; every error carries the file, the dotted field path and the line.
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {
    size_t slash = path.rfind('/');
    dir_ = slash == std::string::npos ? "" : path.substr(0, slash);
  }

  Status Error(const YAML::Node& n, std::string_view field, std::string_view msg) const {
    std::string out = "web config file \"" + path_ + "\": ";
    if (!field.empty()) out += std::string(field) + ": ";
    out += msg;
    if (n.IsDefined() && n.Mark().line >= 0) {
      out += " (line " + std::to_string(n.Mark().line + 1) + ")";
    }
    return Status::BadData(out);
  }

  // Upstream joins relative paths to the config file's directory (config.JoinDir).
  std::string Resolve(const std::string& p) const {
    if (p.empty() || p.front() == '/' || dir_.empty()) return p;
    return dir_ + "/" + p;
  }

  // Calls `on_key` for each key of mapping `n`; a key not in `known` is an error, as in
  // yaml.UnmarshalStrict. A null node is an empty mapping.
  Status Mapping(const YAML::Node& n, std::string_view field,
                 std::initializer_list<std::string_view> known,
                 const std::function<Status(const std::string&, const YAML::Node&)>& on_key) const {
    if (n.IsNull()) return Status::OK();
    if (!n.IsMap()) return Error(n, field, "expected a mapping");
    std::set<std::string> seen;
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) return Error(kv.first, field, "keys must be strings");
      std::string key = kv.first.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        return Error(kv.first, Join(field, key), "field not found");
      }
      if (!seen.insert(key).second) {
        return Error(kv.first, Join(field, key), "key already set in map");
      }
      if (Status s = on_key(key, kv.second); !s.ok()) return s;
    }
    return Status::OK();
  }

  Status String(const YAML::Node& n, std::string_view field, std::string* out) const {
    if (n.IsNull()) {
      out->clear();
      return Status::OK();
    }
    if (!n.IsScalar()) return Error(n, field, "expected a string");
    *out = n.Scalar();
    return Status::OK();
  }

  // YAML 1.1 booleans, as Go's yaml.v2 resolves them.
  Status Bool(const YAML::Node& n, std::string_view field, bool* out) const {
    static constexpr std::array<std::string_view, 9> kTrue = {"true", "True", "TRUE", "yes", "Yes",
                                                              "YES",  "on",   "On",   "ON"};
    static constexpr std::array<std::string_view, 9> kFalse = {
        "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    if (std::find(kTrue.begin(), kTrue.end(), s) != kTrue.end()) {
      *out = true;
    } else if (std::find(kFalse.begin(), kFalse.end(), s) != kFalse.end()) {
      *out = false;
    } else {
      return Error(n, field, "expected true or false");
    }
    return Status::OK();
  }

  Status StringList(const YAML::Node& n, std::string_view field,
                    std::vector<std::string>* out) const {
    out->clear();
    if (n.IsNull()) return Status::OK();
    if (!n.IsSequence()) return Error(n, field, "expected a list of strings");
    for (const auto& item : n) {
      if (!item.IsScalar()) return Error(item, field, "expected a list of strings");
      out->push_back(item.Scalar());
    }
    return Status::OK();
  }

  static std::string Join(std::string_view a, std::string_view b) {
    return a.empty() ? std::string(b) : std::string(a) + "." + std::string(b);
  }

 private:
  std::string path_;
  std::string dir_;
};

Status ParseTlsVersion(const Reader& r, const YAML::Node& n, std::string_view field,
                       uint16_t* out) {
  static constexpr std::array<std::pair<std::string_view, uint16_t>, 4> kVersions = {
      {{"TLS10", kTls10}, {"TLS11", kTls11}, {"TLS12", kTls12}, {"TLS13", kTls13}}};
  std::string s;
  if (Status st = r.String(n, field, &s); !st.ok()) return st;
  for (const auto& [name, v] : kVersions) {
    if (name == s) {
      *out = v;
      return Status::OK();
    }
  }
  return r.Error(n, field, "unknown TLS version: " + s);
}

Status ParseTls(const Reader& r, const YAML::Node& n, TlsServerConfig* tls) {
  const std::string_view f = "tls_server_config";
  auto field = [&](const std::string& k) { return Reader::Join(f, k); };
  return r.Mapping(
      n, f,
      {"cert_file", "key_file", "cert", "key", "client_auth_type", "client_ca_file", "client_ca",
       "cipher_suites", "curve_preferences", "min_version", "max_version",
       "prefer_server_cipher_suites"},
      [&](const std::string& k, const YAML::Node& v) -> Status {
        if (k == "cert_file") return r.String(v, field(k), &tls->cert_file);
        if (k == "key_file") return r.String(v, field(k), &tls->key_file);
        if (k == "cert") return r.String(v, field(k), &tls->cert);
        if (k == "key") return r.String(v, field(k), &tls->key);
        if (k == "client_ca_file") return r.String(v, field(k), &tls->client_ca_file);
        if (k == "client_ca") return r.String(v, field(k), &tls->client_ca);
        if (k == "client_auth_type") {
          KILN_RETURN_IF_ERROR(r.String(v, field(k), &tls->client_auth_type));
          static constexpr std::array<std::string_view, 7> kTypes = {"",
                                                                     "NoClientCert",
                                                                     "RequestClientCert",
                                                                     "RequireAnyClientCert",
                                                                     "RequireClientCert",
                                                                     "VerifyClientCertIfGiven",
                                                                     "RequireAndVerifyClientCert"};
          if (std::find(kTypes.begin(), kTypes.end(), tls->client_auth_type) == kTypes.end()) {
            return r.Error(v, field(k), "invalid ClientAuth: " + tls->client_auth_type);
          }
          return Status::OK();
        }
        if (k == "cipher_suites") return r.StringList(v, field(k), &tls->cipher_suites);
        if (k == "curve_preferences") {
          KILN_RETURN_IF_ERROR(r.StringList(v, field(k), &tls->curve_preferences));
          for (const std::string& c : tls->curve_preferences) {
            if (c != "CurveP256" && c != "CurveP384" && c != "CurveP521" && c != "X25519") {
              return r.Error(v, field(k), "unknown curve: " + c);
            }
          }
          return Status::OK();
        }
        if (k == "min_version") return ParseTlsVersion(r, v, field(k), &tls->min_version);
        if (k == "max_version") return ParseTlsVersion(r, v, field(k), &tls->max_version);
        return r.Bool(v, field(k), &tls->prefer_server_cipher_suites);
      });
}

// Upstream allows only these response headers, some only with fixed values, so every
// Prometheus-ecosystem server behaves the same.
Status CheckHeader(const Reader& r, const YAML::Node& n, const std::string& name,
                   const std::string& value) {
  const std::string field = "http_server_config.headers." + name;
  if (name == "Strict-Transport-Security" || name == "X-XSS-Protection" ||
      name == "Content-Security-Policy") {
    return Status::OK();
  }
  if (name == "X-Content-Type-Options") {
    if (value == "nosniff") return Status::OK();
    return r.Error(n, field, "invalid value, expected \"nosniff\", got \"" + value + "\"");
  }
  if (name == "X-Frame-Options") {
    if (value == "deny" || value == "sameorigin") return Status::OK();
    return r.Error(
        n, field, "invalid value, expected one of \"deny\", \"sameorigin\", got \"" + value + "\"");
  }
  return r.Error(n, field, "HTTP header \"" + name + "\" can not be configured");
}

Status ParseHeaders(const Reader& r, const YAML::Node& n, WebConfig* cfg) {
  if (n.IsNull()) return Status::OK();
  if (!n.IsMap()) return r.Error(n, "http_server_config.headers", "expected a mapping");
  for (const auto& kv : n) {
    std::string name, value;
    KILN_RETURN_IF_ERROR(r.String(kv.first, "http_server_config.headers", &name));
    KILN_RETURN_IF_ERROR(r.String(kv.second, "http_server_config.headers." + name, &value));
    KILN_RETURN_IF_ERROR(CheckHeader(r, kv.second, name, value));
    for (const auto& h : cfg->headers) {
      if (h.first == name)
        return r.Error(kv.first, "http_server_config.headers." + name, "key already set in map");
    }
    cfg->headers.emplace_back(name, value);
  }
  std::sort(cfg->headers.begin(), cfg->headers.end());
  return Status::OK();
}

Status ParseUsers(const Reader& r, const YAML::Node& n, WebConfig* cfg) {
  if (n.IsNull()) return Status::OK();
  if (!n.IsMap()) return r.Error(n, "basic_auth_users", "expected a mapping of user to hash");
  for (const auto& kv : n) {
    std::string user, hash;
    KILN_RETURN_IF_ERROR(r.String(kv.first, "basic_auth_users", &user));
    const std::string field = "basic_auth_users." + user;
    KILN_RETURN_IF_ERROR(r.String(kv.second, field, &hash));
    if (Status s = CheckBcryptHash(hash); !s.ok()) return r.Error(kv.second, field, s.message());
    if (!cfg->users.emplace(user, hash).second) {
      return r.Error(kv.first, field, "key already set in map");
    }
  }
  return Status::OK();
}

Status Validate(const Reader& r, const YAML::Node& root, WebConfig* cfg) {
  TlsServerConfig& tls = cfg->tls;
  const YAML::Node tls_node = root.IsMap() ? root["tls_server_config"] : YAML::Node();
  if (tls.Enabled()) {
    if (tls.cert_file.empty() && tls.cert.empty()) {
      return r.Error(tls_node, "tls_server_config", "missing cert_file");
    }
    if (tls.key_file.empty() && tls.key.empty()) {
      return r.Error(tls_node, "tls_server_config", "missing key_file");
    }
    if ((!tls.client_ca_file.empty() || !tls.client_ca.empty()) &&
        (tls.client_auth_type.empty() || tls.client_auth_type == "NoClientCert")) {
      return r.Error(tls_node, "tls_server_config.client_auth_type",
                     "client CA's have been configured without a Client Auth Policy");
    }
    if (tls.min_version > tls.max_version) {
      return r.Error(tls_node, "tls_server_config.min_version",
                     "min_version is greater than max_version");
    }
  }
  tls.cert_file = r.Resolve(tls.cert_file);
  tls.key_file = r.Resolve(tls.key_file);
  tls.client_ca_file = r.Resolve(tls.client_ca_file);
  return Status::OK();
}

}  // namespace

bool TlsServerConfig::Enabled() const {
  return !cert_file.empty() || !key_file.empty() || !cert.empty() || !key.empty() ||
         !client_ca_file.empty() || !client_ca.empty() || !client_auth_type.empty();
}

Result<WebConfig> ParseWebConfig(std::string_view yaml, const std::string& path) {
  Reader r(path);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    std::string msg = e.msg;
    if (e.mark.line >= 0) msg += " (line " + std::to_string(e.mark.line + 1) + ")";
    return r.Error(YAML::Node(), "", "invalid YAML: " + msg);
  }
  WebConfig cfg;
  Status s =
      r.Mapping(root, "", {"tls_server_config", "http_server_config", "basic_auth_users"},
                [&](const std::string& k, const YAML::Node& v) -> Status {
                  if (k == "tls_server_config") return ParseTls(r, v, &cfg.tls);
                  if (k == "basic_auth_users") return ParseUsers(r, v, &cfg);
                  return r.Mapping(v, "http_server_config", {"http2", "headers"},
                                   [&](const std::string& hk, const YAML::Node& hv) {
                                     if (hk == "http2") {
                                       return r.Bool(hv, "http_server_config.http2", &cfg.http2);
                                     }
                                     return ParseHeaders(r, hv, &cfg);
                                   });
                });
  if (!s.ok()) return s;
  KILN_RETURN_IF_ERROR(Validate(r, root, &cfg));
  return cfg;
}

Result<WebConfig> LoadWebConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::FromErrno("web config file \"" + path + "\": open", errno);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::FromErrno("web config file \"" + path + "\": read", errno);
  return ParseWebConfig(ss.str(), path);
}

}  // namespace kiln::web
