// libFuzzer target for the XOR chunk (built with -DKILN_FUZZ=ON and clang).
//
// The first input byte picks a mode:
//  - even: the rest is chunk bytes. Decoding, seeking and appending must never crash or
//    read out of bounds, and never yield more samples than the header announces.
//  - odd: the rest is a sample stream (8 bytes timestamp, 8 bytes value bits per sample).
//    Encoding it must round-trip exactly, also through a chunk resumed half-way.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/tsdb/chunkenc/xor.h"
#include "pkg/util/coding.h"

namespace {

using kiln::chunkenc::Encoding;
using kiln::chunkenc::ValueType;

struct Sample {
  int64_t t;
  uint64_t vbits;
};

void Check(bool ok) {
  if (!ok) std::abort();
}

void FuzzDecode(std::string_view data) {
  auto chunk = kiln::chunkenc::FromData(Encoding::kXOR, data);
  if (!chunk.ok()) return;
  size_t n = 0;
  auto it = (*chunk)->NewIterator();
  while (it->Next() == ValueType::kFloat) n++;
  Check(n <= static_cast<size_t>((*chunk)->NumSamples()));
  Check(n == static_cast<size_t>((*chunk)->NumSamples()) || !it->err().ok());
  it = (*chunk)->NewIterator(std::move(it));
  it->Seek(data.size() > 2 ? static_cast<int64_t>(data[2]) * 1000 : 0);
  auto app = (*chunk)->NewAppender();
  if (app.ok() && (*chunk)->NumSamples() < 65535) (*app)->Append(INT64_MAX, 1);
}

std::vector<Sample> Decode(const kiln::chunkenc::Chunk& chunk) {
  std::vector<Sample> out;
  auto it = chunk.NewIterator();
  while (it->Next() == ValueType::kFloat) {
    const auto [t, v] = it->At();
    out.push_back({t, kiln::DoubleBits(v)});
  }
  Check(it->err().ok());
  return out;
}

void FuzzRoundTrip(std::string_view data) {
  std::vector<Sample> samples;
  for (size_t i = 0; i + 16 <= data.size() && samples.size() < 2000; i += 16) {
    samples.push_back({static_cast<int64_t>(kiln::DecodeBE64(data.data() + i)),
                       kiln::DecodeBE64(data.data() + i + 8)});
  }
  kiln::chunkenc::XorChunk chunk;
  auto app = chunk.NewAppender();
  Check(app.ok());
  for (const Sample& s : samples) (*app)->Append(s.t, kiln::DoubleFromBits(s.vbits));
  const auto got = Decode(chunk);
  Check(got.size() == samples.size());
  for (size_t i = 0; i < got.size(); i++) {
    Check(got[i].t == samples[i].t && got[i].vbits == samples[i].vbits);
  }
  // Resume half-way from a copy of the bytes.
  const size_t split = samples.size() / 2;
  kiln::chunkenc::XorChunk head;
  auto head_app = head.NewAppender();
  Check(head_app.ok());
  for (size_t i = 0; i < split; i++) {
    (*head_app)->Append(samples[i].t, kiln::DoubleFromBits(samples[i].vbits));
  }
  auto resumed = kiln::chunkenc::FromOwnedData(Encoding::kXOR, std::string(head.Bytes()));
  Check(resumed.ok());
  auto resumed_app = (*resumed)->NewAppender();
  Check(resumed_app.ok());
  for (size_t i = split; i < samples.size(); i++) {
    (*resumed_app)->Append(samples[i].t, kiln::DoubleFromBits(samples[i].vbits));
  }
  const auto resumed_got = Decode(**resumed);
  Check(resumed_got.size() == samples.size());
  for (size_t i = 0; i < resumed_got.size(); i++) {
    Check(resumed_got[i].t == samples[i].t && resumed_got[i].vbits == samples[i].vbits);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    // An exactly sized copy, so that ASan sees any read past the chunk's end.
    std::vector<char> copy(rest.begin(), rest.end());
    FuzzDecode(std::string_view(copy.data(), copy.size()));
  } else {
    FuzzRoundTrip(rest);
  }
  return 0;
}
