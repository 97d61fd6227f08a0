// ConfigFingerprint: a string that is equal for two config values exactly when every field
// is (secrets included), built by walking the structs' Fields() lists. Used to keep
// discovery providers and scrape pools whose configuration did not change across a reload.
// Never printed: it holds secrets. Thread-safe (pure function).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "pkg/config/byte_size.h"
#include "pkg/config/duration.h"
#include "pkg/config/sd_config.h"
#include "pkg/relabel/relabel.h"

namespace kiln::discovery {

namespace internal {

// Serialises a config struct through its Fields() list, secrets included, so two configs
// compare equal exactly when every field does.
class Fingerprint {
 public:
  template <typename T>
  void operator()(const char* key, const T& v) {
    out_ += key;
    out_ += '=';
    Add(v);
    out_ += ';';
  }
  void File(const char* key, const std::string& v) { (*this)(key, v); }
  void FileList(const char* key, const std::vector<std::string>& v) { (*this)(key, v); }
  void Secret(const char* key, const std::string& v) { (*this)(key, v); }
  void SecretList(const char* key, const std::vector<std::string>& v) { (*this)(key, v); }
  // Unsupported mechanisms only produce warnings; they do not change what is discovered.
  void UnsupportedSD(const std::vector<config::UnsupportedSDConfig>&) {}
  const std::string& str() const { return out_; }

 private:
  void Add(const std::string& s) { out_ += std::to_string(s.size()) + ":" + s; }
  void Add(bool b) { out_ += b ? "t" : "f"; }
  void Add(const config::Duration& d) { out_ += std::to_string(d.millis()); }
  void Add(const config::ByteSize& b) { out_ += std::to_string(b.bytes); }
  void Add(const relabel::RelabelConfig& r) {
    out_ += '(';
    Add(r.source_labels), Add(r.separator), Add(r.regex.pattern()), Add(r.modulus);
    Add(r.target_label), Add(r.replacement), Add(static_cast<int>(r.action));
    Add(static_cast<int>(r.name_validation));
    out_ += ')';
  }
  template <typename T>
  requires std::is_arithmetic_v<T>
  void Add(T v) { out_ += std::to_string(v); }
  template <typename T>
  void Add(const std::vector<T>& v) {
    out_ += '[';
    for (const auto& x : v) Add(x), out_ += ',';
    out_ += ']';
  }
  template <typename T>
  void Add(const std::map<std::string, T>& m) {
    out_ += '{';
    for (const auto& [k, x] : m) Add(k), out_ += ':', Add(x), out_ += ',';
    out_ += '}';
  }
  template <typename T>
  void Add(const std::optional<T>& v) {
    if (v)
      Add(*v);
    else
      out_ += "null";
  }
  template <typename T>
  requires requires(Fingerprint& f, const T& v) { T::Fields(f, v); }
  void Add(const T& v) {
    out_ += '(';
    T::Fields(*this, v);
    out_ += ')';
  }

  std::string out_;
};

}  // namespace internal

template <typename T>
std::string ConfigFingerprint(const T& cfg) {
  internal::Fingerprint f;
  f("", cfg);
  return f.str();
}

}  // namespace kiln::discovery
