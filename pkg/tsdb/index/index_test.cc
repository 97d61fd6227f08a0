#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "pkg/tsdb/chunkenc/xor.h"
#include "pkg/tsdb/chunks/chunk_reader.h"
#include "pkg/tsdb/chunks/chunk_writer.h"
#include "pkg/tsdb/index/index_reader.h"
#include "pkg/tsdb/index/index_writer.h"

namespace kiln::tsdb::index {
namespace {

namespace fs = std::filesystem;
using chunks::ChunkMeta;

constexpr const char* kPromtool = "/usr/bin/promtool";
constexpr const char* kUlid = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kiln_index_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string RunCommand(const std::string& cmd, int* rc) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  *rc = pclose(f);
  return out;
}

struct TestSeries {
  model::Labels labels;
  std::vector<std::pair<int64_t, double>> samples;
};

// 3 metrics x 2 jobs x 4 instances, 250 samples each at 15s: three chunks per series.
std::vector<TestSeries> MakeSeries(int64_t t0) {
  std::vector<TestSeries> out;
  for (const char* metric : {"http_requests_total", "node_load1", "up"}) {
    for (const char* job : {"api", "node"}) {
      for (int inst = 0; inst < 4; inst++) {
        TestSeries s;
        const std::string instance = "host-" + std::to_string(inst) + ":9100";
        s.labels = model::Labels{{"__name__", metric}, {"job", job}, {"instance", instance}};
        for (int i = 0; i < 250; i++) {
          s.samples.push_back({t0 + i * 15000 + inst, inst * 100.0 + i * 0.25});
        }
        out.push_back(std::move(s));
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const TestSeries& a, const TestSeries& b) { return a.labels < b.labels; });
  return out;
}

// Cuts each series into 120-sample chunks.
std::vector<ChunkMeta> Chunk(const TestSeries& s) {
  std::vector<ChunkMeta> metas;
  std::unique_ptr<chunkenc::Appender> app;
  for (size_t i = 0; i < s.samples.size(); i++) {
    if (i % 120 == 0) {
      metas.push_back({0, s.samples[i].first, 0, std::make_shared<chunkenc::XorChunk>()});
      app = std::move(metas.back().chunk->NewAppender().value());
    }
    app->Append(s.samples[i].first, s.samples[i].second);
    metas.back().max_time = s.samples[i].first;
  }
  return metas;
}

// Writes a complete block (chunks, index, tombstones, meta.json) into <db>/<ulid>.
void WriteBlock(const std::string& db, const std::vector<TestSeries>& series,
                std::vector<std::vector<ChunkMeta>>* all_metas) {
  const std::string dir = db + "/" + kUlid;
  auto cw = chunks::ChunkWriter::Open(dir + "/chunks");
  ASSERT_TRUE(cw.ok());
  std::set<std::string> symbols = {""};
  int64_t mint = INT64_MAX, maxt = INT64_MIN;
  size_t nsamples = 0, nchunks = 0;
  for (const auto& s : series) {
    all_metas->push_back(Chunk(s));
    ASSERT_TRUE((*cw)->WriteChunks(all_metas->back()).ok());
    for (const auto& l : s.labels) {
      symbols.emplace(l.name);
      symbols.emplace(l.value);
    }
    mint = std::min(mint, s.samples.front().first);
    maxt = std::max(maxt, s.samples.back().first);
    nsamples += s.samples.size();
    nchunks += all_metas->back().size();
  }
  ASSERT_TRUE((*cw)->Close().ok());
  auto iw = IndexWriter::Open(dir + "/index");
  ASSERT_TRUE(iw.ok());
  for (const auto& sym : symbols) ASSERT_TRUE((*iw)->AddSymbol(sym).ok());
  for (size_t i = 0; i < series.size(); i++) {
    ASSERT_TRUE((*iw)->AddSeries(series[i].labels, (*all_metas)[i]).ok());
  }
  ASSERT_TRUE((*iw)->Close().ok());
  // Empty tombstones: magic 0x0130BA30, version 1, CRC32C of nothing (upstream tombstones.md).
  std::ofstream(dir + "/tombstones", std::ios::binary)
      << std::string("\x01\x30\xBA\x30\x01\x00\x00\x00\x00", 9);
  std::ofstream(dir + "/meta.json")
      << "{\"ulid\":\"" << kUlid << "\",\"minTime\":" << mint << ",\"maxTime\":" << maxt + 1
      << ",\"stats\":{\"numSamples\":" << nsamples << ",\"numSeries\":" << series.size()
      << ",\"numChunks\":" << nchunks << "},\"compaction\":{\"level\":1,\"sources\":[\"" << kUlid
      << "\"]},\"version\":1}\n";
}

TEST(IndexTest, WriteAndReadBack) {
  TempDir dir;
  const auto series = MakeSeries(1700006400000);
  std::vector<std::vector<ChunkMeta>> metas;
  WriteBlock(dir.path(), series, &metas);
  const std::string block = dir.path() + "/" + kUlid;
  auto r = IndexReader::Open(block + "/index");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto cr = chunks::ChunkReader::Open(block + "/chunks");
  ASSERT_TRUE(cr.ok());

  EXPECT_EQ((*r)->LabelNames(), (std::vector<std::string>{"__name__", "instance", "job"}));
  EXPECT_EQ((*r)->LabelValues("job"), (std::vector<std::string>{"api", "node"}));
  EXPECT_TRUE((*r)->LabelValues("nope").empty());
  EXPECT_EQ((*r)->Symbols().front(), "");

  auto all = ExpandPostings((*r)->SortedPostings((*r)->AllPostings()).get());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), series.size());
  for (size_t i = 0; i < all->size(); i++) {
    model::Labels lset;
    std::vector<ChunkMeta> got;
    ASSERT_TRUE((*r)->Series((*all)[i], &lset, &got).ok());
    EXPECT_EQ(lset, series[i].labels);
    ASSERT_EQ(got.size(), metas[i].size());
    for (size_t j = 0; j < got.size(); j++) {
      EXPECT_EQ(got[j].ref, metas[i][j].ref);
      EXPECT_EQ(got[j].min_time, metas[i][j].min_time);
      EXPECT_EQ(got[j].max_time, metas[i][j].max_time);
      auto c = (*cr)->Chunk(got[j].ref);
      ASSERT_TRUE(c.ok());
      EXPECT_EQ((*c)->Bytes(), metas[i][j].chunk->Bytes());
    }
  }

  // up{job=~"api|node", instance="host-2:9100"}: one series per job.
  const std::string_view up[] = {"up"}, jobs[] = {"api", "node", "missing"},
                         inst[] = {"host-2:9100"};
  std::vector<std::unique_ptr<Postings>> its;
  its.push_back((*r)->PostingsFor("__name__", up));
  its.push_back((*r)->PostingsFor("job", jobs));
  its.push_back((*r)->PostingsFor("instance", inst));
  auto hits = ExpandPostings(Intersect(std::move(its)).get());
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 2u);
  for (uint64_t id : *hits) {
    model::Labels lset;
    std::vector<ChunkMeta> got;
    ASSERT_TRUE((*r)->Series(id, &lset, &got).ok());
    EXPECT_EQ(lset.MetricName(), "up");
    EXPECT_EQ(lset.Get("instance"), "host-2:9100");
  }
  EXPECT_FALSE((*r)->PostingsFor("nope", up)->Next());
}

// Enough series that the writers flush their buffers many times (index and chunks > 1 MiB).
TEST(IndexTest, LargeBlockRoundTrip) {
  TempDir dir;
  constexpr int kN = 20000;
  std::vector<TestSeries> series;
  for (int i = 0; i < kN; i++) {
    TestSeries s;
    s.labels = model::Labels{{"__name__", "m" + std::to_string(i % 97)},
                             {"id", std::to_string(1000000 + i)}};
    for (int j = 0; j < 30; j++) s.samples.push_back({j * 15000, i + j * 0.1});
    series.push_back(std::move(s));
  }
  std::sort(series.begin(), series.end(),
            [](const TestSeries& a, const TestSeries& b) { return a.labels < b.labels; });
  std::vector<std::vector<ChunkMeta>> metas;
  WriteBlock(dir.path(), series, &metas);
  const std::string block = dir.path() + "/" + kUlid;
  EXPECT_GT(fs::file_size(block + "/index"), 1u << 20);
  EXPECT_GT(fs::file_size(block + "/chunks/000001"), 1u << 20);
  auto r = IndexReader::Open(block + "/index");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto cr = chunks::ChunkReader::Open(block + "/chunks");
  ASSERT_TRUE(cr.ok());
  auto all = ExpandPostings((*r)->AllPostings().get());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), static_cast<size_t>(kN));
  for (size_t i = 0; i < all->size(); i += 997) {
    model::Labels l;
    std::vector<ChunkMeta> got;
    ASSERT_TRUE((*r)->Series((*all)[i], &l, &got).ok());
    EXPECT_EQ(l, series[i].labels);
    ASSERT_EQ(got.size(), 1u);
    auto c = (*cr)->Chunk(got[0].ref);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ((*c)->Bytes(), metas[i][0].chunk->Bytes());
  }
  EXPECT_EQ((*r)->LabelValues("id").size(), static_cast<size_t>(kN));
}

TEST(IndexTest, WriterRejectsMisuse) {
  TempDir dir;
  auto w = IndexWriter::Open(dir.path() + "/index");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->AddSymbol("a").ok());
  EXPECT_TRUE((*w)->AddSymbol("a").Is(StatusCode::kBadData));
  ASSERT_TRUE((*w)->AddSymbol("b").ok());
  ASSERT_TRUE((*w)->AddSeries(model::Labels{{"b", "b"}}, {}).ok());
  EXPECT_TRUE((*w)->AddSeries(model::Labels{{"a", "a"}}, {}).Is(StatusCode::kBadData));
  EXPECT_TRUE((*w)->AddSeries(model::Labels{{"b", "c"}}, {}).Is(StatusCode::kBadData));
  EXPECT_FALSE((*w)->AddSymbol("c").ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto r = IndexReader::Open(dir.path() + "/index");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->LabelValues("b"), std::vector<std::string>{"b"});
}

TEST(IndexTest, CorruptionIsDetected) {
  TempDir dir;
  const auto series = MakeSeries(0);
  std::vector<std::vector<ChunkMeta>> metas;
  WriteBlock(dir.path(), series, &metas);
  const std::string path = dir.path() + "/" + kUlid + "/index";
  const std::string good = ReadFile(path);
  uint64_t first_series;
  {
    auto r = IndexReader::Open(path);
    ASSERT_TRUE(r.ok());
    auto all = (*r)->AllPostings();
    ASSERT_TRUE(all->Next());
    first_series = all->At();
  }
  std::string bad = good;
  bad[first_series * 16 + 3] ^= 0x10;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
  {
    auto r = IndexReader::Open(path);
    ASSERT_TRUE(r.ok());
    model::Labels l;
    std::vector<ChunkMeta> m;
    EXPECT_TRUE((*r)->Series(first_series, &l, &m).Is(StatusCode::kCorruption));
    EXPECT_TRUE((*r)->Series(1ull << 40, &l, &m).Is(StatusCode::kNotFound));
  }
  bad = good;
  bad[bad.size() - 10] ^= 1;  // inside the TOC
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
  EXPECT_TRUE(IndexReader::Open(path).status().Is(StatusCode::kCorruption));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << good.substr(0, 20);
  EXPECT_TRUE(IndexReader::Open(path).status().Is(StatusCode::kCorruption));
}

// Flipping any single byte must never crash the reader: it fails Open, fails a read, or
// (in padding or unchecked bytes) reads on.
TEST(IndexTest, RandomByteFlipsNeverCrash) {
  TempDir dir;
  const auto series = MakeSeries(0);
  std::vector<std::vector<ChunkMeta>> metas;
  WriteBlock(dir.path(), series, &metas);
  const std::string path = dir.path() + "/" + kUlid + "/index";
  const std::string good = ReadFile(path);
  std::mt19937_64 rng(1);
  for (int round = 0; round < 300; round++) {
    std::string bad = good;
    bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
    auto r = IndexReader::Open(path);
    if (!r.ok()) continue;
    for (const auto& name : (*r)->LabelNames()) (*r)->LabelValues(name);
    auto all = (*r)->AllPostings();
    while (all->Next()) {
      model::Labels l;
      std::vector<ChunkMeta> m;
      (*r)->Series(all->At(), &l, &m);
    }
  }
}

// Reads promtool's index, and rewrites it from what was read: the bytes must be identical.
TEST(IndexPromtoolTest, ReadsAndRewritesPromtoolIndexByteForByte) {
  if (!fs::exists(kPromtool)) GTEST_SKIP() << "promtool not installed";
  TempDir dir;
  {
    std::ofstream om(dir.path() + "/in.om");
    for (const char* name : {"alpha", "beta_total", "gamma"}) {
      om << "# TYPE " << name << " gauge\n";
      for (int i = 0; i < 300; i++) {
        om << name << "{shard=\"" << i % 5 << "\",env=\"" << (i % 2 ? "prod" : "dev") << "\"} " << i
           << " " << 1700006400 + i * 10 << "\n";
      }
    }
    om << "# EOF\n";
  }
  int rc;
  RunCommand(std::string(kPromtool) + " tsdb create-blocks-from openmetrics " + dir.path() +
                 "/in.om " + dir.path() + "/out 2>&1",
             &rc);
  ASSERT_EQ(rc, 0);
  std::string block;
  for (const auto& e : fs::directory_iterator(dir.path() + "/out")) block = e.path();

  auto r = IndexReader::Open(block + "/index");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto cr = chunks::ChunkReader::Open(block + "/chunks");
  ASSERT_TRUE(cr.ok());
  EXPECT_EQ((*r)->LabelNames(), (std::vector<std::string>{"__name__", "env", "shard"}));
  EXPECT_EQ((*r)->LabelValues("shard"), (std::vector<std::string>{"0", "1", "2", "3", "4"}));

  auto w = IndexWriter::Open(dir.path() + "/index.kiln");
  ASSERT_TRUE(w.ok());
  for (std::string_view s : (*r)->Symbols()) ASSERT_TRUE((*w)->AddSymbol(s).ok());
  auto all = ExpandPostings((*r)->AllPostings().get());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 30u);  // 3 names x 10 (shard, env) combinations
  size_t samples = 0;
  for (uint64_t id : *all) {
    model::Labels lset;
    std::vector<ChunkMeta> metas;
    ASSERT_TRUE((*r)->Series(id, &lset, &metas).ok());
    for (const ChunkMeta& m : metas) {
      auto c = (*cr)->Chunk(m.ref);
      ASSERT_TRUE(c.ok());
      auto it = (*c)->NewIterator();
      int64_t first = INT64_MIN, last = INT64_MIN;
      while (it->Next() == chunkenc::ValueType::kFloat) {
        if (first == INT64_MIN) first = it->AtT();
        last = it->AtT();
        EXPECT_EQ(it->At().second, (it->AtT() / 1000 - 1700006400) / 10);
        samples++;
      }
      EXPECT_EQ(first, m.min_time);
      EXPECT_EQ(last, m.max_time);
    }
    uint64_t new_id;
    ASSERT_TRUE((*w)->AddSeries(lset, metas, &new_id).ok());
    EXPECT_EQ(new_id, id);
  }
  EXPECT_EQ(samples, 900u);
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(ReadFile(dir.path() + "/index.kiln"), ReadFile(block + "/index"));
}

// A block written entirely by Kiln must be readable by Prometheus's own tools.
TEST(IndexPromtoolTest, PromtoolDumpsKilnBlock) {
  if (!fs::exists(kPromtool)) GTEST_SKIP() << "promtool not installed";
  TempDir dir;
  const auto series = MakeSeries(1700006400000);
  std::vector<std::vector<ChunkMeta>> metas;
  WriteBlock(dir.path(), series, &metas);
  fs::create_directories(dir.path() + "/wal");  // dump opens the directory as a DB
  int rc;
  const std::string analyze =
      RunCommand(std::string(kPromtool) + " tsdb analyze " + dir.path() + " 2>&1", &rc);
  ASSERT_EQ(rc, 0) << analyze;
  EXPECT_NE(analyze.find("Series: 24"), std::string::npos) << analyze;

  const std::string dump =
      RunCommand(std::string(kPromtool) + " tsdb dump " + dir.path() + " 2>&1", &rc);
  ASSERT_EQ(rc, 0) << dump;
  std::istringstream lines(dump);
  std::string line;
  size_t si = 0, pi = 0, n = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(si, series.size()) << line;
    const size_t ts_sp = line.rfind(' '), v_sp = line.rfind(' ', ts_sp - 1);
    ASSERT_NE(v_sp, std::string::npos) << line;
    EXPECT_EQ(line.substr(0, v_sp), series[si].labels.ToString());
    EXPECT_EQ(std::stoll(line.substr(ts_sp + 1)), series[si].samples[pi].first);
    EXPECT_EQ(std::strtod(line.substr(v_sp + 1, ts_sp - v_sp - 1).c_str(), nullptr),
              series[si].samples[pi].second);
    n++;
    if (++pi == series[si].samples.size()) {
      pi = 0;
      si++;
    }
  }
  EXPECT_EQ(n, 24u * 250u);
}

}  // namespace
}  // namespace kiln::tsdb::index
