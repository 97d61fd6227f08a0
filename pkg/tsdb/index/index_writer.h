// IndexWriter: writes a block's index file, format v2 (upstream tsdb/docs/format/index.md).
//
// Layout: magic 0xBAAAD700 and version 2; the symbol table; the series, each 16-byte aligned
// so that a series' ID is its offset / 16; one label index per label name (the legacy v1
// section, still written as Prometheus 2.x does); postings lists, the all-series list (key
// "", "") first, then by label name and value; the label offset table; the postings offset
// table; and the TOC. Every section carries a CRC32C. For the same input the file is
// byte-identical to Prometheus's.
//
// Usage: Open, AddSymbol for every symbol in sorted order, AddSeries in label order, Close.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/model/labels.h"
#include "pkg/tsdb/chunks/chunk_meta.h"
#include "pkg/tsdb/chunks/file_util.h"
#include "pkg/util/result.h"

namespace kiln::tsdb::index {

inline constexpr uint32_t kIndexMagic = 0xBAAAD700;
inline constexpr uint8_t kIndexFormatV2 = 2;

class IndexWriter {
 public:
  static Result<std::unique_ptr<IndexWriter>> Open(const std::string& path);
  ~IndexWriter();

  // REQUIRES: symbols strictly increasing, all added before the first series. Every label
  // name and value of the series must be a symbol. Prometheus also lists "" as a symbol;
  // callers wanting byte-identical files do the same.
  Status AddSymbol(std::string_view symbol);

  // Adds a series. Series come in strictly increasing label order; `chunks` are sorted by
  // time with refs set. *id, if given, receives the series' reference (offset / 16).
  Status AddSeries(const model::Labels& labels, std::span<const chunks::ChunkMeta> chunks,
                   uint64_t* id = nullptr);

  // Writes the remaining sections and the TOC, fsyncs and closes the file.
  Status Close();

 private:
  IndexWriter(std::string path, chunks::UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  Status FinishSymbols();
  Result<uint32_t> SymbolRef(std::string_view s) const;
  Status WriteLabelIndices();
  Status WritePostings();
  Status WriteOffsetTables();
  Status WriteToc();
  // Appends `body` framed as len (4 BE), body, CRC32C(body).
  void PutSection(std::string_view body);
  void Pad(size_t alignment);
  Status FlushIfLarge();

  const std::string path_;
  chunks::UniqueFd fd_;
  // Current file offset: bytes written plus bytes buffered.
  uint64_t Pos() const { return flushed_ + buf_.size(); }

  std::string buf_;       // unwritten bytes, starting at file offset flushed_
  uint64_t flushed_ = 0;  // bytes written to the file

  std::vector<std::string> symbols_;
  bool symbols_done_ = false;
  bool closed_ = false;
  std::string last_series_;  // encoded labels of the previous series, to check ordering
  // Series IDs per label name and value, and of every series.
  std::map<std::string, std::map<std::string, std::vector<uint32_t>>, std::less<>> postings_;
  std::vector<uint32_t> all_series_;
  // Offsets of the sections written at Close, for the offset tables.
  std::vector<std::pair<std::string, uint64_t>> label_index_offsets_;
  std::vector<std::pair<std::pair<std::string, std::string>, uint64_t>> postings_offsets_;

  struct Toc {
    uint64_t symbols = 0, series = 0, label_indices = 0, label_offset_table = 0, postings = 0,
             postings_offset_table = 0;
  } toc_;
};

}  // namespace kiln::tsdb::index
