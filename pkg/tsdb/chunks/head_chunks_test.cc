#include "pkg/tsdb/chunks/head_chunks.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "pkg/tsdb/chunkenc/xor.h"
#include "pkg/util/coding.h"
#include "pkg/util/crc32c.h"

namespace kiln::tsdb::chunks {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kiln_head_chunks_XXXXXX";
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

// A chunk of `n` samples at 1s steps from `t0`, value = series * 1000 + i.
std::unique_ptr<chunkenc::XorChunk> MakeChunk(uint64_t series, int64_t t0, int n) {
  auto c = std::make_unique<chunkenc::XorChunk>();
  auto app = c->NewAppender();
  for (int i = 0; i < n; i++) (*app)->Append(t0 + i * 1000, series * 1000.0 + i);
  return c;
}

struct Written {
  uint64_t series;
  int64_t mint, maxt;
  int n;
  ChunkDiskMapperRef ref;
};

void ExpectChunk(ChunkDiskMapper& m, const Written& w) {
  auto c = m.Chunk(w.ref);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ((*c)->NumSamples(), w.n);
  EXPECT_EQ((*c)->Bytes(), MakeChunk(w.series, w.mint, w.n)->Bytes());
}

// Writes 3 series x 4 chunks, cutting a new file after each round of series.
std::vector<Written> WriteSome(ChunkDiskMapper& m) {
  std::vector<Written> out;
  for (int round = 0; round < 4; round++) {
    for (uint64_t s = 1; s <= 3; s++) {
      const int64_t mint = round * 1000000;
      const int n = 10 + static_cast<int>(s) * round;
      auto ref = m.WriteChunk(s, mint, mint + (n - 1) * 1000, *MakeChunk(s, mint, n));
      EXPECT_TRUE(ref.ok());
      out.push_back({s, mint, mint + (n - 1) * 1000, n, *ref});
    }
    if (round < 3) {
      EXPECT_TRUE(m.CutNewFile().ok());
    }
  }
  return out;
}

TEST(ChunkDiskMapperTest, WriteReadBeforeAndAfterFlushAndReopen) {
  TempDir dir;
  std::vector<Written> written;
  {
    auto m = ChunkDiskMapper::Open(dir.path());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    written = WriteSome(**m);
    EXPECT_EQ((*m)->FileSequences(), (std::vector<uint64_t>{1, 2, 3, 4}));
    for (const auto& w : written) ExpectChunk(**m, w);  // last file still buffered
    ASSERT_TRUE((*m)->Flush().ok());
    for (const auto& w : written) ExpectChunk(**m, w);
    EXPECT_EQ(written[0].ref, NewChunkDiskMapperRef(1, 8));
    EXPECT_EQ(written[3].ref, NewChunkDiskMapperRef(2, 8));
    ASSERT_TRUE((*m)->Close().ok());
  }
  auto m = ChunkDiskMapper::Open(dir.path());
  ASSERT_TRUE(m.ok());
  std::vector<HeadChunkInfo> seen;
  auto repair = (*m)->IterateAllChunks([&](const HeadChunkInfo& i) {
    seen.push_back(i);
    return Status::OK();
  });
  ASSERT_TRUE(repair.ok());
  EXPECT_EQ(repair->files_removed, 0u);
  EXPECT_EQ(repair->bytes_dropped, 0u);
  ASSERT_EQ(seen.size(), written.size());
  for (size_t i = 0; i < seen.size(); i++) {
    EXPECT_EQ(seen[i].series_ref, written[i].series);
    EXPECT_EQ(seen[i].ref, written[i].ref);
    EXPECT_EQ(seen[i].min_time, written[i].mint);
    EXPECT_EQ(seen[i].max_time, written[i].maxt);
    EXPECT_EQ(seen[i].num_samples, written[i].n);
    EXPECT_EQ(seen[i].encoding, chunkenc::Encoding::kXOR);
    ExpectChunk(**m, written[i]);
  }
  // New writes go to a new file after the existing ones.
  auto ref = (*m)->WriteChunk(9, 0, 1000, *MakeChunk(9, 0, 2));
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(*ref >> 32, 5u);
}

TEST(ChunkDiskMapperTest, ByteLayoutMatchesUpstreamFormat) {
  TempDir dir;
  auto chunk = MakeChunk(7, -5000, 3);
  {
    auto m = ChunkDiskMapper::Open(dir.path());
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE((*m)->WriteChunk(0x0102030405060708, -5000, -3000, *chunk).ok());
  }
  std::string want;
  PutBE32(&want, 0x0130BC91);
  want.append("\x01\x00\x00\x00", 4);
  const size_t rec = want.size();
  PutBE64(&want, 0x0102030405060708);
  PutBE64(&want, static_cast<uint64_t>(int64_t{-5000}));
  PutBE64(&want, static_cast<uint64_t>(int64_t{-3000}));
  want.push_back(1);
  PutUvarint(&want, chunk->Bytes().size());
  want.append(chunk->Bytes());
  PutBE32(&want, Crc32c(want.data() + rec, want.size() - rec));
  EXPECT_EQ(ReadFile(dir.path() + "/000001"), want);
}

TEST(ChunkDiskMapperTest, OutOfOrderFlag) {
  TempDir dir;
  std::vector<ChunkDiskMapperRef> refs;
  {
    auto m = ChunkDiskMapper::Open(dir.path());
    ASSERT_TRUE(m.ok());
    for (bool ooo : {false, true}) {
      auto ref = (*m)->WriteChunk(3, 0, 4000, *MakeChunk(3, 0, 5), ooo);
      ASSERT_TRUE(ref.ok());
      refs.push_back(*ref);
    }
  }
  const std::string bytes = ReadFile(dir.path() + "/000001");
  EXPECT_EQ(static_cast<uint8_t>(bytes[(refs[0] & 0xffffffff) + 24]), 0x01);
  EXPECT_EQ(static_cast<uint8_t>(bytes[(refs[1] & 0xffffffff) + 24]), 0x81);
  auto m = ChunkDiskMapper::Open(dir.path());
  ASSERT_TRUE(m.ok());
  std::vector<bool> flags;
  ASSERT_TRUE((*m)->IterateAllChunks([&](const HeadChunkInfo& i) {
                    EXPECT_EQ(i.encoding, chunkenc::Encoding::kXOR);
                    flags.push_back(i.out_of_order);
                    return Status::OK();
                  })
                  .ok());
  EXPECT_EQ(flags, (std::vector<bool>{false, true}));
  for (auto ref : refs) ExpectChunk(**m, {3, 0, 4000, 5, ref});
}

TEST(ChunkDiskMapperTest, TornTailIsTruncatedAtLastGoodChunk) {
  TempDir dir;
  std::vector<Written> written;
  {
    auto m = ChunkDiskMapper::Open(dir.path());
    ASSERT_TRUE(m.ok());
    written = WriteSome(**m);
  }
  const std::string last = dir.path() + "/000004";
  const auto full = fs::file_size(last);
  fs::resize_file(last, full - 3);  // tear the final chunk's CRC
  auto m = ChunkDiskMapper::Open(dir.path());
  ASSERT_TRUE(m.ok());
  int n = 0;
  auto repair = (*m)->IterateAllChunks([&](const HeadChunkInfo&) {
    n++;
    return Status::OK();
  });
  ASSERT_TRUE(repair.ok());
  EXPECT_EQ(n, static_cast<int>(written.size()) - 1);
  EXPECT_EQ(repair->files_removed, 0u);
  EXPECT_EQ(fs::file_size(last), written.back().ref & 0xffffffff);
  EXPECT_EQ(repair->bytes_dropped, full - 3 - (written.back().ref & 0xffffffff));
  ExpectChunk(**m, written[written.size() - 2]);
}

TEST(ChunkDiskMapperTest, CorruptChunkDropsItAndEverythingAfter) {
  TempDir dir;
  std::vector<Written> written;
  {
    auto m = ChunkDiskMapper::Open(dir.path());
    ASSERT_TRUE(m.ok());
    written = WriteSome(**m);
  }
  // Flip a data byte of the second chunk of file 2 (written[4]).
  const std::string f2 = dir.path() + "/000002";
  std::string bytes = ReadFile(f2);
  bytes[(written[4].ref & 0xffffffff) + 30] ^= 0x40;
  std::ofstream(f2, std::ios::binary | std::ios::trunc) << bytes;

  auto m = ChunkDiskMapper::Open(dir.path());
  ASSERT_TRUE(m.ok());
  std::vector<uint64_t> refs;
  auto repair = (*m)->IterateAllChunks([&](const HeadChunkInfo& i) {
    refs.push_back(i.ref);
    return Status::OK();
  });
  ASSERT_TRUE(repair.ok());
  ASSERT_EQ(refs.size(), 4u);  // file 1 (3 chunks) and the first chunk of file 2
  EXPECT_EQ(repair->files_removed, 2u);
  EXPECT_EQ((*m)->FileSequences(), (std::vector<uint64_t>{1, 2}));
  EXPECT_FALSE(fs::exists(dir.path() + "/000003"));
  EXPECT_TRUE((*m)->Chunk(written[4].ref).status().Is(StatusCode::kNotFound));
}

// Random damage anywhere in the files: opening either fails cleanly (a bad header) or the
// replay repairs, and every chunk it still reports reads back intact.
TEST(ChunkDiskMapperTest, RandomDamageIsRepairedOrRejected) {
  std::mt19937_64 rng(9);
  for (int round = 0; round < 20; round++) {
    TempDir dir;
    std::vector<Written> written;
    {
      auto m = ChunkDiskMapper::Open(dir.path());
      ASSERT_TRUE(m.ok());
      written = WriteSome(**m);
    }
    const std::string victim = SegmentPath(dir.path(), 1 + rng() % 4);
    std::string bytes = ReadFile(victim);
    if (rng() % 2) {
      bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
    } else {
      bytes.resize(rng() % bytes.size());
    }
    std::ofstream(victim, std::ios::binary | std::ios::trunc) << bytes;
    auto m = ChunkDiskMapper::Open(dir.path());
    if (!m.ok()) continue;
    std::vector<HeadChunkInfo> seen;
    auto repair = (*m)->IterateAllChunks([&](const HeadChunkInfo& i) {
      seen.push_back(i);
      return Status::OK();
    });
    ASSERT_TRUE(repair.ok()) << repair.status().ToString();
    // Every reported chunk is one we wrote, in order, and reads back intact. (A file cut
    // exactly at a record boundary looks complete, so later files may still be replayed.)
    size_t w = 0;
    for (const HeadChunkInfo& info : seen) {
      while (w < written.size() && written[w].ref != info.ref) w++;
      ASSERT_LT(w, written.size()) << "round " << round << ": unknown ref " << info.ref;
      EXPECT_EQ(info.series_ref, written[w].series);
      ExpectChunk(**m, written[w]);
    }
  }
}

TEST(ChunkDiskMapperTest, ReadChecksCrc) {
  TempDir dir;
  auto m = ChunkDiskMapper::Open(dir.path());
  ASSERT_TRUE(m.ok());
  auto ref = (*m)->WriteChunk(1, 0, 9000, *MakeChunk(1, 0, 10));
  ASSERT_TRUE(ref.ok());
  ASSERT_TRUE((*m)->Sync().ok());
  // Corrupt the file behind the mapping: the read must notice.
  std::fstream f(dir.path() + "/000001", std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>((*ref & 0xffffffff) + 28));
  f.put('\x55');
  f.close();
  EXPECT_TRUE((*m)->Chunk(*ref).status().Is(StatusCode::kCorruption));
  EXPECT_FALSE((*m)->Chunk(NewChunkDiskMapperRef(1, 1 << 20)).ok());
  EXPECT_FALSE((*m)->Chunk(NewChunkDiskMapperRef(42, 8)).ok());
}

TEST(ChunkDiskMapperTest, TruncateRemovesOldFilesAndMappedChunksSurvive) {
  TempDir dir;
  std::vector<Written> written;
  {
    auto m = ChunkDiskMapper::Open(dir.path());
    ASSERT_TRUE(m.ok());
    written = WriteSome(**m);
  }
  auto m = ChunkDiskMapper::Open(dir.path());
  ASSERT_TRUE(m.ok());
  // Unknown time ranges before replay: nothing may go.
  ASSERT_TRUE((*m)->Truncate(INT64_MAX).ok());
  EXPECT_EQ((*m)->FileSequences().size(), 4u);
  ASSERT_TRUE((*m)->IterateAllChunks([](const HeadChunkInfo&) { return Status::OK(); }).ok());
  auto held = (*m)->Chunk(written[0].ref);
  ASSERT_TRUE(held.ok());
  // Files 1 and 2 end before 2000000 (round 1 ends at 1000000 + 15s).
  ASSERT_TRUE((*m)->Truncate(2000000).ok());
  EXPECT_EQ((*m)->FileSequences(), (std::vector<uint64_t>{3, 4}));
  EXPECT_FALSE(fs::exists(dir.path() + "/000001"));
  EXPECT_EQ((*held)->Bytes(), MakeChunk(1, 0, 10)->Bytes());

  // The file being written is finished by Truncate and removed by the next one.
  auto ref = (*m)->WriteChunk(5, 5000000, 5001000, *MakeChunk(5, 5000000, 2));
  ASSERT_TRUE(ref.ok());
  ASSERT_TRUE((*m)->Truncate(0).ok());
  EXPECT_EQ((*m)->FileSequences(), (std::vector<uint64_t>{3, 4, 5}));
  ASSERT_TRUE((*m)->Truncate(6000000).ok());
  EXPECT_TRUE((*m)->FileSequences().empty());
  EXPECT_TRUE((*m)->Chunk(*ref).status().Is(StatusCode::kNotFound));
}

// Writers, readers and flushes racing on one mapper: every ref handed out reads back intact.
TEST(ChunkDiskMapperTest, ConcurrentWritesAndReads) {
  TempDir dir;
  auto opened = ChunkDiskMapper::Open(dir.path(), 64 * 1024);
  ASSERT_TRUE(opened.ok());
  ChunkDiskMapper& m = **opened;
  std::mutex mu;
  std::vector<Written> written;
  std::atomic<bool> done{false};
  auto writer = [&](uint64_t series) {
    for (int i = 0; i < 400; i++) {
      const int n = 1 + i % 120;
      auto ref = m.WriteChunk(series, i * 1000000, i * 1000000 + (n - 1) * 1000,
                              *MakeChunk(series, i * 1000000, n));
      ASSERT_TRUE(ref.ok());
      std::lock_guard lock(mu);
      written.push_back({series, i * 1000000, 0, n, *ref});
      if (i % 50 == 0) {
        ASSERT_TRUE(m.Flush().ok());
      }
      if (i == 200 && series == 1) {
        ASSERT_TRUE(m.CutNewFile().ok());
      }
    }
  };
  auto reader = [&] {
    std::mt19937 rng(1);
    while (!done) {
      Written w;
      {
        std::lock_guard lock(mu);
        if (written.empty()) continue;
        w = written[rng() % written.size()];
      }
      ExpectChunk(m, w);
    }
  };
  std::thread r1(reader), r2(reader);
  std::thread w1(writer, 1), w2(writer, 2);
  w1.join();
  w2.join();
  done = true;
  r1.join();
  r2.join();
  ASSERT_TRUE(m.Close().ok());
  auto reopened = ChunkDiskMapper::Open(dir.path());
  ASSERT_TRUE(reopened.ok());
  size_t n = 0;
  ASSERT_TRUE((*reopened)
                  ->IterateAllChunks([&](const HeadChunkInfo&) {
                    n++;
                    return Status::OK();
                  })
                  .ok());
  EXPECT_EQ(n, written.size());
  for (const Written& w : written) ExpectChunk(**reopened, w);
}

TEST(ChunkDiskMapperTest, EmptyLastFileIsRemovedAndBadMagicRejected) {
  TempDir dir;
  {
    auto m = ChunkDiskMapper::Open(dir.path());
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE((*m)->WriteChunk(1, 0, 0, *MakeChunk(1, 0, 1)).ok());
  }
  std::ofstream(dir.path() + "/000002").close();
  {
    auto m = ChunkDiskMapper::Open(dir.path());
    ASSERT_TRUE(m.ok());
    EXPECT_EQ((*m)->FileSequences(), (std::vector<uint64_t>{1}));
  }
  std::ofstream(dir.path() + "/000002") << "garbage!";
  EXPECT_TRUE(ChunkDiskMapper::Open(dir.path()).status().Is(StatusCode::kCorruption));
}

}  // namespace
}  // namespace kiln::tsdb::chunks
