// `kilntool check config <file>...`: validates prometheus.yml files as promtool does, with
// its output layout (Checking / SUCCESS / FAILED) and exit codes (0 valid, 1 invalid).
#include <ostream>

#include "cmd/kilntool/command.h"
#include "cmd/kilntool/flag_parser.h"
#include "pkg/config/config.h"

namespace kiln::tool {

int RunCheckConfig(const CommandContext& ctx) {
  auto flags = ParseFlags(ctx.args, {"extended"}, {"syntax-only", "lint-fatal"});
  if (!flags.ok()) {
    *ctx.err << "kilntool: error: " << flags.status().message() << "\n";
    return 2;
  }
  if (flags->positional.empty()) {
    *ctx.err << "kilntool: error: required argument 'config-files' not provided\n";
    return 2;
  }
  int rc = 0;
  for (const std::string& file : flags->positional) {
    *ctx.out << "Checking " << file << "\n";
    auto cfg = config::LoadFile(file);
    if (!cfg.ok()) {
      *ctx.err << "  FAILED: " << cfg.status().message() << "\n";
      *ctx.out << "\n";
      rc = 1;
      continue;
    }
    for (const std::string& w : cfg->Warnings()) *ctx.err << "  WARNING: " << w << "\n";
    if (!cfg->rule_files.empty()) {
      *ctx.err << "  WARNING: rule files are listed but not checked: kilntool cannot check "
                  "rules yet\n";
    }
    *ctx.out << " SUCCESS: " << file << " is valid prometheus config file syntax\n\n";
  }
  return rc;
}

}  // namespace kiln::tool
