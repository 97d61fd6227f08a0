#include "pkg/scrape/http_scraper.h"

#include "pkg/util/float_format.h"

namespace kiln::scrape {
namespace {

// The reason phrase Go's http.Response.Status carries after the code.
std::string StatusText(int code) {
  static const std::pair<int, const char*> kTexts[] = {{301, "Moved Permanently"},
                                                       {302, "Found"},
                                                       {400, "Bad Request"},
                                                       {401, "Unauthorized"},
                                                       {403, "Forbidden"},
                                                       {404, "Not Found"},
                                                       {405, "Method Not Allowed"},
                                                       {429, "Too Many Requests"},
                                                       {500, "Internal Server Error"},
                                                       {502, "Bad Gateway"},
                                                       {503, "Service Unavailable"},
                                                       {504, "Gateway Timeout"}};
  for (const auto& [c, text] : kTexts) {
    if (c == code) return std::to_string(code) + " " + text;
  }
  return std::to_string(code);
}

}  // namespace

HttpScraper::HttpScraper(const Target& target, const config::ScrapeConfig& cfg, std::string accept)
    : http_(cfg.http),
      scheme_(target.all_labels().Get("__scheme__")),
      host_port_(target.all_labels().Get("__address__")),
      path_query_(target.url().substr(scheme_.size() + 3 + host_port_.size())),
      timeout_(target.timeout()),
      body_size_limit_(cfg.body_size_limit.bytes) {
  headers_.emplace("Accept", std::move(accept));
  headers_.emplace("Accept-Encoding", cfg.enable_compression ? "gzip" : "identity");
  headers_.emplace("User-Agent", std::string(kUserAgent));
  headers_.emplace("X-Prometheus-Scrape-Timeout-Seconds",
                   FormatFloatF(std::chrono::duration<double>(timeout_).count()));
}

Status HttpScraper::Connect() {
  KILN_ASSIGN_OR_RETURN(client_, discovery::NewHttpClient(http_, scheme_, host_port_, timeout_));
  client_->set_keep_alive(true);
  client_->set_decompress(true);
  return Status::OK();
}

Status HttpScraper::Scrape(std::string* body, std::string* content_type) {
  if (!client_) KILN_RETURN_IF_ERROR(Connect());
  httplib::Headers headers = headers_;
  KILN_RETURN_IF_ERROR(discovery::AddConfiguredHeaders(http_, &headers));
  body->clear();
  bool too_big = false;
  int status = 0;
  httplib::Result res = client_->Get(
      path_query_, headers,
      [&](const httplib::Response& r) {
        status = r.status;
        return r.status == 200;
      },
      [&](const char* data, size_t n) {
        if (body_size_limit_ > 0 && body->size() + n > static_cast<size_t>(body_size_limit_)) {
          too_big = true;
          return false;
        }
        body->append(data, n);
        return true;
      });
  if (too_big) {
    client_.reset();
    return Status::LimitExceeded("body size limit exceeded");
  }
  if (status != 0 && status != 200) {
    return Status::Unavailable("server returned HTTP status " + StatusText(status));
  }
  if (!res) {
    client_.reset();  // the connection may be half-used; start fresh next time
    httplib::Error e = res.error();
    if (e == httplib::Error::Read || e == httplib::Error::ConnectionTimeout) {
      return Status::Timeout("Get \"" + scheme_ + "://" + host_port_ + path_query_ +
                             "\": context deadline exceeded");
    }
    return Status::Unavailable("Get \"" + scheme_ + "://" + host_port_ + path_query_ +
                               "\": " + httplib::to_string(e));
  }
  *content_type = res->get_header_value("Content-Type");
  return Status::OK();
}

}  // namespace kiln::scrape
