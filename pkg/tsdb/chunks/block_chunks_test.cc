#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "pkg/tsdb/chunkenc/xor.h"
#include "pkg/tsdb/chunks/chunk_reader.h"
#include "pkg/tsdb/chunks/chunk_writer.h"
#include "pkg/util/coding.h"

namespace kiln::tsdb::chunks {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kiln_block_chunks_XXXXXX";
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

std::shared_ptr<chunkenc::Chunk> MakeChunk(int seed, int n) {
  auto c = std::make_shared<chunkenc::XorChunk>();
  auto app = c->NewAppender();
  for (int i = 0; i < n; i++) (*app)->Append(i * 15000 + seed, seed * 0.5 + i);
  return c;
}

TEST(BlockChunksTest, WriteAndReadAcrossSegments) {
  TempDir dir;
  std::vector<ChunkMeta> metas;
  for (int i = 0; i < 50; i++) metas.push_back({0, 0, 0, MakeChunk(i, 1 + i % 120)});
  {
    // A tiny segment size forces several segments.
    auto w = ChunkWriter::Open(dir.path() + "/chunks", 1024);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->WriteChunks(std::span(metas).subspan(0, 20)).ok());
    ASSERT_TRUE((*w)->WriteChunks(std::span(metas).subspan(20)).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  EXPECT_EQ(metas[0].ref, NewBlockChunkRef(0, 8));
  auto r = ChunkReader::Open(dir.path() + "/chunks");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE((*r)->NumSegments(), 3u);
  EXPECT_TRUE(fs::exists(dir.path() + "/chunks/000001"));
  uint64_t total = 0;
  for (const auto& e : fs::directory_iterator(dir.path() + "/chunks")) {
    EXPECT_LE(fs::file_size(e.path()), 1024u);
    total += fs::file_size(e.path());
  }
  EXPECT_EQ((*r)->Size(), total);
  for (const ChunkMeta& m : metas) {
    auto c = (*r)->Chunk(m.ref);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ((*c)->Bytes(), m.chunk->Bytes());
    EXPECT_EQ((*c)->encoding(), chunkenc::Encoding::kXOR);
  }
}

// Iterators keep the segment mapped after the chunk, the reader and the file are gone.
TEST(BlockChunksTest, IteratorOutlivesReaderAndFile) {
  TempDir dir;
  std::vector<ChunkMeta> metas = {{0, 0, 0, MakeChunk(4, 100)}};
  {
    auto w = ChunkWriter::Open(dir.path());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->WriteChunks(metas).ok());
  }
  std::unique_ptr<chunkenc::Iterator> it;
  {
    auto r = ChunkReader::Open(dir.path());
    ASSERT_TRUE(r.ok());
    auto c = (*r)->Chunk(metas[0].ref);
    ASSERT_TRUE(c.ok());
    it = (*c)->NewIterator();
  }
  fs::remove_all(dir.path());
  int n = 0;
  while (it->Next() == chunkenc::ValueType::kFloat) {
    EXPECT_EQ(it->At(), std::make_pair(int64_t{n * 15000 + 4}, 2.0 + n));
    n++;
  }
  EXPECT_EQ(n, 100);
}

TEST(BlockChunksTest, CorruptionIsDetected) {
  TempDir dir;
  std::vector<ChunkMeta> metas = {{0, 0, 0, MakeChunk(1, 30)}, {0, 0, 0, MakeChunk(2, 30)}};
  {
    auto w = ChunkWriter::Open(dir.path());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->WriteChunks(metas).ok());
  }
  const std::string path = dir.path() + "/000001";
  std::string bytes = ReadFile(path);
  bytes[BlockChunkOffset(metas[1].ref) + 5] ^= 1;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  auto r = ChunkReader::Open(dir.path());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->Chunk(metas[0].ref).ok());
  EXPECT_TRUE((*r)->Chunk(metas[1].ref).status().Is(StatusCode::kCorruption));
  EXPECT_TRUE((*r)->Chunk(NewBlockChunkRef(0, 1 << 20)).status().Is(StatusCode::kCorruption));
  EXPECT_TRUE((*r)->Chunk(NewBlockChunkRef(3, 8)).status().Is(StatusCode::kCorruption));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "nonsense";
  EXPECT_TRUE(ChunkReader::Open(dir.path()).status().Is(StatusCode::kCorruption));
}

// promtool writes a block; our reader must read every chunk of it, and our writer, given the
// same chunks, must produce a byte-identical segment file.
TEST(BlockChunksTest, MatchesPromtoolSegmentBytes) {
  if (!fs::exists("/usr/bin/promtool")) GTEST_SKIP() << "promtool not installed";
  TempDir dir;
  {
    std::ofstream om(dir.path() + "/in.om");
    for (const char* name : {"a", "b", "c"}) {
      for (int i = 0; i < 400; i++) {
        om << name << "{i=\"" << i % 3 << "\"} " << i * 1.25 << " " << 1700006400 + i * 15 << "\n";
      }
    }
    om << "# EOF\n";
  }
  const std::string cmd = "/usr/bin/promtool tsdb create-blocks-from openmetrics " + dir.path() +
                          "/in.om " + dir.path() + "/out >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::string block;
  for (const auto& e : fs::directory_iterator(dir.path() + "/out")) block = e.path();
  const std::string original = ReadFile(block + "/chunks/000001");

  auto r = ChunkReader::Open(block + "/chunks");
  ASSERT_TRUE(r.ok());
  std::vector<ChunkMeta> metas;
  size_t off = 8;
  int samples = 0;
  while (off < original.size()) {
    auto c = (*r)->Chunk(NewBlockChunkRef(0, off));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    samples += (*c)->NumSamples();
    const size_t len = (*c)->Bytes().size();
    std::string lenbuf;
    PutUvarint(&lenbuf, len);
    off += lenbuf.size() + 1 + len + 4;
    metas.push_back({0, 0, 0, std::move(*c)});
  }
  EXPECT_EQ(off, original.size());
  EXPECT_EQ(samples, 1200);
  auto w = ChunkWriter::Open(dir.path() + "/mine");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->WriteChunks(metas).ok());
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(ReadFile(dir.path() + "/mine/000001"), original);
}

}  // namespace
}  // namespace kiln::tsdb::chunks
