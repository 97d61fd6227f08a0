// kilntool's sub-commands share this shape: argv after the command words, output streams,
// and an exit code as promtool uses them (0 success, 1 failure, 2 usage, 3 lint problems).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace kiln::tool {

struct CommandContext {
  std::vector<std::string> args;  // what follows the command words
  std::ostream* out;
  std::ostream* err;
};

// `kilntool tsdb dump [--min-time=T] [--max-time=T] [--match=SELECTOR] [<db path>]`
int RunTsdbDump(const CommandContext& ctx);
// `kilntool tsdb dump-openmetrics [flags as dump] [<db path>]`: the same samples as OpenMetrics
// text (seconds timestamps, "# EOF"), as newer promtool versions print them.
int RunTsdbDumpOpenMetrics(const CommandContext& ctx);
// `kilntool tsdb list [-r] [<db path>]`
int RunTsdbList(const CommandContext& ctx);
// `kilntool tsdb analyze [--limit=N] [<db path>] [<block id>]`
int RunTsdbAnalyze(const CommandContext& ctx);
// `kilntool tsdb create-blocks-from openmetrics [-r] [-q] <input file> [<output directory>]`
int RunTsdbCreateBlocksFromOpenMetrics(const CommandContext& ctx);
// `kilntool check config <config-files>...`
int RunCheckConfig(const CommandContext& ctx);
// `kilntool check web-config <web-config-files>...`
int RunCheckWebConfig(const CommandContext& ctx);

}  // namespace kiln::tool
