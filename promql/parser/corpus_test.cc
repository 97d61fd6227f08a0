// Every query in the PromQL test corpus (promqltest *.test files) and the compliance
// query list must parse with all features on, print, and parse back to the same printed
// form, and deep copies print the same. Queries not marked as failing must parse (most
// `expect fail` queries fail only when evaluated, so those may parse).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "promql/parser/parser.h"
#include "promql/parser/printer.h"

namespace kiln::promql::parser {
namespace {

namespace fs = std::filesystem;

struct CorpusQuery {
  std::string where;  // file:line
  std::string query;
  bool may_fail = false;
};

fs::path SharedDir(const char* env, const char* sub) {
  if (const char* d = std::getenv(env)) return d;
  if (const char* src = std::getenv("KILN_SOURCE_DIR")) {
    return fs::path(src) / ".." / "shared" / sub;
  }
  return fs::path("/work/shared") / sub;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<CorpusQuery> LoadTestFiles(const fs::path& dir) {
  static const std::regex kInstant(R"(^eval(_\w+)?\s+instant\s+at\s+\S+\s+(.+)$)");
  static const std::regex kRange(
      R"(^eval(_\w+)?\s+range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+\s+(.+)$)");
  std::vector<CorpusQuery> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".test") continue;
    std::ifstream in(entry.path());
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      std::string t = Trim(line);
      std::smatch m;
      if (std::regex_match(t, m, kInstant) || std::regex_match(t, m, kRange)) {
        out.push_back({entry.path().filename().string() + ":" + std::to_string(n), m[2].str(),
                       m[1].str() == "_fail"});
      } else if (t.rfind("expect fail", 0) == 0 && !out.empty()) {
        out.back().may_fail = true;
      }
    }
  }
  return out;
}

void Expand(const std::string& q, const YAML::Node& args, size_t i, const YAML::Node& variants,
            std::vector<std::string>* out) {
  if (i == args.size()) {
    out->push_back(q);
    return;
  }
  std::string name = args[i].as<std::string>();
  std::string placeholder = "{{." + name + "}}";
  for (const auto& v : variants[name]) {
    std::string expanded = q;
    for (size_t p; (p = expanded.find(placeholder)) != std::string::npos;) {
      expanded.replace(p, placeholder.size(), v.as<std::string>());
    }
    Expand(expanded, args, i + 1, variants, out);
  }
}

std::vector<CorpusQuery> LoadCompliance(const fs::path& dir) {
  std::vector<CorpusQuery> out;
  YAML::Node queries = YAML::LoadFile((dir / "promql-test-queries.yml").string());
  YAML::Node variants = YAML::LoadFile((dir / "variants.yml").string());
  int n = 0;
  for (const auto& tc : queries["test_cases"]) {
    ++n;
    std::vector<std::string> expanded;
    YAML::Node args =
        tc["variant_args"] ? tc["variant_args"] : YAML::Node(YAML::NodeType::Sequence);
    Expand(tc["query"].as<std::string>(), args, 0, variants, &expanded);
    bool fail = tc["should_fail"] && tc["should_fail"].as<bool>();
    for (auto& q : expanded) out.push_back({"compliance#" + std::to_string(n), q, fail});
  }
  return out;
}

void CheckRoundTrip(const std::vector<CorpusQuery>& queries) {
  const ParserOptions opts = ParserOptions::AllEnabled();
  int parsed = 0;
  for (const auto& q : queries) {
    SCOPED_TRACE(q.where + ": " + q.query);
    auto first = ParseExpr(q.query, opts);
    if (!first.ok()) {
      EXPECT_TRUE(q.may_fail) << q.where << ": " << q.query << "\n  " << first.status().message();
      continue;
    }
    ++parsed;
    std::string printed = (*first)->ToString();
    ExprPtr copy = CloneExpr(**first);
    EXPECT_EQ(copy->ToString(), printed) << q.where;
    EXPECT_EQ(copy->PositionRange(), (*first)->PositionRange()) << q.where;
    auto second = ParseExpr(printed, opts);
    ASSERT_TRUE(second.ok()) << q.where << ": " << q.query << "\n  printed: " << printed << "\n  "
                             << second.status().message();
    EXPECT_EQ((*second)->ToString(), printed) << q.where << ": " << q.query;
    EXPECT_EQ((*second)->Type(), (*first)->Type()) << q.where;
  }
  EXPECT_GT(parsed, 0);
}

TEST(CorpusTest, PromqlTestFiles) {
  fs::path dir = SharedDir("PROMQLTEST_DIR", "promqltest");
  if (!fs::exists(dir)) GTEST_SKIP() << "no corpus at " << dir;
  auto queries = LoadTestFiles(dir);
  EXPECT_GT(queries.size(), 1000u);
  CheckRoundTrip(queries);
}

TEST(CorpusTest, ComplianceQueries) {
  fs::path dir = SharedDir("PROMQL_COMPLIANCE_DIR", "compliance");
  if (!fs::exists(dir / "promql-test-queries.yml")) GTEST_SKIP() << "no queries at " << dir;
  auto queries = LoadCompliance(dir);
  EXPECT_GT(queries.size(), 100u);
  CheckRoundTrip(queries);
}

}  // namespace
}  // namespace kiln::promql::parser
