// The routes every Kiln server has, with Prometheus's exact texts and status codes:
//   GET /-/healthy            200 "Prometheus Server is Healthy.\n"
//   GET /-/ready              200 "Prometheus Server is Ready.\n", 503 "Service Unavailable"
//   POST|PUT /-/quit, /-/reload   403 "Lifecycle API is not enabled." unless enabled;
//                             GET 405 "Only POST or PUT requests allowed"
//   GET /metrics              the process's prometheus-cpp registry, text format 0.0.4
//   GET /version              build information as JSON
//   POST /api/v1/write        the remote write receiver, 404 unless enabled
//   POST /api/v1/read         remote read, when a read handler is given
#pragma once

#include <functional>

#include "pkg/remote/read_handler.h"
#include "pkg/remote/write_handler.h"
#include "pkg/web/server.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace kiln::web {

struct StandardRoutes {
  bool enable_lifecycle = false;
  prometheus::Registry* registry = nullptr;  // required
  // Non-null enables POST /api/v1/write (--web.enable-remote-write-receiver).
  const remote::WriteHandler* write_handler = nullptr;
  // Non-null serves POST /api/v1/read (always on in Prometheus).
  const remote::ReadHandler* read_handler = nullptr;
  // Asks the process to shut down; must not block (the answer is sent after it returns).
  std::function<void()> on_quit;
  // Reloads the configuration; an error becomes 500 "failed to reload config: …".
  std::function<Status()> on_reload;
};

// Registers the routes above on `server`. Everything referenced must outlive the server.
void RegisterStandardRoutes(Server* server, const StandardRoutes& routes);

}  // namespace kiln::web
