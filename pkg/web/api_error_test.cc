#include "pkg/web/api_error.h"

#include <gtest/gtest.h>

namespace kiln::web {
namespace {

TEST(ApiErrorTest, MapsEveryCodeLikePrometheus) {
  const std::vector<std::tuple<Status, std::string, int>> cases = {
      {Status::BadData("x"), "bad_data", 400},
      {Status::Execution("x"), "execution", 422},
      {Status::Canceled("x"), "canceled", 499},
      {Status::Timeout("x"), "timeout", 503},
      {Status::Internal("x"), "internal", 500},
      {Status::NotFound("x"), "not_found", 404},
      {Status::Unavailable("x"), "unavailable", 500},
      {Status::LimitExceeded("x"), "execution", 422},
      {Status::OutOfOrder("x"), "bad_data", 400},
      {Status::IOError("x"), "internal", 500},
      {Status::Corruption("x"), "internal", 500},
  };
  for (const auto& [status, type, code] : cases) {
    ApiErrorKind k = MapStatus(status);
    EXPECT_EQ(k.error_type, type) << status.ToString();
    EXPECT_EQ(k.http_status, code) << status.ToString();
  }
}

TEST(ApiErrorTest, Envelope) {
  EXPECT_EQ(ApiErrorBody(Status::Unavailable("admin APIs disabled")),
            R"({"status":"error","errorType":"unavailable","error":"admin APIs disabled"})");
  EXPECT_EQ(ApiErrorBody(Status::BadData("parse error: \"x\"")),
            R"({"status":"error","errorType":"bad_data","error":"parse error: \"x\""})");
}

}  // namespace
}  // namespace kiln::web
