#include "pkg/tsdb/block/tombstones.h"

#include <algorithm>

#include "pkg/tsdb/block/file_io.h"
#include "pkg/util/coding.h"
#include "pkg/util/crc32c.h"

namespace kiln::tsdb::block {
namespace {

constexpr uint8_t kTombstonesVersion1 = 1;
constexpr size_t kHeaderSize = 5;  // magic + version

}  // namespace

void AddInterval(Intervals* ivs, Interval iv) {
  Intervals out;
  out.reserve(ivs->size() + 1);
  bool placed = false;
  for (const Interval& cur : *ivs) {
    // Disjoint and not adjacent: keep as is (the new interval goes before `cur` if earlier).
    if (cur.maxt < iv.mint && cur.maxt + 1 < iv.mint) {
      out.push_back(cur);
    } else if (iv.maxt < cur.mint && iv.maxt + 1 < cur.mint) {
      if (!placed) out.push_back(iv), placed = true;
      out.push_back(cur);
    } else {
      iv.mint = std::min(iv.mint, cur.mint);
      iv.maxt = std::max(iv.maxt, cur.maxt);
    }
  }
  if (!placed) out.push_back(iv);
  *ivs = std::move(out);
}

bool IsDeleted(const Intervals& ivs, int64_t t) {
  auto it = std::lower_bound(ivs.begin(), ivs.end(), t,
                             [](const Interval& iv, int64_t x) { return iv.maxt < x; });
  return it != ivs.end() && it->Contains(t);
}

const Intervals* Tombstones::Get(uint64_t ref) const {
  auto it = stones_.find(ref);
  return it == stones_.end() ? nullptr : &it->second;
}

uint64_t Tombstones::NumIntervals() const {
  uint64_t n = 0;
  for (const auto& [ref, ivs] : stones_) n += ivs.size();
  return n;
}

std::string Tombstones::Encode() const {
  std::string out;
  PutBE32(&out, kTombstonesMagic);
  out.push_back(static_cast<char>(kTombstonesVersion1));
  for (const auto& [ref, ivs] : stones_) {
    for (const Interval& iv : ivs) {
      PutUvarint(&out, ref);
      PutVarint(&out, iv.mint);
      PutVarint(&out, iv.maxt);
    }
  }
  PutBE32(&out, Crc32c(std::string_view(out).substr(kHeaderSize)));
  return out;
}

Result<Tombstones> Tombstones::Decode(std::string_view file) {
  if (file.size() < kHeaderSize + 4) return Status::Corruption("tombstones: file too short");
  if (DecodeBE32(file.data()) != kTombstonesMagic) {
    return Status::Corruption("tombstones: invalid magic number");
  }
  if (static_cast<uint8_t>(file[4]) != kTombstonesVersion1) {
    return Status::Corruption("tombstones: invalid format version");
  }
  const std::string_view body = file.substr(kHeaderSize, file.size() - kHeaderSize - 4);
  if (Crc32c(body) != DecodeBE32(file.data() + file.size() - 4)) {
    return Status::Corruption("tombstones: checksum mismatch");
  }
  Tombstones t;
  Decoder d(body);
  while (d.remaining() > 0 && !d.err()) {
    const uint64_t ref = d.Uvarint();
    const int64_t mint = d.Varint();
    const int64_t maxt = d.Varint();
    if (!d.err()) t.Add(ref, {mint, maxt});
  }
  if (d.err()) return Status::Corruption("tombstones: truncated entry");
  return t;
}

Result<Tombstones> Tombstones::ReadDir(const std::string& dir) {
  auto data = ReadWholeFile(dir + "/" + kTombstonesFilename);
  if (!data.ok()) {
    if (data.status().code() == StatusCode::kNotFound) return Tombstones();
    return data.status();
  }
  auto t = Decode(data.value());
  if (!t.ok()) return t.status().Wrap("read tombstones of " + dir);
  return t;
}

Status Tombstones::WriteDir(const std::string& dir) const {
  return WriteFileAtomic(dir + "/" + kTombstonesFilename, Encode());
}

}  // namespace kiln::tsdb::block
