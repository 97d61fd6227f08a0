#include "web/api/v1/request.h"

#include <strings.h>

namespace kiln::web::api::v1 {

namespace {

std::string FirstValue(const std::vector<Param>& params, std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return "";
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's url.QueryUnescape: '+' is a space; a malformed %-escape fails the whole pair.
bool Unescape(std::string_view s, std::string* out) {
  out->clear();
  out->reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out->push_back(' ');
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return false;
      const int hi = HexDigit(s[i + 1]), lo = HexDigit(s[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out->push_back(s[i]);
    }
  }
  return true;
}

}  // namespace

std::string ApiRequest::FormValue(std::string_view name) const { return FirstValue(form, name); }

std::vector<std::string> ApiRequest::FormValues(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : form) {
    if (k == name) out.push_back(v);
  }
  return out;
}

std::string ApiRequest::PathParam(std::string_view name) const {
  return FirstValue(path_params, name);
}

std::string ApiRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return "";
}

void ParseUrlEncoded(std::string_view s, std::vector<Param>* out) {
  while (!s.empty()) {
    const size_t amp = s.find('&');
    const std::string_view pair = s.substr(0, amp);
    s = amp == std::string_view::npos ? std::string_view() : s.substr(amp + 1);
    // Go (since 1.17) drops pairs holding a ';' and pairs with bad escapes.
    if (pair.empty() || pair.find(';') != std::string_view::npos) continue;
    const size_t eq = pair.find('=');
    std::string key, value;
    if (!Unescape(pair.substr(0, eq), &key)) continue;
    if (eq != std::string_view::npos && !Unescape(pair.substr(eq + 1), &value)) continue;
    out->emplace_back(std::move(key), std::move(value));
  }
}

std::string ApiResponse::BodyString() const {
  if (!json) return body;
  std::string out;
  {
    JsonWriter w(&out);
    json(w);
  }
  return out;
}

}  // namespace kiln::web::api::v1
