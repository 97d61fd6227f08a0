#include "web/api/v1/register.h"

#include <httplib.h>

#include <memory>
#include <optional>
#include <regex>

namespace kiln::web::api::v1 {

namespace {

// "/label/:name/values" → "/api/v1/label/([^/]+)/values", with the param names in order.
std::string RoutePattern(std::string_view path, std::vector<std::string>* names) {
  std::string out = "/api/v1";
  size_t i = 0;
  while (i < path.size()) {
    const size_t slash = path.find('/', i + 1);
    const std::string_view seg = path.substr(
        i + 1, slash == std::string_view::npos ? std::string_view::npos : slash - i - 1);
    out += '/';
    if (!seg.empty() && seg[0] == ':') {
      names->emplace_back(seg.substr(1));
      out += "([^/]+)";
    } else {
      out += RegexEscape(seg);
    }
    i = slash == std::string_view::npos ? path.size() : slash;
  }
  return out;
}

bool IsFormBody(const httplib::Request& req) {
  const std::string ct = req.get_header_value("Content-Type");
  return ct.rfind("application/x-www-form-urlencoded", 0) == 0;
}

// Prometheus's CORS rule for the API (util/httputil): only requests with an Origin get the
// headers; the default ".*" allows "*", any other regex echoes a matching origin.
class Cors {
 public:
  explicit Cors(const std::string& origin) : any_(origin == ".*"), re_(CompileOrigin(origin)) {}

  void Apply(const httplib::Request& req, httplib::Response& res) const {
    const std::string origin = req.get_header_value("Origin");
    if (origin.empty()) return;
    res.set_header("Access-Control-Allow-Headers", "Accept, Authorization, Content-Type, Origin");
    res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    res.set_header("Access-Control-Expose-Headers", "Date");
    res.set_header("Vary", "Origin");
    if (any_) {
      res.set_header("Access-Control-Allow-Origin", "*");
    } else if (re_ && std::regex_match(origin, *re_)) {
      res.set_header("Access-Control-Allow-Origin", origin);
    }
  }

 private:
  // The flag was validated when parsed; an invalid regex here allows no origin.
  static std::optional<std::regex> CompileOrigin(const std::string& origin) {
    try {
      return std::regex("^(?:" + origin + ")$");
    } catch (const std::regex_error&) {
      return std::nullopt;
    }
  }

  const bool any_;
  const std::optional<std::regex> re_;
};

}  // namespace

ApiRequest FromHttplib(const httplib::Request& req) {
  ApiRequest r;
  r.method = req.method;
  if (req.method != "GET" && req.method != "HEAD" && IsFormBody(req)) {
    ParseUrlEncoded(req.body, &r.form);
  }
  if (const size_t q = req.target.find('?'); q != std::string::npos) {
    ParseUrlEncoded(std::string_view(req.target).substr(q + 1), &r.form);
  }
  for (const auto& [k, v] : req.headers) r.headers.emplace_back(k, v);
  return r;
}

void ToHttplib(ApiResponse res, httplib::Response* out) {
  out->status = res.status;
  for (const auto& [k, v] : res.headers) out->set_header(k, v);
  if (res.status == 204) return;
  if (!res.json) {
    out->set_content(res.body, res.content_type);
    return;
  }
  auto json = std::make_shared<std::function<void(JsonWriter&)>>(std::move(res.json));
  out->set_chunked_content_provider(res.content_type, [json](size_t, httplib::DataSink& sink) {
    JsonWriter w(
        [&sink](std::string_view chunk) { return sink.write(chunk.data(), chunk.size()); });
    (*json)(w);
    w.Flush();
    sink.done();
    return true;
  });
}

void RegisterApiV1(Server* server, ApiDeps deps) {
  auto cors = std::make_shared<const Cors>(deps.cors_origin);
  auto api = std::make_shared<const Api>(std::move(deps));
  // Prometheus answers OPTIONS on any path under /api/v1 with 204 and the CORS headers.
  server->Register("OPTIONS", "/api/v1/.*",
                   [cors](const httplib::Request& req, httplib::Response& res) {
                     cors->Apply(req, res);
                     res.status = 204;
                   });
  for (const auto& route : Api::Routes()) {
    std::vector<std::string> names;
    const std::string pattern = RoutePattern(route.path, &names);
    for (const auto& method : route.methods) {
      server->Register(method, pattern,
                       [api, cors, names, handler = route.handler](const httplib::Request& req,
                                                                   httplib::Response& res) {
                         cors->Apply(req, res);
                         ApiRequest r = FromHttplib(req);
                         for (size_t i = 0; i < names.size() && i + 1 < req.matches.size(); ++i) {
                           r.path_params.emplace_back(names[i], req.matches[i + 1].str());
                         }
                         ToHttplib(Respond(((*api).*handler)(r)), &res);
                       });
    }
  }
}

}  // namespace kiln::web::api::v1
