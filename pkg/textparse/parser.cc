#include "pkg/textparse/parser.h"

#include <cctype>

#include "pkg/textparse/openmetrics_parser.h"
#include "pkg/textparse/prom_parser.h"
#include "pkg/textparse/protobuf_parser.h"

namespace kiln::textparse {
namespace {

enum class Format { kUnknown, kText, kOpenMetrics, kProtobuf };

// The media type of a Content-Type header, lowercased, without parameters; "" if malformed.
std::string MediaType(std::string_view content_type) {
  std::string_view mt = content_type.substr(0, content_type.find(';'));
  while (!mt.empty() && std::isspace(static_cast<unsigned char>(mt.front()))) mt.remove_prefix(1);
  while (!mt.empty() && std::isspace(static_cast<unsigned char>(mt.back()))) mt.remove_suffix(1);
  size_t slash = mt.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == mt.size()) return "";
  std::string out(mt);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Format FromMediaType(std::string_view mt) {
  if (mt == "application/openmetrics-text") return Format::kOpenMetrics;
  if (mt == "application/vnd.google.protobuf") return Format::kProtobuf;
  if (mt == "text/plain") return Format::kText;
  return Format::kUnknown;
}

Format FromProtocol(std::string_view p) {
  if (p == "PrometheusProto") return Format::kProtobuf;
  if (p == "PrometheusText0.0.4" || p == "PrometheusText1.0.0") return Format::kText;
  if (p == "OpenMetricsText0.0.1" || p == "OpenMetricsText1.0.0") return Format::kOpenMetrics;
  return Format::kUnknown;
}

}  // namespace

Result<std::unique_ptr<Parser>> NewParser(std::string_view buf, std::string_view content_type,
                                          std::string_view fallback_protocol,
                                          const ParserOptions& options) {
  Format f = FromMediaType(MediaType(content_type));
  if (f == Format::kUnknown) {
    if (fallback_protocol.empty()) {
      if (MediaType(content_type).empty()) {
        return Status::BadData(
            "non-compliant scrape target sending blank Content-Type and no "
            "fallback_scrape_protocol specified for target");
      }
      return Status::BadData("received unsupported Content-Type \"" + std::string(content_type) +
                             "\" and no fallback_scrape_protocol specified for target");
    }
    f = FromProtocol(fallback_protocol);
    if (f == Format::kUnknown) {
      return Status::BadData("unknown fallback_scrape_protocol " + std::string(fallback_protocol));
    }
  }
  switch (f) {
    case Format::kOpenMetrics:
      return std::unique_ptr<Parser>(new OpenMetricsParser(buf, options));
    case Format::kProtobuf:
      return std::unique_ptr<Parser>(new ProtobufParser(buf));
    default:
      return std::unique_ptr<Parser>(new PromParser(buf));
  }
}

}  // namespace kiln::textparse
