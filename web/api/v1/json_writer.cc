#include "web/api/v1/json_writer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "pkg/util/float_format.h"

namespace kiln::web::api::v1 {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// ASCII bytes Go's encoder writes unchanged: printable, minus the quote, the backslash and
// the HTML-sensitive <, > and &.
constexpr std::array<bool, 256> MakePlainTable() {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c)
    t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
  return t;
}
constexpr std::array<bool, 256> kPlain = MakePlainTable();

void AppendUnicodeEscape(std::string* out, uint32_t cp) {
  out->append("\\u");
  for (int shift = 12; shift >= 0; shift -= 4) out->push_back(kHex[(cp >> shift) & 0xF]);
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid (Go's rules:
// no overlong forms, no surrogates, nothing above U+10FFFF). Sets *cp to the code point.
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t min;
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4, *cp = b0 & 0x07, min = 0x10000;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3, *cp = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2, *cp = b0 & 0x1F, min = 0x80;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (b & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

JsonWriter::JsonWriter(Sink sink, size_t flush_bytes)
    : sink_(std::move(sink)), out_(&own_), flush_bytes_(flush_bytes) {
  own_.reserve(flush_bytes_ + 1024);
}

JsonWriter::JsonWriter(std::string* out) : out_(out), flush_bytes_(0) {}

JsonWriter::~JsonWriter() { Flush(); }

void JsonWriter::AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // Bytes that print as they are go out in one append: label names and values rarely
    // hold anything else.
    const size_t run_start = i;
    while (i < s.size() && kPlain[static_cast<unsigned char>(s[i])]) ++i;
    if (i > run_start) out->append(s.data() + run_start, i - run_start);
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out->append("\\\"");
          break;
        case '\\':
          out->append("\\\\");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        default:  // <, >, & and the other control characters
          AppendUnicodeEscape(out, c);
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    const size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) {
      out->append("\\ufffd");
      ++i;
    } else if (cp == 0x2028 || cp == 0x2029) {
      AppendUnicodeEscape(out, cp);
      i += n;
    } else {
      out->append(s.substr(i, n));
      i += n;
    }
  }
  out->push_back('"');
}

void JsonWriter::AppendNumber(std::string* out, double v) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  const double a = std::fabs(v);
  if (a == 0 || (a >= 1e-6 && a < 0x1p53)) {
    // Below 2^53, to_chars's shortest fixed form has Go's digits (above, to_chars prints the
    // exact integer where Go pads its shortest digits with zeros).
    char buf[48];
    out->append(buf, std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed).ptr);
    return;
  }
  if (a >= 1e-6 && a < 1e21) {
    out->append(FormatFloatF(v));
    return;
  }
  // Go cleans up a two-digit negative exponent: 1e-07 → 1e-7.
  std::string e = FormatFloatE(v);
  const size_t n = e.size();
  if (n >= 4 && e[n - 4] == 'e' && e[n - 3] == '-' && e[n - 2] == '0') e.erase(n - 2, 1);
  out->append(e);
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_element_.empty()) {
    if (has_element_.back()) out_->push_back(',');
    has_element_.back() = true;
  }
}

void JsonWriter::MaybeFlush() {
  if (out_ == &own_ && own_.size() >= flush_bytes_) Flush();
}

void JsonWriter::Flush() {
  if (out_ != &own_) return;  // collecting into the caller's string
  if (!own_.empty() && !failed_) failed_ = !sink_(own_);
  own_.clear();
}

JsonWriter& JsonWriter::BeginObject() {
  BeforeValue();
  out_->push_back('{');
  has_element_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_->push_back('}');
  has_element_.pop_back();
  MaybeFlush();
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  BeforeValue();
  out_->push_back('[');
  has_element_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  out_->push_back(']');
  has_element_.pop_back();
  MaybeFlush();
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view name) {
  BeforeValue();
  AppendQuoted(out_, name);
  out_->push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view s) {
  BeforeValue();
  AppendQuoted(out_, s);
  MaybeFlush();
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t v) {
  BeforeValue();
  char buf[24];
  out_->append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  return *this;
}

JsonWriter& JsonWriter::Uint(uint64_t v) {
  BeforeValue();
  char buf[24];
  out_->append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool b) {
  BeforeValue();
  out_->append(b ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  out_->append("null");
  return *this;
}

JsonWriter& JsonWriter::Number(double v) {
  BeforeValue();
  AppendNumber(out_, v);
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_->append(json);
  MaybeFlush();
  return *this;
}

}  // namespace kiln::web::api::v1
