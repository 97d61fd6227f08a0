#include "pkg/tsdb/wlog/reader.h"

#include <gtest/gtest.h>

#include <functional>

#include "pkg/tsdb/wlog/test_util.h"
#include "pkg/tsdb/wlog/wlog.h"
#include "pkg/util/crc32c.h"

namespace kiln::tsdb::wlog {
namespace {

using testing::MakeRecord;
using testing::ReadAll;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

constexpr int64_t kSegmentSize = 4 * kPageSize;

Options SmallSegments(bool compress) {
  Options o;
  o.segment_size = kSegmentSize;
  o.compress = compress;
  return o;
}

// Sizes mixing many small records per page with records spanning several pages.
std::vector<std::string> WriteWal(const std::string& dir, bool compress) {
  std::vector<std::string> recs;
  auto wl = WL::Open(dir, SmallSegments(compress), Logger(LogLevel::kError));
  EXPECT_TRUE(wl.ok());
  for (int i = 0; i < 90; i++) {
    const size_t n = i % 10 == 9 ? 40000 : 300 + (i * 911) % 4000;
    recs.push_back(MakeRecord(n, i, false));
    EXPECT_TRUE((*wl)->Log(recs.back()).ok());
  }
  // A last segment with a multi-page record between two small ones.
  EXPECT_TRUE((*wl)->NextSegment().ok());
  for (size_t n : {300, 40000, 500}) {
    recs.push_back(MakeRecord(n, recs.size(), false));
    EXPECT_TRUE((*wl)->Log(recs.back()).ok());
  }
  EXPECT_TRUE((*wl)->Close().ok());
  return recs;
}

// One way to damage a WAL. `seg` is the damaged segment's bytes; `start`/`end` bound the
// damaged record (its first fragment header .. its end); returns nothing, edits in place.
struct Damage {
  const char* name;
  bool last_segment;  // damage the last segment (else one in the middle)
  std::function<void(std::string* seg, int64_t start, int64_t end)> apply;
  bool expect_error;  // false: the damage reads as a clean, earlier end of the log
};

void PrintTo(const Damage& d, std::ostream* os) { *os << d.name; }

std::vector<Damage> Damages() {
  return {
      {"flipped_crc_bit", false,
       [](std::string* s, int64_t start, int64_t) { (*s)[start + 3] ^= 0x10; }, true},
      {"flipped_data_bit", false, [](std::string* s, int64_t, int64_t end) { (*s)[end - 1] ^= 1; },
       true},
      {"torn_page", true,
       [](std::string* s, int64_t, int64_t end) {
         const int64_t page_end = (end - 5) / kPageSize * kPageSize + kPageSize;
         std::fill(s->begin() + (end - 5), s->begin() + page_end, '\0');
       },
       true},
      {"truncated_record", true, [](std::string* s, int64_t, int64_t end) { s->resize(end - 3); },
       true},
      {"truncated_header", true,
       [](std::string* s, int64_t start, int64_t) { s->resize(start + 4); }, true},
      {"truncated_segment_mid_record", true,
       [](std::string* s, int64_t start, int64_t) {
         s->resize((start / kPageSize + 1) * kPageSize);
       },
       true},
      {"truncated_segment_middle", false,
       [](std::string* s, int64_t start, int64_t) {
         s->resize((start / kPageSize + 1) * kPageSize);
       },
       true},
      {"zero_tail_mid_fragment", true,
       [](std::string* s, int64_t, int64_t end) {
         std::fill(s->begin() + (end - 10), s->end(), '\0');
       },
       true},
      {"zero_tail_at_record", true,
       [](std::string* s, int64_t start, int64_t) {
         std::fill(s->begin() + start, s->end(), '\0');
       },
       false},
      {"garbage_in_padding", true,
       [](std::string* s, int64_t, int64_t) { (*s)[s->size() - 1] = 'x'; }, true},
  };
}

class DamageTest : public ::testing::TestWithParam<std::tuple<Damage, bool>> {};

// Damages one record, checks where the Reader stops, repairs, and checks that exactly the
// records before the damaged one survive and the WAL takes new records afterwards.
TEST_P(DamageTest, ReportRepairAppend) {
  const auto& [damage, compress] = GetParam();
  TempDir dir;
  const std::vector<std::string> recs = WriteWal(dir.path(), compress);
  auto clean = ReadAll(dir.path());
  ASSERT_TRUE(clean.status.ok()) << clean.status.ToString();
  ASSERT_EQ(clean.records, recs);
  const int last_seg = clean.positions.back().segment;
  ASSERT_GE(last_seg, 2);
  const int seg = damage.last_segment ? last_seg : 1;
  // The damaged record: the last multi-page record of the segment that is not its first
  // record (random bytes do not compress, so the layout is the same with snappy on).
  size_t k = 0;
  for (size_t i = 1; i < recs.size(); i++) {
    if (clean.positions[i].segment == seg && clean.positions[i - 1].segment == seg &&
        recs[i].size() >= 40000) {
      k = i;
    }
  }
  ASSERT_GT(k, 0u);
  int64_t start = clean.positions[k - 1].end;
  if (kPageSize - start % kPageSize < kRecordHeaderSize)
    start = (start / kPageSize + 1) * kPageSize;
  const int64_t end = clean.positions[k].end;

  std::string bytes = ReadFile(SegmentName(dir.path(), seg));
  if (std::string(damage.name) == "garbage_in_padding") {
    k = recs.size();
    for (size_t i = 0; i < recs.size(); i++) {
      if (clean.positions[i].segment > seg) k = std::min(k, i);
    }
    ASSERT_EQ(bytes.back(), 0) << "the segment should end in padding";
  }
  damage.apply(&bytes, start, end);
  WriteFile(SegmentName(dir.path(), seg), bytes);

  auto damaged = ReadAll(dir.path());
  if (!damage.expect_error) {
    EXPECT_TRUE(damaged.status.ok()) << damaged.status.ToString();
    EXPECT_EQ(damaged.records, std::vector<std::string>(recs.begin(), recs.begin() + k));
    return;
  }
  ASSERT_TRUE(damaged.status.Is(StatusCode::kCorruption)) << damaged.status.ToString();
  EXPECT_EQ(damaged.corruption.segment, seg);
  EXPECT_EQ(damaged.corruption.dir, dir.path());
  EXPECT_GT(damaged.corruption.offset, clean.positions[k - 1].end);
  ASSERT_GE(damaged.records.size(), k);
  EXPECT_EQ(std::vector<std::string>(damaged.records.begin(), damaged.records.begin() + k),
            std::vector<std::string>(recs.begin(), recs.begin() + k));

  auto wl = WL::Open(dir.path(), SmallSegments(compress), Logger(LogLevel::kError));
  ASSERT_TRUE(wl.ok());
  ASSERT_TRUE((*wl)->Repair(damaged.corruption).ok());
  EXPECT_EQ((*wl)->current_segment(), seg + 1);
  ASSERT_TRUE((*wl)->Log("after repair").ok());
  ASSERT_TRUE((*wl)->Close().ok());
  auto repaired = ReadAll(dir.path());
  ASSERT_TRUE(repaired.status.ok()) << repaired.status.ToString();
  std::vector<std::string> want(recs.begin(), recs.begin() + k);
  want.push_back("after repair");
  EXPECT_EQ(repaired.records.size(), want.size());
  EXPECT_TRUE(repaired.records == want);
}

INSTANTIATE_TEST_SUITE_P(Faults, DamageTest,
                         ::testing::Combine(::testing::ValuesIn(Damages()), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) +
                                  (std::get<1>(info.param) ? "_snappy" : "_raw");
                         });

TEST(ReaderTest, RepairRefusesNonCorruption) {
  TempDir dir;
  auto wl = WL::Open(dir.path(), SmallSegments(true), Logger(LogLevel::kError));
  ASSERT_TRUE(wl.ok());
  ASSERT_TRUE((*wl)->Log("kept").ok());
  CorruptionError err{dir.path(), 0, 10, Status::Unavailable("zstd")};
  EXPECT_TRUE((*wl)->Repair(err).Is(StatusCode::kBadData));
  ASSERT_TRUE((*wl)->Close().ok());
  EXPECT_EQ(ReadAll(dir.path()).records, std::vector<std::string>{"kept"});
}

TEST(ReaderTest, RangesSelectSegments) {
  TempDir dir;
  auto wl = WL::Open(dir.path(), SmallSegments(true), Logger(LogLevel::kError));
  ASSERT_TRUE(wl.ok());
  for (int i = 0; i < 5; i++) {
    ASSERT_TRUE((*wl)->Log("seg" + std::to_string(i)).ok());
    ASSERT_TRUE((*wl)->NextSegment().ok());
  }
  ASSERT_TRUE((*wl)->Close().ok());
  auto r = Reader::Open({{dir.path(), 1, 2}, {dir.path(), 4, -1}});
  ASSERT_TRUE(r.ok());
  std::vector<std::string> got;
  std::vector<int> segs;
  while ((*r)->Next()) {
    got.emplace_back((*r)->Record());
    segs.push_back((*r)->Segment());
  }
  EXPECT_TRUE((*r)->err().ok());
  EXPECT_EQ(got, (std::vector<std::string>{"seg1", "seg2", "seg4"}));
  EXPECT_EQ(segs, (std::vector<int>{1, 2, 4}));
}

TEST(ReaderTest, FragmentSequenceErrors) {
  struct Case {
    const char* name;
    std::vector<uint8_t> types;
    const char* error;  // nullptr: valid
  } cases[] = {
      {"full", {1}, nullptr},
      {"first_last", {2, 4}, nullptr},
      {"first_middle_last", {2, 3, 3, 4}, nullptr},
      {"middle_first", {3}, "unexpected middle record"},
      {"last_first", {4}, "unexpected last record"},
      {"first_full", {2, 1}, "unexpected full record"},
      {"first_first", {2, 2}, "unexpected first record"},
      {"torn", {2, 3}, "last record is torn"},
      {"bad_type", {6}, "invalid fragment type"},
      {"zstd", {1 | 16}, "zstd-compressed WAL records are not supported"},
  };
  for (const auto& c : cases) {
    std::string seg;
    for (uint8_t t : c.types) {
      seg.push_back(static_cast<char>(t));
      seg += std::string("\x00\x01", 2);
      const uint32_t crc = Crc32c("a");
      for (int s = 24; s >= 0; s -= 8) seg.push_back(static_cast<char>(crc >> s));
      seg.push_back('a');
    }
    TempDir dir;
    WriteFile(dir.path() + "/00000000", seg);
    auto got = ReadAll(dir.path());
    if (c.error == nullptr) {
      EXPECT_TRUE(got.status.ok()) << c.name << ": " << got.status.ToString();
      EXPECT_EQ(got.records, std::vector<std::string>{std::string(c.types.size(), 'a')});
    } else {
      EXPECT_NE(got.status.message().find(c.error), std::string::npos)
          << c.name << ": " << got.status.ToString();
      EXPECT_EQ(got.status.code(), std::string_view(c.name) == "zstd" ? StatusCode::kUnavailable
                                                                      : StatusCode::kCorruption);
    }
  }
}

}  // namespace
}  // namespace kiln::tsdb::wlog
