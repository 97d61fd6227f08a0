#include "pkg/util/logger.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace kiln {
namespace {

constexpr std::string_view LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

bool NeedsQuoting(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c <= ' ' || c == '=' || c == '"' || c == 0x7f) return true;
  }
  return false;
}

void AppendEscaped(std::string* out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          *out += c;
        }
    }
  }
}

void AppendLogfmtField(std::string* out, std::string_view k, std::string_view v) {
  out->push_back(' ');
  out->append(k);
  out->push_back('=');
  if (NeedsQuoting(v)) {
    out->push_back('"');
    AppendEscaped(out, v);
    out->push_back('"');
  } else {
    out->append(v);
  }
}

void AppendJsonField(std::string* out, std::string_view k, std::string_view v) {
  out->append(",\"");
  AppendEscaped(out, k);
  out->append("\":\"");
  AppendEscaped(out, v);
  out->push_back('"');
}

std::string Timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

bool Logger::ParseLevel(std::string_view s, LogLevel* out) {
  if (s == "debug") *out = LogLevel::kDebug;
  else if (s == "info") *out = LogLevel::kInfo;
  else if (s == "warn") *out = LogLevel::kWarn;
  else if (s == "error") *out = LogLevel::kError;
  else return false;
  return true;
}

bool Logger::ParseFormat(std::string_view s, enum Format* out) {
  if (s == "logfmt") *out = Format::kLogfmt;
  else if (s == "json") *out = Format::kJson;
  else return false;
  return true;
}

Logger Logger::With(std::initializer_list<Field> fields) const {
  Logger l = *this;
  for (const auto& [k, v] : fields) {
    if (format_ == Format::kJson) AppendJsonField(&l.prefix_fields_, k, v);
    else AppendLogfmtField(&l.prefix_fields_, k, v);
  }
  return l;
}

std::string Logger::Format(LogLevel level, std::string_view msg,
                           std::initializer_list<Field> fields) const {
  std::string line;
  line.reserve(128);
  if (format_ == Format::kJson) {
    line += "{\"ts\":\"" + Timestamp() + "\",\"level\":\"";
    line += LevelName(level);
    line += "\"";
    line += prefix_fields_;
    AppendJsonField(&line, "msg", msg);
    for (const auto& [k, v] : fields) AppendJsonField(&line, k, v);
    line += "}\n";
  } else {
    line += "ts=" + Timestamp();
    line += prefix_fields_;
    AppendLogfmtField(&line, "level", LevelName(level));
    AppendLogfmtField(&line, "msg", msg);
    for (const auto& [k, v] : fields) AppendLogfmtField(&line, k, v);
    line += '\n';
  }
  return line;
}

void Logger::Log(LogLevel level, std::string_view msg,
                 std::initializer_list<Field> fields) const {
  if (!Enabled(level)) return;
  const std::string line = Format(level, msg, fields);
  // One write per line keeps concurrent lines from interleaving.
  ssize_t r = ::write(fd_, line.data(), line.size());
  (void)r;
}

}  // namespace kiln
