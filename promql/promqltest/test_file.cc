#include "promql/promqltest/test_file.h"

#include <cctype>
#include <regex>
#include <string>

namespace kiln::promql::promqltest {

namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// Lines trimmed, comments blanked (as upstream's getLines).
std::vector<std::string> GetLines(std::string_view content) {
  std::vector<std::string> lines;
  size_t b = 0;
  while (b <= content.size()) {
    size_t e = content.find('\n', b);
    if (e == std::string_view::npos) e = content.size();
    std::string l = Trim(content.substr(b, e - b));
    if (!l.empty() && l[0] == '#') l.clear();
    lines.push_back(std::move(l));
    b = e + 1;
  }
  return lines;
}

Status LineError(int line, const Status& s) {
  return Status(s.code(), "line " + std::to_string(line) + ": " + s.message());
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

Result<LoadCmd> ParseLoad(const std::vector<std::string>& lines, size_t* i) {
  static const std::regex kLoad(R"(^load(?:_(with_nhcb))?\s+(.+?)$)");
  std::smatch m;
  if (!std::regex_match(lines[*i], m, kLoad)) {
    return Status::BadData("invalid load command. (load[_with_nhcb] <step:duration>)");
  }
  LoadCmd cmd;
  cmd.line = static_cast<int>(*i) + 1;
  cmd.with_nhcb = m[1].matched;
  KILN_ASSIGN_OR_RETURN(cmd.interval_ms, ParseDuration(m[2].str()));
  while (*i + 1 < lines.size() && !lines[*i + 1].empty()) {
    ++*i;
    const std::string& l = lines[*i];
    size_t sp = l.find_first_of(" \t");
    // `metric@st <offsets>` lines give start timestamps; Kiln's storage has none yet.
    if (sp != std::string::npos && sp >= 3 && l.compare(sp - 3, 3, "@st") == 0) {
      cmd.has_start_timestamps = true;
      continue;
    }
    KILN_ASSIGN_OR_RETURN(SeriesDesc d, ParseSeriesDesc(l));
    cmd.series.push_back(std::move(d));
  }
  return cmd;
}

Result<ExpectAnnotation> ParseExpectBody(const std::smatch& m) {
  ExpectAnnotation e;
  if (m[2].matched) {
    std::string body = Trim(m[3].str());
    if (m[2].str() == "msg") {
      e.message = body;
    } else {
      e.regex = body;
    }
  }
  return e;
}

Status ParseExpectLine(const std::string& l, EvalCmd* cmd) {
  static const std::regex kExpect(
      R"(^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$)");
  std::smatch m;
  if (!std::regex_match(l, m, kExpect)) {
    return Status::BadData(
        "invalid expect statement, must match `expect <type> <match_type>: <string>` format");
  }
  KILN_ASSIGN_OR_RETURN(ExpectAnnotation e, ParseExpectBody(m));
  std::string kind = m[1].str();
  if (kind == "ordered") cmd->ordered = true;
  if (kind == "fail") cmd->expect_fail.push_back(e);
  if (kind == "warn") cmd->expect_warn.push_back(e);
  if (kind == "info") cmd->expect_info.push_back(e);
  if (kind == "no_warn") cmd->expect_no_warn = true;
  if (kind == "no_info") cmd->expect_no_info = true;
  return Status::OK();
}

Status ParseExpectRange(const std::string& l, EvalCmd* cmd) {
  static const std::regex kRange(
      R"(^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$)");
  std::smatch m;
  if (!std::regex_match(l, m, kRange)) return Status::BadData("invalid range vector definition");
  KILN_ASSIGN_OR_RETURN(cmd->start, ParseDuration(m[1].str()));
  KILN_ASSIGN_OR_RETURN(cmd->end, ParseDuration(m[2].str()));
  KILN_ASSIGN_OR_RETURN(cmd->step, ParseDuration(m[3].str()));
  cmd->expect_range_vector = true;
  cmd->exclude_from_range_query = true;
  return Status::OK();
}

Status ParseEvalHeader(const std::string& l, EvalCmd* cmd) {
  static const std::regex kInstant(
      R"(^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$)");
  static const std::regex kRange(
      R"(^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$)");
  std::smatch m;
  std::string mod;
  if (std::regex_match(l, m, kInstant)) {
    mod = m[1].str();
    cmd->expr = m[3].str();
    KILN_ASSIGN_OR_RETURN(cmd->start, ParseDuration(m[2].str()));
    cmd->end = cmd->start;
  } else if (std::regex_match(l, m, kRange)) {
    mod = m[1].str();
    cmd->is_range = true;
    cmd->expr = m[5].str();
    KILN_ASSIGN_OR_RETURN(cmd->start, ParseDuration(m[2].str()));
    KILN_ASSIGN_OR_RETURN(cmd->end, ParseDuration(m[3].str()));
    KILN_ASSIGN_OR_RETURN(cmd->step, ParseDuration(m[4].str()));
  } else {
    return Status::BadData("invalid evaluation command");
  }
  cmd->ordered = mod == "ordered";
  cmd->fail = mod == "fail";
  cmd->legacy_warn = mod == "warn";
  cmd->legacy_info = mod == "info";
  return Status::OK();
}

Status ParseEvalBodyLine(const std::string& l, EvalCmd* cmd) {
  if (StartsWith(l, "expect range vector")) return ParseExpectRange(l, cmd);
  if (StartsWith(l, "expect string")) {
    KILN_ASSIGN_OR_RETURN(std::string s, GoUnquote(Trim(l.substr(13))));
    cmd->expect_string = std::move(s);
    cmd->exclude_from_range_query = true;
    return Status::OK();
  }
  if (l.substr(0, l.find(' ')) == "expect") return ParseExpectLine(l, cmd);
  if (std::optional<double> f = ParseNumber(l)) {
    cmd->expect_scalar = true;
    cmd->scalar = *f;
    return Status::OK();
  }
  KILN_ASSIGN_OR_RETURN(SeriesDesc d, ParseSeriesDesc(l));
  if (d.values.size() > 1 && !cmd->is_range && !cmd->expect_range_vector) {
    return Status::BadData("expecting multiple values in instant evaluation not allowed");
  }
  cmd->series.push_back(std::move(d));
  return Status::OK();
}

Result<EvalCmd> ParseEval(const std::vector<std::string>& lines, size_t* i) {
  EvalCmd cmd;
  cmd.line = static_cast<int>(*i) + 1;
  KILN_RETURN_IF_ERROR(ParseEvalHeader(lines[*i], &cmd));
  while (*i + 1 < lines.size() && !lines[*i + 1].empty()) {
    ++*i;
    const std::string& l = lines[*i];
    // Legacy eval_fail forms end the command.
    if (cmd.fail && StartsWith(l, "expected_fail_message")) {
      ExpectAnnotation e;
      e.message = Trim(l.substr(21));
      cmd.expect_fail.push_back(e);
      break;
    }
    if (cmd.fail && StartsWith(l, "expected_fail_regexp")) {
      ExpectAnnotation e;
      e.regex = Trim(l.substr(20));
      cmd.expect_fail.push_back(e);
      break;
    }
    Status s = ParseEvalBodyLine(l, &cmd);
    if (!s.ok()) return LineError(static_cast<int>(*i) + 1, s);
    if (cmd.expect_scalar) break;
  }
  return cmd;
}

}  // namespace

Result<TestFile> ParseTestFile(std::string_view name, std::string_view content) {
  TestFile file;
  file.name = std::string(name);
  std::vector<std::string> lines = GetLines(content);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty()) continue;
    std::string word = l.substr(0, l.find_first_of(" \t"));
    for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t at = i;
    if (word == "clear") {
      file.commands.push_back(ClearCmd{static_cast<int>(i) + 1});
    } else if (StartsWith(word, "load")) {
      Result<LoadCmd> c = ParseLoad(lines, &i);
      if (!c.ok()) return LineError(static_cast<int>(at) + 1, c.status());
      file.commands.push_back(std::move(*c));
    } else if (StartsWith(word, "eval")) {
      Result<EvalCmd> c = ParseEval(lines, &i);
      if (!c.ok()) return LineError(static_cast<int>(at) + 1, c.status());
      file.commands.push_back(std::move(*c));
    } else {
      return Status::BadData("line " + std::to_string(i + 1) + ": invalid command \"" + l + "\"");
    }
  }
  return file;
}

}  // namespace kiln::promql::promqltest
