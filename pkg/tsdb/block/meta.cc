#include "pkg/tsdb/block/meta.h"

#include <nlohmann/json.hpp>

#include "pkg/tsdb/block/file_io.h"

namespace kiln::tsdb::block {
namespace {

using OrderedJson = nlohmann::ordered_json;

OrderedJson DescJson(const BlockDesc& d) {
  OrderedJson j;
  j["ulid"] = d.ulid;
  j["minTime"] = d.min_time;
  j["maxTime"] = d.max_time;
  return j;
}

OrderedJson CompactionJson(const BlockMetaCompaction& c) {
  OrderedJson j;
  j["level"] = c.level;
  if (!c.sources.empty()) j["sources"] = c.sources;
  if (c.deletable) j["deletable"] = true;
  if (!c.parents.empty()) {
    OrderedJson parents = OrderedJson::array();
    for (const auto& p : c.parents) parents.push_back(DescJson(p));
    j["parents"] = parents;
  }
  if (c.failed) j["failed"] = true;
  return j;
}

template <typename T>
T Field(const nlohmann::json& j, const char* key, T dflt) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return dflt;
  return it->get<T>();
}

}  // namespace

std::string MetaToJson(const BlockMeta& meta) {
  OrderedJson j;
  j["ulid"] = meta.ulid;
  j["minTime"] = meta.min_time;
  j["maxTime"] = meta.max_time;
  OrderedJson stats;
  stats["numSamples"] = meta.stats.num_samples;
  stats["numSeries"] = meta.stats.num_series;
  stats["numChunks"] = meta.stats.num_chunks;
  if (meta.stats.num_tombstones != 0) stats["numTombstones"] = meta.stats.num_tombstones;
  j["stats"] = stats;
  j["compaction"] = CompactionJson(meta.compaction);
  j["version"] = meta.version;
  return j.dump(1, '\t');
}

Result<BlockMeta> MetaFromJson(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::BadData("meta.json: invalid JSON");
  try {
    BlockMeta m;
    m.ulid = Field<std::string>(j, "ulid", "");
    m.min_time = Field<int64_t>(j, "minTime", 0);
    m.max_time = Field<int64_t>(j, "maxTime", 0);
    m.version = Field<int>(j, "version", 0);
    if (m.version != kMetaVersion1) {
      return Status::BadData("unexpected meta file version " + std::to_string(m.version));
    }
    const auto stats = Field<nlohmann::json>(j, "stats", nlohmann::json::object());
    m.stats.num_samples = Field<uint64_t>(stats, "numSamples", 0);
    m.stats.num_series = Field<uint64_t>(stats, "numSeries", 0);
    m.stats.num_chunks = Field<uint64_t>(stats, "numChunks", 0);
    m.stats.num_tombstones = Field<uint64_t>(stats, "numTombstones", 0);
    const auto c = Field<nlohmann::json>(j, "compaction", nlohmann::json::object());
    m.compaction.level = Field<int>(c, "level", 0);
    m.compaction.sources = Field<std::vector<std::string>>(c, "sources", {});
    m.compaction.deletable = Field<bool>(c, "deletable", false);
    m.compaction.failed = Field<bool>(c, "failed", false);
    for (const auto& p : Field<nlohmann::json>(c, "parents", nlohmann::json::array())) {
      m.compaction.parents.push_back({Field<std::string>(p, "ulid", ""),
                                      Field<int64_t>(p, "minTime", 0),
                                      Field<int64_t>(p, "maxTime", 0)});
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    return Status::BadData(std::string("meta.json: ") + e.what());
  }
}

Result<BlockMeta> ReadMeta(const std::string& dir) {
  KILN_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(dir + "/" + kMetaFilename));
  auto meta = MetaFromJson(text);
  if (!meta.ok()) return meta.status().Wrap("read meta of " + dir);
  return meta;
}

Status WriteMeta(const std::string& dir, const BlockMeta& meta) {
  return WriteFileAtomic(dir + "/" + kMetaFilename, MetaToJson(meta));
}

}  // namespace kiln::tsdb::block
