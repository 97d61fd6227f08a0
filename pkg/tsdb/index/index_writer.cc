#include "pkg/tsdb/index/index_writer.h"

#include <algorithm>

#include "pkg/util/coding.h"
#include "pkg/util/crc32c.h"

namespace kiln::tsdb::index {

namespace {
constexpr size_t kFlushThreshold = 1 << 20;
constexpr size_t kSeriesAlignment = 16;
constexpr size_t kListAlignment = 4;
}  // namespace

Result<std::unique_ptr<IndexWriter>> IndexWriter::Open(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(chunks::UniqueFd fd, chunks::CreateFile(path));
  std::unique_ptr<IndexWriter> w(new IndexWriter(path, std::move(fd)));
  PutBE32(&w->buf_, kIndexMagic);
  w->buf_.push_back(static_cast<char>(kIndexFormatV2));
  w->toc_.symbols = w->Pos();
  return w;
}

IndexWriter::~IndexWriter() = default;

Status IndexWriter::AddSymbol(std::string_view symbol) {
  if (symbols_done_ || closed_) return Status::Internal("index: symbol added after series");
  if (!symbols_.empty() && symbol <= symbols_.back()) {
    return Status::BadData("index: symbols out of order at \"" + std::string(symbol) + "\"");
  }
  symbols_.emplace_back(symbol);
  return Status::OK();
}

Status IndexWriter::FinishSymbols() {
  std::string body;
  PutBE32(&body, static_cast<uint32_t>(symbols_.size()));
  for (const std::string& s : symbols_) PutUvarintBytes(&body, s);
  PutSection(body);
  symbols_done_ = true;
  toc_.series = Pos();
  return FlushIfLarge();
}

Result<uint32_t> IndexWriter::SymbolRef(std::string_view s) const {
  auto it = std::lower_bound(symbols_.begin(), symbols_.end(), s);
  if (it == symbols_.end() || *it != s) {
    return Status::BadData("index: \"" + std::string(s) + "\" is not a symbol");
  }
  return static_cast<uint32_t>(it - symbols_.begin());
}

namespace {

// Chunk metas: the first mint as varint, then deltas (upstream index.md, "Series").
void PutChunkMetas(std::string* body, std::span<const chunks::ChunkMeta> metas) {
  PutUvarint(body, metas.size());
  for (size_t i = 0; i < metas.size(); i++) {
    const chunks::ChunkMeta& c = metas[i];
    if (i == 0) {
      PutVarint(body, c.min_time);
      PutUvarint(body, static_cast<uint64_t>(c.max_time - c.min_time));
      PutUvarint(body, c.ref);
      continue;
    }
    const chunks::ChunkMeta& prev = metas[i - 1];
    PutUvarint(body, static_cast<uint64_t>(c.min_time - prev.max_time));
    PutUvarint(body, static_cast<uint64_t>(c.max_time - c.min_time));
    PutVarint(body, static_cast<int64_t>(c.ref - prev.ref));
  }
}

}  // namespace

Status IndexWriter::AddSeries(const model::Labels& labels, std::span<const chunks::ChunkMeta> metas,
                              uint64_t* id) {
  if (closed_) return Status::Internal("index: writer closed");
  if (!symbols_done_) KILN_RETURN_IF_ERROR(FinishSymbols());
  if (!all_series_.empty() &&
      model::Labels::Compare(model::Labels::FromEncoded(last_series_), labels) >= 0) {
    return Status::BadData("index: series out of order: " + labels.ToString());
  }
  std::string body;
  PutUvarint(&body, labels.size());
  for (const auto& l : labels) {
    KILN_ASSIGN_OR_RETURN(const uint32_t name, SymbolRef(l.name));
    KILN_ASSIGN_OR_RETURN(const uint32_t value, SymbolRef(l.value));
    PutUvarint(&body, name);
    PutUvarint(&body, value);
  }
  PutChunkMetas(&body, metas);
  Pad(kSeriesAlignment);
  if (Pos() / kSeriesAlignment > UINT32_MAX) return Status::LimitExceeded("index: too large");
  const auto ref = static_cast<uint32_t>(Pos() / kSeriesAlignment);
  PutUvarint(&buf_, body.size());
  buf_.append(body);
  PutBE32(&buf_, Crc32c(body));
  for (const auto& l : labels) postings_[std::string(l.name)][std::string(l.value)].push_back(ref);
  all_series_.push_back(ref);
  last_series_ = labels.data();
  if (id != nullptr) *id = ref;
  return FlushIfLarge();
}

Status IndexWriter::Close() {
  if (closed_) return Status::OK();
  if (!symbols_done_) KILN_RETURN_IF_ERROR(FinishSymbols());
  closed_ = true;
  KILN_RETURN_IF_ERROR(WriteLabelIndices());
  KILN_RETURN_IF_ERROR(WritePostings());
  KILN_RETURN_IF_ERROR(WriteOffsetTables());
  KILN_RETURN_IF_ERROR(WriteToc());
  KILN_RETURN_IF_ERROR(chunks::WriteAll(fd_.get(), buf_, path_));
  buf_.clear();
  KILN_RETURN_IF_ERROR(chunks::SyncFd(fd_.get(), path_));
  return fd_.Close();
}

// One legacy label index per name: #names = 1, then the sorted values' symbol refs.
Status IndexWriter::WriteLabelIndices() {
  toc_.label_indices = Pos();
  for (const auto& [name, values] : postings_) {
    Pad(kListAlignment);
    label_index_offsets_.emplace_back(name, Pos());
    std::string body;
    PutBE32(&body, 1);
    PutBE32(&body, static_cast<uint32_t>(values.size()));
    for (const auto& [value, refs] : values) {
      KILN_ASSIGN_OR_RETURN(const uint32_t sym, SymbolRef(value));
      PutBE32(&body, sym);
    }
    PutSection(body);
    KILN_RETURN_IF_ERROR(FlushIfLarge());
  }
  return Status::OK();
}

Status IndexWriter::WritePostings() {
  toc_.postings = Pos();
  auto write_list = [this](std::string name, std::string value, const std::vector<uint32_t>& refs) {
    Pad(kListAlignment);
    postings_offsets_.push_back({{std::move(name), std::move(value)}, Pos()});
    std::string body;
    body.reserve(4 + 4 * refs.size());
    PutBE32(&body, static_cast<uint32_t>(refs.size()));
    for (uint32_t r : refs) PutBE32(&body, r);
    PutSection(body);
    return FlushIfLarge();
  };
  KILN_RETURN_IF_ERROR(write_list("", "", all_series_));
  for (const auto& [name, values] : postings_) {
    for (const auto& [value, refs] : values) KILN_RETURN_IF_ERROR(write_list(name, value, refs));
  }
  return Status::OK();
}

Status IndexWriter::WriteOffsetTables() {
  toc_.label_offset_table = Pos();
  std::string body;
  PutBE32(&body, static_cast<uint32_t>(label_index_offsets_.size()));
  for (const auto& [name, off] : label_index_offsets_) {
    body.push_back(1);
    PutUvarintBytes(&body, name);
    PutUvarint(&body, off);
  }
  PutSection(body);

  toc_.postings_offset_table = Pos();
  body.clear();
  PutBE32(&body, static_cast<uint32_t>(postings_offsets_.size()));
  for (const auto& [key, off] : postings_offsets_) {
    body.push_back(2);
    PutUvarintBytes(&body, key.first);
    PutUvarintBytes(&body, key.second);
    PutUvarint(&body, off);
  }
  PutSection(body);
  return Status::OK();
}

Status IndexWriter::WriteToc() {
  std::string toc;
  for (uint64_t v : {toc_.symbols, toc_.series, toc_.label_indices, toc_.label_offset_table,
                     toc_.postings, toc_.postings_offset_table}) {
    PutBE64(&toc, v);
  }
  PutBE32(&toc, Crc32c(toc));
  buf_.append(toc);
  return Status::OK();
}

void IndexWriter::PutSection(std::string_view body) {
  PutBE32(&buf_, static_cast<uint32_t>(body.size()));
  buf_.append(body);
  PutBE32(&buf_, Crc32c(body));
}

void IndexWriter::Pad(size_t alignment) {
  const uint64_t rem = Pos() % alignment;
  if (rem != 0) buf_.append(alignment - rem, '\0');
}

Status IndexWriter::FlushIfLarge() {
  if (buf_.size() < kFlushThreshold) return Status::OK();
  KILN_RETURN_IF_ERROR(chunks::WriteAll(fd_.get(), buf_, path_));
  flushed_ += buf_.size();
  buf_.clear();
  return Status::OK();
}

}  // namespace kiln::tsdb::index
