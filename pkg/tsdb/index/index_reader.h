// IndexReader: reads a block's v2 index file (format in index_writer.h) through a read-only
// memory mapping.
//
// Open checks the header and the CRCs of the TOC, the symbol table and the postings offset
// table, and loads the latter into memory. Series entries and postings lists are checked
// against their CRCs when read.
//
// Thread-safe: immutable after Open. Postings and string views it returns are valid while
// the reader lives.
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
#include "pkg/tsdb/chunks/mmap_file.h"
#include "pkg/tsdb/index/postings.h"
#include "pkg/tsdb/index/postings_for_matchers.h"
#include "pkg/util/result.h"

namespace kiln::tsdb::index {

class IndexReader final : public PostingsReader {
 public:
  static Result<std::unique_ptr<IndexReader>> Open(const std::string& path);

  // All symbols, sorted.
  const std::vector<std::string_view>& Symbols() const { return symbols_; }
  // Label names that have postings, sorted ("" for the all-series key excluded).
  std::vector<std::string> LabelNames() const;
  // Values of `name`, sorted; empty when the name is unknown.
  std::vector<std::string> LabelValues(std::string_view name) const override;

  // Series having `name` equal to any of `values` (merged). Unknown pairs contribute nothing.
  std::unique_ptr<Postings> PostingsFor(std::string_view name,
                                        std::span<const std::string_view> values) const override;
  // Every series in the index.
  std::unique_ptr<Postings> AllPostings() const override;
  // Series IDs already order series by labels, so this returns `p` unchanged; it exists so
  // that callers state their need as they do against the head.
  std::unique_ptr<Postings> SortedPostings(std::unique_ptr<Postings> p) const { return p; }

  // Decodes the series with reference `id` (a postings value). Chunk metas have no data.
  Status Series(uint64_t id, model::Labels* labels, std::vector<chunks::ChunkMeta>* metas) const;

  uint64_t Size() const { return file_->data().size(); }

 private:
  struct Toc {
    uint64_t symbols, series, label_indices, label_offset_table, postings, postings_offset_table;
  };

  explicit IndexReader(std::shared_ptr<const chunks::MmapFile> file) : file_(std::move(file)) {}
  Status ReadToc();
  Status ReadSymbols();
  Status ReadPostingsOffsets();
  // The body of the len/body/CRC section at `offset`, CRC-checked.
  Result<std::string_view> Section(uint64_t offset, const char* what) const;
  std::unique_ptr<Postings> PostingsAt(uint64_t offset) const;

  std::shared_ptr<const chunks::MmapFile> file_;
  Toc toc_{};
  std::vector<std::string_view> symbols_;
  // Postings list offset by name, then value (views into the mapping).
  std::map<std::string_view, std::map<std::string_view, uint64_t>, std::less<>> postings_;
};

}  // namespace kiln::tsdb::index
