// Structured logging in logfmt (Prometheus's default) or JSON, to stderr.
//
//   logger.Info("Server is ready to receive web requests.", {{"addr", addr}});
//   ts=2026-11-21T22:40:01.123Z caller=main.cc:88 level=info msg="Server is ready …" addr=:9090
//
// Thread-safe: one line is written with a single write(2).
#pragma once

#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace kiln {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

class Logger {
 public:
  enum class Format { kLogfmt, kJson };
  using Field = std::pair<std::string_view, std::string>;

  // Parses Prometheus's --log.level / --log.format values; false when unknown.
  static bool ParseLevel(std::string_view s, LogLevel* out);
  static bool ParseFormat(std::string_view s, Format* out);

  Logger(LogLevel level = LogLevel::kInfo, Format format = Format::kLogfmt, int fd = 2)
      : level_(level), format_(format), fd_(fd) {}

  // Returns a logger that adds `component=name` (or any fixed fields) to every line.
  Logger With(std::initializer_list<Field> fields) const;

  void Log(LogLevel level, std::string_view msg, std::initializer_list<Field> fields = {}) const;
  void Debug(std::string_view m, std::initializer_list<Field> f = {}) const {
    Log(LogLevel::kDebug, m, f);
  }
  void Info(std::string_view m, std::initializer_list<Field> f = {}) const {
    Log(LogLevel::kInfo, m, f);
  }
  void Warn(std::string_view m, std::initializer_list<Field> f = {}) const {
    Log(LogLevel::kWarn, m, f);
  }
  void Error(std::string_view m, std::initializer_list<Field> f = {}) const {
    Log(LogLevel::kError, m, f);
  }
  bool Enabled(LogLevel l) const { return l >= level_; }

  // Formats one line without writing it (for tests).
  std::string Format(LogLevel level, std::string_view msg,
                     std::initializer_list<Field> fields) const;

 private:
  LogLevel level_;
  enum Format format_;
  int fd_;
  std::string prefix_fields_;  // pre-rendered fields from With()
};

}  // namespace kiln
