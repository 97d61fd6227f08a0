// A streaming JSON writer that prints exactly what Prometheus's Go encoders print, so API
// responses are byte-identical to upstream's: strings escaped as Go's encoding/json does
// (HTML-safe: <, >, & as \u003c, \u003e, \u0026; U+2028/U+2029 escaped; invalid UTF-8 as
// \ufffd), floats in Go's JSON number form. Output is buffered and handed to a sink in
// chunks, so a large result is never held as one document. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::web::api::v1 {

class JsonWriter {
 public:
  // Receives the output in order. Returning false stops the writer: later output is dropped
  // (the client went away) and failed() turns true.
  using Sink = std::function<bool(std::string_view chunk)>;

  // Chunks of about `flush_bytes` are passed to `sink`; Flush() passes the rest.
  explicit JsonWriter(Sink sink, size_t flush_bytes = 64 * 1024);
  // A writer that collects everything into `*out` (for small documents and tests).
  explicit JsonWriter(std::string* out);
  ~JsonWriter();

  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  // Structure. Commas between elements and members are inserted automatically.
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // An object member's name; the next value call writes its value.
  JsonWriter& Key(std::string_view name);

  // Values.
  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Uint(uint64_t v);
  JsonWriter& Bool(bool b);
  JsonWriter& Null();
  // A float64 as Go's encoding/json writes a number (no NaN/Inf: those become null here,
  // where Go would fail the whole response).
  JsonWriter& Number(double v);
  // Already-encoded JSON, written as one value.
  JsonWriter& Raw(std::string_view json);

  // Passes buffered output to the sink.
  void Flush();
  bool failed() const { return failed_; }

  // Appends `s` as a quoted JSON string with Go's escaping.
  static void AppendQuoted(std::string* out, std::string_view s);
  // Appends a float64 as Go's encoding/json formats it ('f' form for 1e-6 <= |v| < 1e21,
  // else exponent form like 1e-07 → 1e-7).
  static void AppendNumber(std::string* out, double v);

 private:
  void BeforeValue();
  void MaybeFlush();

  Sink sink_;
  std::string own_;   // pending output for sink_
  std::string* out_;  // &own_, or the caller's string (then sink_ is unused)
  size_t flush_bytes_;
  // One entry per open container: whether it already holds an element.
  std::vector<bool> has_element_;
  bool after_key_ = false;
  bool failed_ = false;
};

}  // namespace kiln::web::api::v1
