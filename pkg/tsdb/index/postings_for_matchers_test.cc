#include "pkg/tsdb/index/postings_for_matchers.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>

#include "pkg/tsdb/index/index_reader.h"
#include "pkg/tsdb/index/index_writer.h"

namespace kiln::tsdb::index {
namespace {

namespace fs = std::filesystem;
using model::MatchType;

struct M {
  MatchType type;
  const char* name;
  const char* value;
};

// Each row's result is checked against model::MatchesAll applied to every series, so the
// table documents the cases rather than hard-coding answers; `want` pins the count too.
struct Row {
  std::vector<M> matchers;
  size_t want;
};

class PostingsForMatchersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kiln_pfm_XXXXXX";
    dir_ = mkdtemp(tmpl);
    // n=0..9, i=n%3, plus "j" only on even n, and one series without "i".
    for (int n = 0; n < 10; n++) {
      model::LabelsBuilder b;
      b.Set("n", std::to_string(n)).Set("i", std::to_string(n % 3));
      if (n % 2 == 0) b.Set("j", "even");
      series_.push_back(b.Build());
    }
    series_.push_back(model::Labels{{"n", "x"}});
    std::sort(series_.begin(), series_.end());
    std::set<std::string> symbols;
    for (const auto& s : series_) {
      for (const auto& l : s) {
        symbols.emplace(l.name);
        symbols.emplace(l.value);
      }
    }
    auto w = IndexWriter::Open(dir_ + "/index");
    ASSERT_TRUE(w.ok());
    for (const auto& s : symbols) ASSERT_TRUE((*w)->AddSymbol(s).ok());
    for (const auto& s : series_) ASSERT_TRUE((*w)->AddSeries(s, {}).ok());
    ASSERT_TRUE((*w)->Close().ok());
    auto r = IndexReader::Open(dir_ + "/index");
    ASSERT_TRUE(r.ok());
    reader_ = std::move(*r);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string dir_;
  std::vector<model::Labels> series_;
  std::unique_ptr<IndexReader> reader_;
};

TEST_F(PostingsForMatchersTest, MatchesBruteForce) {
  const Row rows[] = {
      {{{MatchType::kEqual, "i", "1"}}, 3},
      {{{MatchType::kEqual, "i", "1"}, {MatchType::kEqual, "j", "even"}}, 1},
      {{{MatchType::kEqual, "i", ""}}, 1},         // series without i
      {{{MatchType::kNotEqual, "i", ""}}, 10},     // series with i
      {{{MatchType::kNotEqual, "i", "1"}}, 8},     // includes the one without i
      {{{MatchType::kNotEqual, "j", "even"}}, 6},  // odd n and n="x"
      {{{MatchType::kRegexMatch, "n", "[0-4]"}}, 5},
      {{{MatchType::kRegexMatch, "n", "1|3|x"}, {MatchType::kNotEqual, "i", "0"}}, 2},
      {{{MatchType::kRegexMatch, "i", "|1"}}, 4},  // matches empty: absent i too
      {{{MatchType::kRegexNoMatch, "n", "[0-8]"}}, 2},
      {{{MatchType::kRegexMatch, "n", ".+"}, {MatchType::kRegexNoMatch, "j", ".+"}}, 6},
      {{{MatchType::kRegexMatch, "n", ".*"}}, 11},
      {{{MatchType::kEqual, "nope", ""}}, 11},
      {{{MatchType::kEqual, "nope", "x"}}, 0},
      {{{MatchType::kEqual, "i", "7"}, {MatchType::kEqual, "i", ""}}, 0},
      {{{MatchType::kNotEqual, "n", "3"}, {MatchType::kRegexMatch, "i", "0|1"}}, 6},
  };
  for (const Row& row : rows) {
    std::vector<model::Matcher> ms;
    std::string desc;
    for (const M& m : row.matchers) {
      auto made = model::Matcher::Make(m.type, m.name, m.value);
      ASSERT_TRUE(made.ok());
      desc += made->ToString() + " ";
      ms.push_back(*made);
    }
    auto got = ExpandPostings(PostingsForMatchers(*reader_, ms).get());
    ASSERT_TRUE(got.ok());
    std::vector<std::string> got_series, want_series;
    for (uint64_t id : *got) {
      model::Labels l;
      std::vector<chunks::ChunkMeta> metas;
      ASSERT_TRUE(reader_->Series(id, &l, &metas).ok());
      got_series.push_back(l.ToString());
    }
    for (const auto& s : series_) {
      if (model::MatchesAll(ms, s)) want_series.push_back(s.ToString());
    }
    EXPECT_EQ(got_series, want_series) << desc;
    EXPECT_EQ(got_series.size(), row.want) << desc;
  }
  EXPECT_FALSE(PostingsForMatchers(*reader_, {})->Next());
}

}  // namespace
}  // namespace kiln::tsdb::index
