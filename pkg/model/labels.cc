#include "pkg/model/labels.h"

#include <algorithm>
#include <cstring>

#include "pkg/util/coding.h"

namespace kiln::model {
namespace {

// 64-bit hash (a small wyhash-style mixer): fast and well distributed for label buffers.
inline uint64_t Mix(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

constexpr uint64_t kSeed0 = 0xa0761d6478bd642full;
constexpr uint64_t kSeed1 = 0xe7037ed1a0b428dbull;

uint64_t HashBytes(uint64_t h, const char* p, size_t n) {
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = Mix(h ^ w, kSeed1);
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  return Mix(h ^ tail ^ (static_cast<uint64_t>(n) << 56), kSeed0);
}

// Separator between hashed pairs so ("ab","c") and ("a","bc") differ.
constexpr char kSep = '\xff';

uint64_t HashPair(uint64_t h, std::string_view n, std::string_view v) {
  h = HashBytes(h, n.data(), n.size());
  h = HashBytes(h, &kSep, 1);
  h = HashBytes(h, v.data(), v.size());
  return HashBytes(h, &kSep, 1);
}

bool Contains(const std::vector<std::string>& names, std::string_view n) {
  for (const auto& x : names) {
    if (x == n) return true;
  }
  return false;
}

void Encode(std::string* out, std::string_view n, std::string_view v) {
  PutUvarintBytes(out, n);
  PutUvarintBytes(out, v);
}

}  // namespace

void Labels::Iterator::Decode() {
  if (p_ >= end_) {
    next_ = end_;
    return;
  }
  Decoder d(std::string_view(p_, static_cast<size_t>(end_ - p_)));
  cur_.name = d.UvarintBytes();
  cur_.value = d.UvarintBytes();
  next_ = d.position();
}

Labels::Labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  std::vector<Label> v;
  v.reserve(pairs.size());
  for (const auto& [n, val] : pairs) v.push_back({std::string(n), std::string(val)});
  *this = FromVector(std::move(v));
}

Labels Labels::FromVector(std::vector<Label> labels) {
  std::stable_sort(labels.begin(), labels.end(),
                   [](const Label& a, const Label& b) { return a.name < b.name; });
  Labels out;
  for (size_t i = 0; i < labels.size(); i++) {
    // Last duplicate wins.
    if (i + 1 < labels.size() && labels[i + 1].name == labels[i].name) continue;
    if (labels[i].value.empty()) continue;
    Encode(&out.data_, labels[i].name, labels[i].value);
  }
  return out;
}

Labels Labels::FromSorted(const std::vector<LabelView>& labels) {
  Labels out;
  size_t n = 0;
  for (const auto& l : labels) n += l.name.size() + l.value.size() + 2;
  out.data_.reserve(n);
  for (const auto& l : labels) Encode(&out.data_, l.name, l.value);
  return out;
}

size_t Labels::size() const {
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it) n++;
  return n;
}

std::string_view Labels::Get(std::string_view name) const {
  for (const auto& l : *this) {
    if (l.name == name) return l.value;
    if (l.name > name) break;
  }
  return {};
}

bool Labels::Has(std::string_view name) const {
  for (const auto& l : *this) {
    if (l.name == name) return true;
    if (l.name > name) break;
  }
  return false;
}

uint64_t Labels::Hash() const { return HashBytes(kSeed0, data_.data(), data_.size()); }

uint64_t Labels::HashForLabels(const std::vector<std::string>& names) const {
  uint64_t h = kSeed0;
  for (const auto& l : *this) {
    if (Contains(names, l.name)) h = HashPair(h, l.name, l.value);
  }
  return h;
}

uint64_t Labels::HashWithoutLabels(const std::vector<std::string>& names) const {
  uint64_t h = kSeed0;
  for (const auto& l : *this) {
    if (l.name == kMetricName || Contains(names, l.name)) continue;
    h = HashPair(h, l.name, l.value);
  }
  return h;
}

Labels Labels::KeepOnly(const std::vector<std::string>& names) const {
  Labels out;
  for (const auto& l : *this) {
    if (Contains(names, l.name)) Encode(&out.data_, l.name, l.value);
  }
  return out;
}

Labels Labels::Without(const std::vector<std::string>& names) const {
  Labels out;
  for (const auto& l : *this) {
    if (!Contains(names, l.name)) Encode(&out.data_, l.name, l.value);
  }
  return out;
}

Labels Labels::WithoutMetricName() const {
  if (!Has(kMetricName)) return *this;
  Labels out;
  for (const auto& l : *this) {
    if (l.name != kMetricName) Encode(&out.data_, l.name, l.value);
  }
  return out;
}

std::vector<Label> Labels::ToVector() const {
  std::vector<Label> v;
  for (const auto& l : *this) v.push_back({std::string(l.name), std::string(l.value)});
  return v;
}

std::string Labels::ToString() const {
  std::string s = "{";
  bool first = true;
  for (const auto& l : *this) {
    if (!first) s += ", ";
    first = false;
    if (IsValidLegacyLabelName(l.name)) {
      s.append(l.name);
    } else {
      AppendGoQuoted(&s, l.name);
    }
    s += '=';
    AppendGoQuoted(&s, l.value);
  }
  s += '}';
  return s;
}

int Labels::Compare(const Labels& a, const Labels& b) {
  auto ia = a.begin(), ea = a.end();
  auto ib = b.begin(), eb = b.end();
  for (; ia != ea && ib != eb; ++ia, ++ib) {
    if (int c = ia->name.compare(ib->name); c != 0) return c < 0 ? -1 : 1;
    if (int c = ia->value.compare(ib->value); c != 0) return c < 0 ? -1 : 1;
  }
  if (ia == ea && ib == eb) return 0;
  return ia == ea ? -1 : 1;
}

void LabelsBuilder::Reset(const Labels& base) { labels_ = base.ToVector(); }

LabelsBuilder& LabelsBuilder::Set(std::string_view name, std::string_view value) {
  if (value.empty()) return Del(name);
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels_.end() && it->name == name) {
    it->value = std::string(value);
  } else {
    labels_.insert(it, Label{std::string(name), std::string(value)});
  }
  return *this;
}

LabelsBuilder& LabelsBuilder::Del(std::string_view name) {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels_.end() && it->name == name) labels_.erase(it);
  return *this;
}

std::string_view LabelsBuilder::Get(std::string_view name) const {
  for (const auto& l : labels_) {
    if (l.name == name) return l.value;
  }
  return {};
}

void LabelsBuilder::Keep(const std::vector<std::string>& names) {
  std::erase_if(labels_, [&](const Label& l) { return !Contains(names, l.name); });
}

Labels LabelsBuilder::Build() const {
  std::vector<LabelView> v;
  v.reserve(labels_.size());
  for (const auto& l : labels_) v.push_back({l.name, l.value});
  return Labels::FromSorted(v);
}

void AppendGoQuoted(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size(); i++) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\a': *out += "\\a"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '\v': *out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          *out += "\\x";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xf]);
        } else {
          // UTF-8 passes through unchanged, as strconv.Quote does for printable runes.
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

bool IsValidLegacyMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); i++) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsValidLegacyLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); i++) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

}  // namespace kiln::model
