// Pretty() against testdata/pretty.golden, whose expected layouts were produced by a real
// Prometheus server's /api/v1/format_query.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "promql/parser/parser.h"
#include "promql/parser/printer.h"

namespace kiln::promql::parser {
namespace {

struct Golden {
  std::string query;
  std::string expected;
};

std::vector<Golden> LoadGolden() {
  const char* src = std::getenv("KILN_SOURCE_DIR");
  std::string path = std::string(src ? src : ".") + "/promql/parser/testdata/pretty.golden";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<Golden> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) == 0) continue;
    if (line.rfind("== ", 0) == 0) {
      out.push_back({line.substr(3), ""});
    } else if (!out.empty()) {
      if (!out.back().expected.empty()) out.back().expected += "\n";
      out.back().expected += line;
    }
  }
  return out;
}

TEST(PrettyTest, MatchesPrometheusFormatQuery) {
  auto cases = LoadGolden();
  ASSERT_GE(cases.size(), 5u);
  for (const auto& c : cases) {
    auto e = ParseExpr(c.query);
    ASSERT_TRUE(e.ok()) << c.query << ": " << e.status().message();
    EXPECT_EQ(Pretty(**e), c.expected) << c.query;
    // The pretty form parses back to the same expression.
    auto again = ParseExpr(Pretty(**e));
    ASSERT_TRUE(again.ok()) << Pretty(**e);
    EXPECT_EQ((*again)->ToString(), (*e)->ToString());
  }
}

}  // namespace
}  // namespace kiln::promql::parser
