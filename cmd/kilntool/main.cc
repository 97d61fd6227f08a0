// kilntool: Kiln's promtool-compatible command-line tool. This file only dispatches.
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cmd/kilntool/command.h"

namespace {

struct CommandEntry {
  std::vector<std::string_view> words;
  const char* help;
  int (*run)(const kiln::tool::CommandContext&);
};

const CommandEntry kCommands[] = {
    {{"check", "config"}, "Check if the config files are valid or not.",
     kiln::tool::RunCheckConfig},
    {{"check", "web-config"}, "Check if the web config files are valid or not.",
     kiln::tool::RunCheckWebConfig},
    {{"tsdb", "dump"}, "Dump samples from a TSDB.", kiln::tool::RunTsdbDump},
    {{"tsdb", "dump-openmetrics"},
     "[Experimental] Dump samples from a TSDB into OpenMetrics text format.",
     kiln::tool::RunTsdbDumpOpenMetrics},
    {{"tsdb", "list"}, "List tsdb blocks.", kiln::tool::RunTsdbList},
    {{"tsdb", "analyze"}, "Analyze churn, label pair cardinality and compaction efficiency.",
     kiln::tool::RunTsdbAnalyze},
    {{"tsdb", "create-blocks-from", "openmetrics"},
     "Import samples from OpenMetrics input and produce TSDB blocks.",
     kiln::tool::RunTsdbCreateBlocksFromOpenMetrics},
};

void Usage(std::ostream& os) {
  os << "usage: kilntool <command> [<flags>] [<args> ...]\n\n"
        "Tooling for Kiln and Prometheus data, compatible with promtool.\n\nCommands:\n";
  for (const auto& c : kCommands) {
    std::string words;
    for (auto w : c.words) words += std::string(w) + " ";
    os << "  " << words << "\n    " << c.help << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    Usage(std::cout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "kilntool, version " << KILN_VERSION << "\n";
    return 0;
  }
  for (const auto& c : kCommands) {
    if (args.size() < c.words.size()) continue;
    bool match = true;
    for (size_t i = 0; i < c.words.size(); i++) match = match && args[i] == c.words[i];
    if (!match) continue;
    kiln::tool::CommandContext ctx{
        std::vector<std::string>(args.begin() + static_cast<std::ptrdiff_t>(c.words.size()), args.end()),
        &std::cout, &std::cerr};
    return c.run(ctx);
  }
  std::cerr << "kilntool: error: expected command but got \"" << args[0] << "\", try --help\n";
  return 2;
}
