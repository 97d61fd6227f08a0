#include "pkg/web/standard_routes.h"

#include <httplib.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "pkg/web/version.h"

namespace kiln::web {

namespace {

constexpr const char* kText = "text/plain; charset=utf-8";

void RegisterLifecycle(Server* server, const StandardRoutes& routes) {
  auto forbidden = [](const httplib::Request&, httplib::Response& res) {
    res.status = 403;
    res.set_content("Lifecycle API is not enabled.", kText);
  };
  auto get_not_allowed = [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_content("Only POST or PUT requests allowed", kText);
  };
  Server::Handler quit = forbidden;
  Server::Handler reload = forbidden;
  if (routes.enable_lifecycle) {
    quit = [on_quit = routes.on_quit](const httplib::Request&, httplib::Response& res) {
      res.set_content("Requesting termination... Goodbye!", kText);
      if (on_quit) on_quit();
    };
    reload = [on_reload = routes.on_reload](const httplib::Request&, httplib::Response& res) {
      Status s = on_reload ? on_reload() : Status::OK();
      if (!s.ok()) {
        res.status = 500;
        res.set_content("failed to reload config: " + s.message() + "\n", kText);
      }
    };
  }
  for (const char* method : {"POST", "PUT"}) {
    server->Register(method, "/-/quit", quit, Server::Gate::kAlways);
    server->Register(method, "/-/reload", reload, Server::Gate::kAlways);
  }
  server->Register("GET", "/-/quit", get_not_allowed, Server::Gate::kAlways);
  server->Register("GET", "/-/reload", get_not_allowed, Server::Gate::kAlways);
}

void RegisterRemoteWrite(Server* server, const remote::WriteHandler* handler) {
  if (handler == nullptr) {
    server->Register("POST", "/api/v1/write", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content(
          "remote write receiver needs to be enabled with --web.enable-remote-write-receiver\n",
          kText);
    });
    return;
  }
  server->Register("POST", "/api/v1/write",
                   [handler](const httplib::Request& req, httplib::Response& res) {
                     remote::WriteResponse r =
                         handler->Handle(req.get_header_value("Content-Type"),
                                         req.get_header_value("Content-Encoding"), req.body);
                     res.status = r.status;
                     for (const auto& [k, v] : r.headers) {
                       if (k != "Content-Type") res.set_header(k.c_str(), v);
                     }
                     if (!r.body.empty()) res.set_content(r.body, kText);
                   });
}

void RegisterRemoteRead(Server* server, const remote::ReadHandler* handler) {
  if (handler == nullptr) return;
  server->Register("POST", "/api/v1/read",
                   [handler](const httplib::Request& req, httplib::Response& res) {
                     remote::ReadResponse r = handler->Handle(req.body);
                     res.status = r.status;
                     std::string content_type = kText;
                     for (const auto& [k, v] : r.headers) {
                       if (k == "Content-Type") {
                         content_type = v;
                       } else {
                         res.set_header(k.c_str(), v);
                       }
                     }
                     res.set_content(std::move(r.body), content_type.c_str());
                   });
}

}  // namespace

void RegisterStandardRoutes(Server* server, const StandardRoutes& routes) {
  server->Register(
      "GET", "/-/healthy",
      [](const httplib::Request&, httplib::Response& res) {
        res.set_content("Prometheus Server is Healthy.\n", kText);
      },
      Server::Gate::kAlways);
  server->Register(
      "GET", "/-/ready",
      [server](const httplib::Request&, httplib::Response& res) {
        if (!server->ready()) {
          res.status = 503;
          res.set_content("Service Unavailable", kText);
          return;
        }
        res.set_content("Prometheus Server is Ready.\n", kText);
      },
      Server::Gate::kAlways);
  // Prometheus's only HEAD routes: a bare status, for load balancers' health checks.
  server->Register(
      "HEAD", "/-/healthy",
      [](const httplib::Request&, httplib::Response& res) { res.status = 200; },
      Server::Gate::kAlways);
  server->Register(
      "HEAD", "/-/ready",
      [server](const httplib::Request&, httplib::Response& res) {
        const bool ready = server->ready();
        res.status = ready ? 200 : 503;
        if (!ready) res.set_content("Service Unavailable", kText);
      },
      Server::Gate::kAlways);
  prometheus::Registry* registry = routes.registry;
  server->Register(
      "GET", "/metrics",
      [registry](const httplib::Request&, httplib::Response& res) {
        res.set_content(prometheus::TextSerializer().Serialize(registry->Collect()),
                        "text/plain; version=0.0.4; charset=utf-8");
      },
      Server::Gate::kAlways);
  server->Register(
      "GET", "/version",
      [](const httplib::Request&, httplib::Response& res) {
        res.set_content(GetBuildInfo().ToJson(), kText);
      },
      Server::Gate::kAlways);
  RegisterLifecycle(server, routes);
  RegisterRemoteWrite(server, routes.write_handler);
  RegisterRemoteRead(server, routes.read_handler);
}

}  // namespace kiln::web
