#include "pkg/remote/write_handler.h"

#include <snappy.h>

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <algorithm>
#include <cctype>
#include <chrono>

#include "pkg/remote/ingest.h"

namespace kiln::remote {

namespace {

constexpr std::string_view kProtoContentType = "application/x-protobuf";
constexpr std::string_view kV1Message = "prometheus.WriteRequest";
constexpr std::string_view kV2Message = "io.prometheus.write.v2.Request";
constexpr int64_t kMaxAheadMs = 10 * 60 * 1000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

WriteResponse Error(int status, std::string message) {
  WriteResponse r;
  r.status = status;
  r.body = std::move(message) + "\n";
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  return r;
}

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void SetWrittenHeaders(const WriteStats& s, WriteResponse* r) {
  r->headers.emplace_back("X-Prometheus-Remote-Write-Samples-Written", std::to_string(s.samples));
  r->headers.emplace_back("X-Prometheus-Remote-Write-Histograms-Written",
                          std::to_string(s.histograms));
  r->headers.emplace_back("X-Prometheus-Remote-Write-Exemplars-Written",
                          std::to_string(s.exemplars));
}

}  // namespace

struct WriteHandler::Decoded {
  ProtoMsg msg = ProtoMsg::kV1;
  prompb::WriteRequest v1;
  prompb::writev2::Request v2;
};

WriteHandler::WriteHandler(storage::Appendable* appendable, prometheus::Registry* registry,
                           Logger logger, Options options)
    : appendable_(appendable), logger_(std::move(logger)), options_(std::move(options)) {
  if (!options_.now_ms) options_.now_ms = SystemNowMs;
  invalid_labels_samples_ =
      &prometheus::BuildCounter()
           .Name("prometheus_api_remote_write_invalid_labels_samples_total")
           .Help(
               "The total number of received remote write samples and histogram samples "
               "which were rejected due to invalid labels.")
           .Register(*registry)
           .Add({});
  without_metadata_samples_ =
      &prometheus::BuildCounter()
           .Name("prometheus_api_remote_write_without_metadata_appended_samples_total")
           .Help(
               "The total number of received remote write samples (and histogram samples) "
               "which were ingested without corresponding metadata.")
           .Register(*registry)
           .Add({});
}

WriteResponse WriteHandler::Handle(std::string_view content_type, std::string_view content_encoding,
                                   std::string_view body) const {
  Decoded d;
  WriteResponse r = Decode(content_type, content_encoding, body, &d);
  if (r.status != 0) {
    logger_.Error("Error decoding remote write request", {{"err", std::string(Trim(r.body))}});
    return r;
  }
  return Write(d);
}

// Returns status 0 when `out` holds a decoded request, else the error answer.
WriteResponse WriteHandler::Decode(std::string_view content_type, std::string_view content_encoding,
                                   std::string_view body, Decoded* out) const {
  std::string_view ct = Trim(content_type);
  if (ct.empty()) ct = kProtoContentType;  // pre-2.0 senders may omit it
  std::string_view media = Trim(ct.substr(0, ct.find(';')));
  if (media != kProtoContentType) {
    return Error(415, "expected " + std::string(kProtoContentType) +
                          " as the first (media) part, got " + std::string(ct) + " content-type");
  }
  out->msg = ProtoMsg::kV1;
  std::string_view params = ct.size() > media.size() ? ct.substr(ct.find(';') + 1) : "";
  while (!params.empty()) {
    std::string_view p = Trim(params.substr(0, params.find(';')));
    params = params.find(';') == std::string_view::npos ? "" : params.substr(params.find(';') + 1);
    size_t eq = p.find('=');
    if (eq == std::string_view::npos || p.find('=', eq + 1) != std::string_view::npos) {
      return Error(415,
                   "as per https://www.rfc-editor.org/rfc/rfc9110#parameter expected "
                   "parameters to be key-values, got " +
                       std::string(p) + " in " + std::string(ct) + " content-type");
    }
    if (Trim(p.substr(0, eq)) != "proto") continue;
    std::string_view value = Trim(p.substr(eq + 1));
    if (value == kV2Message) {
      out->msg = ProtoMsg::kV2;
    } else if (value != kV1Message) {
      return Error(415, "got " + std::string(ct) + " content type; unknown remote write " +
                            "protobuf message " + std::string(value) + ", supported: " +
                            std::string(kV1Message) + ", " + std::string(kV2Message));
    }
    break;
  }
  if (!content_encoding.empty() && Lower(Trim(content_encoding)) != "snappy") {
    return Error(415, std::string(content_encoding) +
                          " encoding (compression) is not accepted by this server; only "
                          "snappy is acceptable");
  }
  size_t decoded_len = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &decoded_len)) {
    return Error(400, "snappy: corrupt input");
  }
  if (decoded_len > options_.max_decoded_bytes) {
    return Error(400, "snappy: decoded length " + std::to_string(decoded_len) +
                          " exceeds the limit of " + std::to_string(options_.max_decoded_bytes) +
                          " bytes");
  }
  std::string raw;
  if (!snappy::Uncompress(body.data(), body.size(), &raw)) {
    return Error(400, "snappy: corrupt input");
  }
  bool parsed =
      out->msg == ProtoMsg::kV1 ? out->v1.ParseFromString(raw) : out->v2.ParseFromString(raw);
  if (!parsed) {
    return Error(400, "proto: cannot parse invalid wire-format data as " +
                          std::string(out->msg == ProtoMsg::kV1 ? kV1Message : kV2Message));
  }
  WriteResponse ok;
  ok.status = 0;
  return ok;
}

WriteResponse WriteHandler::Write(const Decoded& d) const {
  IngestOptions opts{options_.now_ms() + kMaxAheadMs, options_.on_metadata};
  std::unique_ptr<storage::Appender> app = appendable_->NewAppender();
  IngestResult res = d.msg == ProtoMsg::kV1 ? IngestV1(d.v1, opts, app.get(), logger_)
                                            : IngestV2(d.v2, opts, app.get(), logger_);
  invalid_labels_samples_->Increment(static_cast<double>(res.invalid_label_samples));
  WriteResponse r;
  if (!res.fatal.ok()) {
    Status rb = app->Rollback();
    if (!rb.ok()) logger_.Error("rollback failed", {{"err", rb.ToString()}});
    logger_.Error("Error while remote writing the request", {{"err", res.fatal.ToString()}});
    r = Error(500, res.fatal.ToString());
    res.written = WriteStats{};
  } else if (Status c = app->Commit(); !c.ok()) {
    logger_.Error("Error while remote writing the request", {{"err", c.ToString()}});
    r = Error(500, c.Wrap("commit").ToString());
    res.written = WriteStats{};
  } else {
    without_metadata_samples_->Increment(static_cast<double>(res.samples_without_metadata));
    r = res.bad_requests.empty() ? WriteResponse{} : Error(400, JoinErrors(res.bad_requests));
  }
  if (d.msg == ProtoMsg::kV2) SetWrittenHeaders(res.written, &r);
  return r;
}

std::string WriteHandler::JoinErrors(const std::vector<std::string>& lines) const {
  std::string out;
  size_t shown = std::min(lines.size(), options_.max_error_lines);
  for (size_t i = 0; i < shown; ++i) {
    if (i > 0) out += '\n';
    out += lines[i];
  }
  if (lines.size() > shown) {
    out += "\nand " + std::to_string(lines.size() - shown) + " more errors";
  }
  return out;
}

}  // namespace kiln::remote
