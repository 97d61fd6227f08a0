// `kilntool check web-config <file>...`: validates --web.config.file files as promtool does
// (exporter-toolkit's Validate: the YAML, the bcrypt hashes and the TLS material), printing
// "<file> SUCCESS" or "<file> FAILED: <error>" on stderr; exit 1 if any file is invalid.
#include <ostream>

#include "cmd/kilntool/command.h"
#include "pkg/web/web_security.h"

namespace kiln::tool {

int RunCheckWebConfig(const CommandContext& ctx) {
  if (ctx.args.empty()) {
    *ctx.err << "kilntool: error: required argument 'web-config-files' not provided\n";
    return 2;
  }
  int rc = 0;
  for (const std::string& file : ctx.args) {
    if (Status s = web::ValidateWebConfigFile(file); !s.ok()) {
      *ctx.err << file << " FAILED: " << s.message() << "\n";
      rc = 1;
    } else {
      *ctx.err << file << " SUCCESS\n";
    }
  }
  return rc;
}

}  // namespace kiln::tool
