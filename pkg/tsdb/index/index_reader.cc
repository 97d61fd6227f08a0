#include "pkg/tsdb/index/index_reader.h"

#include "pkg/tsdb/index/index_writer.h"
#include "pkg/util/coding.h"
#include "pkg/util/crc32c.h"

namespace kiln::tsdb::index {

namespace {
constexpr size_t kHeaderSize = 5;
constexpr size_t kTocSize = 6 * 8 + 4;
}  // namespace

Result<std::unique_ptr<IndexReader>> IndexReader::Open(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(auto file, chunks::MmapFile::Open(path));
  std::unique_ptr<IndexReader> r(new IndexReader(std::move(file)));
  const std::string_view b = r->file_->data();
  if (b.size() < kHeaderSize + kTocSize || DecodeBE32(b.data()) != kIndexMagic) {
    return Status::Corruption(path + ": not an index file");
  }
  if (static_cast<uint8_t>(b[4]) != kIndexFormatV2) {
    return Status::Corruption(path + ": unsupported index version " +
                              std::to_string(static_cast<uint8_t>(b[4])));
  }
  Status s = r->ReadToc();
  if (s.ok()) s = r->ReadSymbols();
  if (s.ok()) s = r->ReadPostingsOffsets();
  if (!s.ok()) return s.Wrap(path);
  return r;
}

Status IndexReader::ReadToc() {
  const std::string_view b = file_->data();
  const std::string_view toc = b.substr(b.size() - kTocSize);
  if (DecodeBE32(toc.data() + 48) != Crc32c(toc.data(), 48)) {
    return Status::Corruption("index TOC checksum mismatch");
  }
  uint64_t* fields[] = {&toc_.symbols,       &toc_.series,
                        &toc_.label_indices, &toc_.label_offset_table,
                        &toc_.postings,      &toc_.postings_offset_table};
  for (int i = 0; i < 6; i++) *fields[i] = DecodeBE64(toc.data() + 8 * i);
  return Status::OK();
}

Result<std::string_view> IndexReader::Section(uint64_t offset, const char* what) const {
  const std::string_view b = file_->data();
  if (offset + 4 > b.size()) return Status::Corruption(std::string(what) + " out of bounds");
  const uint32_t len = DecodeBE32(b.data() + offset);
  if (offset + 4 + len + 4 > b.size()) {
    return Status::Corruption(std::string(what) + " out of bounds");
  }
  const std::string_view body = b.substr(offset + 4, len);
  if (DecodeBE32(body.data() + len) != Crc32c(body)) {
    return Status::Corruption(std::string(what) + " checksum mismatch");
  }
  return body;
}

Status IndexReader::ReadSymbols() {
  if (toc_.symbols == 0) return Status::OK();
  KILN_ASSIGN_OR_RETURN(const std::string_view body, Section(toc_.symbols, "symbol table"));
  Decoder d(body);
  const uint32_t n = d.BE32();
  symbols_.reserve(n);
  for (uint32_t i = 0; i < n && !d.err(); i++) symbols_.push_back(d.UvarintBytes());
  if (d.err()) return Status::Corruption("symbol table truncated");
  return Status::OK();
}

Status IndexReader::ReadPostingsOffsets() {
  if (toc_.postings_offset_table == 0) return Status::OK();
  KILN_ASSIGN_OR_RETURN(const std::string_view body,
                        Section(toc_.postings_offset_table, "postings offset table"));
  Decoder d(body);
  const uint32_t n = d.BE32();
  for (uint32_t i = 0; i < n && !d.err(); i++) {
    if (d.Byte() != 2) return Status::Corruption("postings offset entry without 2 keys");
    const std::string_view name = d.UvarintBytes();
    const std::string_view value = d.UvarintBytes();
    postings_[name][value] = d.Uvarint();
  }
  if (d.err()) return Status::Corruption("postings offset table truncated");
  return Status::OK();
}

std::vector<std::string> IndexReader::LabelNames() const {
  std::vector<std::string> out;
  for (const auto& [name, values] : postings_) {
    if (!name.empty()) out.emplace_back(name);
  }
  return out;
}

std::vector<std::string> IndexReader::LabelValues(std::string_view name) const {
  std::vector<std::string> out;
  auto it = postings_.find(name);
  if (it == postings_.end() || name.empty()) return out;
  for (const auto& [value, off] : it->second) out.emplace_back(value);
  return out;
}

std::unique_ptr<Postings> IndexReader::PostingsAt(uint64_t offset) const {
  auto body = Section(offset, "postings list");
  if (!body.ok()) return ErrorPostings(body.status());
  if (body->size() < 4 || DecodeBE32(body->data()) != (body->size() - 4) / 4 ||
      body->size() % 4 != 0) {
    return ErrorPostings(Status::Corruption("postings list length mismatch"));
  }
  return NewBigEndianPostings(body->substr(4));
}

std::unique_ptr<Postings> IndexReader::PostingsFor(std::string_view name,
                                                   std::span<const std::string_view> values) const {
  auto it = postings_.find(name);
  if (it == postings_.end()) return EmptyPostings();
  std::vector<std::unique_ptr<Postings>> lists;
  for (std::string_view v : values) {
    auto vit = it->second.find(v);
    if (vit != it->second.end()) lists.push_back(PostingsAt(vit->second));
  }
  return Merge(std::move(lists));
}

std::unique_ptr<Postings> IndexReader::AllPostings() const {
  const std::string_view empty[] = {""};
  return PostingsFor("", empty);
}

Status IndexReader::Series(uint64_t id, model::Labels* labels,
                           std::vector<chunks::ChunkMeta>* metas) const {
  const std::string_view b = file_->data();
  const uint64_t offset = id * 16;
  if (id == 0 || offset >= b.size()) return Status::NotFound("series " + std::to_string(id));
  Decoder d(b.substr(offset));
  const std::string_view body = d.UvarintBytes();
  const uint32_t crc = d.BE32();
  if (d.err()) return Status::Corruption("series " + std::to_string(id) + " truncated");
  if (crc != Crc32c(body)) {
    return Status::Corruption("series " + std::to_string(id) + " checksum mismatch");
  }
  Decoder s(body);
  // Every label takes at least 2 bytes and every chunk meta 3, which bounds the counts.
  const uint64_t nlabels = s.Uvarint();
  if (nlabels > body.size() / 2) return Status::Corruption("series label count too large");
  std::vector<model::LabelView> views(nlabels);
  for (auto& v : views) {
    const uint64_t name = s.Uvarint(), value = s.Uvarint();
    if (name >= symbols_.size() || value >= symbols_.size()) {
      return Status::Corruption("series " + std::to_string(id) + ": unknown symbol");
    }
    v = {symbols_[name], symbols_[value]};
  }
  const uint64_t nchunks = s.Uvarint();
  if (nchunks > body.size() / 3) return Status::Corruption("series chunk count too large");
  metas->assign(nchunks, {});
  for (size_t i = 0; i < metas->size(); i++) {
    chunks::ChunkMeta& c = (*metas)[i];
    if (i == 0) {
      c.min_time = s.Varint();
      c.max_time = c.min_time + static_cast<int64_t>(s.Uvarint());
      c.ref = s.Uvarint();
    } else {
      const chunks::ChunkMeta& prev = (*metas)[i - 1];
      c.min_time = prev.max_time + static_cast<int64_t>(s.Uvarint());
      c.max_time = c.min_time + static_cast<int64_t>(s.Uvarint());
      c.ref = prev.ref + static_cast<uint64_t>(s.Varint());
    }
  }
  if (s.err()) return Status::Corruption("series " + std::to_string(id) + " malformed");
  *labels = model::Labels::FromSorted(views);
  return Status::OK();
}

}  // namespace kiln::tsdb::index
