// Internal to pkg/config: the two visitors that walk a struct's Fields() list.
//
// Reader decodes a YAML mapping strictly (unknown keys are errors, every error carries
// "file:line: "), Writer emits the same fields for ToYaml. Each config struct lists its keys
// once, in `template <V, S> static void Fields(V& v, S& s)`, and both directions follow it.
// Not thread-safe; one visitor per call.
#pragma once

#include <yaml-cpp/yaml.h>

#include <concepts>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/config/byte_size.h"
#include "pkg/config/duration.h"
#include "pkg/config/sd_config.h"
#include "pkg/relabel/relabel.h"
#include "pkg/util/status.h"

namespace kiln::config::internal {

struct LoadContext {
  std::string file;  // as shown in messages
  std::string dir;   // relative paths are joined to this
};

// "file:line: msg" for the node's position.
Status ErrorAt(const LoadContext& ctx, const YAML::Node& n, std::string_view msg);
// "file:line" for the node's position.
std::string Origin(const LoadContext& ctx, const YAML::Node& n);
// Go yaml's description of a node in type errors: "!!str `abc`", "!!seq", "!!map".
std::string GoTag(const YAML::Node& n);
// `path` joined to `dir` unless absolute or empty (upstream config.JoinDir).
std::string JoinDir(const std::string& dir, const std::string& path);

template <typename T>
concept HasFields = requires {
  T::kYamlType;
};
template <typename T>
concept HasValidate = requires(T& t) {
  { t.Validate() } -> std::same_as<Status>;
};
template <typename T>
concept HasOrigin = requires(T& t) {
  t.origin = std::string();
};

// Go type names used in type-mismatch messages.
template <typename T>
std::string GoTypeName() {
  if constexpr (std::same_as<T, std::string>) {
    return "string";
  } else if constexpr (std::same_as<T, bool>) {
    return "bool";
  } else if constexpr (std::same_as<T, int64_t>) {
    return "int";
  } else if constexpr (std::same_as<T, uint64_t>) {
    return "uint";
  } else if constexpr (std::same_as<T, double>) {
    return "float64";
  } else if constexpr (HasFields<T>) {
    return T::kYamlType;
  } else {
    return "value";
  }
}

Status Decode(const YAML::Node& n, std::string* out, const LoadContext& ctx);
Status Decode(const YAML::Node& n, bool* out, const LoadContext& ctx);
Status Decode(const YAML::Node& n, int64_t* out, const LoadContext& ctx);
Status Decode(const YAML::Node& n, uint64_t* out, const LoadContext& ctx);
Status Decode(const YAML::Node& n, double* out, const LoadContext& ctx);
Status Decode(const YAML::Node& n, Duration* out, const LoadContext& ctx);
Status Decode(const YAML::Node& n, ByteSize* out, const LoadContext& ctx);
Status Decode(const YAML::Node& n, relabel::RelabelConfig* out, const LoadContext& ctx);

template <typename T>
Status Decode(const YAML::Node& n, std::vector<T>* out, const LoadContext& ctx) {
  if (!n.IsSequence()) {
    // Upstream keeps sections as slices of pointers ([]*config.ScrapeConfig).
    const char* elem = HasFields<T> ? "[]*" : "[]";
    return ErrorAt(ctx, n, "cannot unmarshal " + GoTag(n) + " into " + elem + GoTypeName<T>());
  }
  out->clear();
  for (const auto& item : n) {
    T v{};
    if (item.IsNull()) return ErrorAt(ctx, item, "empty or null " + GoTypeName<T>() + " entry");
    KILN_RETURN_IF_ERROR(Decode(item, &v, ctx));
    out->push_back(std::move(v));
  }
  return Status::OK();
}

template <typename T>
Status Decode(const YAML::Node& n, std::map<std::string, T>* out, const LoadContext& ctx) {
  if (!n.IsMap()) {
    return ErrorAt(ctx, n, "cannot unmarshal " + GoTag(n) + " into map[string]" + GoTypeName<T>());
  }
  out->clear();
  for (const auto& kv : n) {
    T v{};
    if (!kv.second.IsNull()) KILN_RETURN_IF_ERROR(Decode(kv.second, &v, ctx));
    (*out)[kv.first.Scalar()] = std::move(v);
  }
  return Status::OK();
}

template <typename T>
Status Decode(const YAML::Node& n, std::optional<T>* out, const LoadContext& ctx) {
  T v{};
  KILN_RETURN_IF_ERROR(Decode(n, &v, ctx));
  *out = std::move(v);
  return Status::OK();
}

class Reader {
 public:
  Reader(const YAML::Node& node, const char* type, const LoadContext& ctx)
      : node_(node), type_(type), ctx_(ctx) {}

  template <typename T>
  void operator()(const char* key, T& field) {
    YAML::Node n = Lookup(key);
    if (n) status_ = Decode(n, &field, ctx_);
  }
  void Secret(const char* key, std::string& field) { (*this)(key, field); }
  void SecretList(const char* key, std::vector<std::string>& field) { (*this)(key, field); }
  void File(const char* key, std::string& field);
  void FileList(const char* key, std::vector<std::string>& field);
  void UnsupportedSD(std::vector<UnsupportedSDConfig>& out);

  // The first decoding error, else an error for the first key no Fields() entry claimed.
  Status Finish() const;

 private:
  // Marks `key` as known; returns an undefined node when absent, null or after an error.
  YAML::Node Lookup(const char* key);

  const YAML::Node& node_;
  const char* type_;
  const LoadContext& ctx_;
  std::set<std::string, std::less<>> known_;
  Status status_;
};

template <HasFields T>
Status Decode(const YAML::Node& n, T* out, const LoadContext& ctx) {
  if (!n.IsMap()) {
    return ErrorAt(ctx, n, "cannot unmarshal " + GoTag(n) + " into " + T::kYamlType);
  }
  Reader r(n, T::kYamlType, ctx);
  T::Fields(r, *out);
  KILN_RETURN_IF_ERROR(r.Finish());
  if constexpr (HasOrigin<T>) out->origin = Origin(ctx, n);
  if constexpr (HasValidate<T>) {
    Status s = out->Validate();
    if (!s.ok()) return ErrorAt(ctx, n, s.message());
  }
  return Status::OK();
}

void Encode(YAML::Emitter& e, const std::string& v);
void Encode(YAML::Emitter& e, bool v);
void Encode(YAML::Emitter& e, int64_t v);
void Encode(YAML::Emitter& e, uint64_t v);
void Encode(YAML::Emitter& e, double v);
void Encode(YAML::Emitter& e, const Duration& v);
void Encode(YAML::Emitter& e, const ByteSize& v);
void Encode(YAML::Emitter& e, const relabel::RelabelConfig& v);

// Booleans upstream prints even when false (no `omitempty` in its struct tags).
bool AlwaysPrinted(std::string_view key);

template <typename T>
bool IsZero(std::string_view key, const T& v);

// Tells whether a struct would print no field at all, so ToYaml omits it as upstream does.
class ZeroCheck {
 public:
  template <typename T>
  void operator()(const char* key, const T& field) {
    if (!IsZero(key, field)) zero_ = false;
  }
  void File(const char* key, const std::string& f) { (*this)(key, f); }
  void FileList(const char* key, const std::vector<std::string>& f) { (*this)(key, f); }
  void Secret(const char* key, const std::string& f) { (*this)(key, f); }
  void SecretList(const char* key, const std::vector<std::string>& f) { (*this)(key, f); }
  void UnsupportedSD(const std::vector<UnsupportedSDConfig>& sds) {
    if (!sds.empty()) zero_ = false;
  }
  bool zero() const { return zero_; }

 private:
  bool zero_ = true;
};

// Whether ToYaml leaves the field out (upstream's `omitempty`).
template <typename T>
bool IsZero(std::string_view key, const T& v) {
  if constexpr (std::same_as<T, bool>) {
    return !v && !AlwaysPrinted(key);
  } else if constexpr (HasFields<T>) {
    ZeroCheck z;
    T::Fields(z, v);
    return z.zero();
  } else if constexpr (std::same_as<T, std::string>) {
    return v.empty();
  } else if constexpr (requires { v.empty(); }) {
    return v.empty();
  } else if constexpr (requires { v.has_value(); }) {
    return !v.has_value();
  } else if constexpr (std::same_as<T, Duration> || std::same_as<T, ByteSize>) {
    return v == T{};
  } else if constexpr (std::is_arithmetic_v<T>) {
    return v == 0;
  } else {
    return false;
  }
}

template <typename T>
void Encode(YAML::Emitter& e, const std::vector<T>& v);
template <typename T>
void Encode(YAML::Emitter& e, const std::map<std::string, T>& v);
template <typename T>
void Encode(YAML::Emitter& e, const std::optional<T>& v);
template <HasFields T>
void Encode(YAML::Emitter& e, const T& v);

class Writer {
 public:
  explicit Writer(YAML::Emitter& e) : e_(e) {}

  template <typename T>
  void operator()(const char* key, const T& field) {
    if (IsZero(key, field)) return;
    e_ << YAML::Key << key << YAML::Value;
    Encode(e_, field);
  }
  void File(const char* key, const std::string& field) { (*this)(key, field); }
  void FileList(const char* key, const std::vector<std::string>& f) { (*this)(key, f); }
  void Secret(const char* key, const std::string& field);
  void SecretList(const char* key, const std::vector<std::string>& field);
  void UnsupportedSD(const std::vector<UnsupportedSDConfig>& sds);

 private:
  YAML::Emitter& e_;
};

template <typename T>
void Encode(YAML::Emitter& e, const std::vector<T>& v) {
  e << YAML::BeginSeq;
  for (const auto& item : v) Encode(e, item);
  e << YAML::EndSeq;
}

template <typename T>
void Encode(YAML::Emitter& e, const std::map<std::string, T>& v) {
  e << YAML::BeginMap;
  for (const auto& [k, item] : v) {
    e << YAML::Key << k << YAML::Value;
    Encode(e, item);
  }
  e << YAML::EndMap;
}

template <typename T>
void Encode(YAML::Emitter& e, const std::optional<T>& v) {
  if (v) Encode(e, *v);
}

template <HasFields T>
void Encode(YAML::Emitter& e, const T& v) {
  e << YAML::BeginMap;
  Writer w(e);
  T::Fields(w, v);
  e << YAML::EndMap;
}

}  // namespace kiln::config::internal
