// Labels: an immutable, sorted set of name/value pairs identifying a series.
//
// Stored as one contiguous buffer (uvarint length + bytes for each name and value, names in
// ascending order), as Prometheus's "stringlabels" build does: one allocation per set, cheap
// to hash and compare, and small in the head where millions of sets live. Iteration yields
// string_views into the buffer. Thread-compatible (immutable after construction).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::model {

inline constexpr std::string_view kMetricName = "__name__";

struct Label {
  std::string name;
  std::string value;
  friend bool operator==(const Label&, const Label&) = default;
};

struct LabelView {
  std::string_view name;
  std::string_view value;
};

class Labels {
 public:
  class Iterator {
   public:
    using value_type = LabelView;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Iterator(const char* p, const char* end) : p_(p), end_(end) { Decode(); }
    const LabelView& operator*() const { return cur_; }
    const LabelView* operator->() const { return &cur_; }
    Iterator& operator++() {
      p_ = next_;
      Decode();
      return *this;
    }
    Iterator operator++(int) {
      Iterator t = *this;
      ++*this;
      return t;
    }
    bool operator==(const Iterator& o) const { return p_ == o.p_; }

   private:
    void Decode();
    const char* p_ = nullptr;
    const char* end_ = nullptr;
    const char* next_ = nullptr;
    LabelView cur_;
  };

  Labels() = default;
  // Sorts by name; a later duplicate name overwrites an earlier one; empty values are dropped.
  Labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs);
  static Labels FromVector(std::vector<Label> labels);
  // REQUIRES: `labels` sorted by name, names unique.
  static Labels FromSorted(const std::vector<LabelView>& labels);
  // Adopts an encoded buffer (as produced by data()). REQUIRES: well formed.
  static Labels FromEncoded(std::string encoded) {
    Labels l;
    l.data_ = std::move(encoded);
    return l;
  }

  Iterator begin() const { return Iterator(data_.data(), data_.data() + data_.size()); }
  Iterator end() const {
    return Iterator(data_.data() + data_.size(), data_.data() + data_.size());
  }

  bool empty() const { return data_.empty(); }
  size_t size() const;  // number of labels (linear)
  // The value for `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  std::string_view MetricName() const { return Get(kMetricName); }

  // A 64-bit hash of all pairs (xxhash-quality, not Prometheus's exact values).
  uint64_t Hash() const;
  // Hash over only the named labels / all but the named labels. `names` need not be sorted.
  uint64_t HashForLabels(const std::vector<std::string>& names) const;
  uint64_t HashWithoutLabels(const std::vector<std::string>& names) const;

  // Copies with labels kept / removed by name.
  Labels KeepOnly(const std::vector<std::string>& names) const;
  Labels Without(const std::vector<std::string>& names) const;
  Labels WithoutMetricName() const;

  std::vector<Label> ToVector() const;
  // Prometheus's String(): {__name__="up", job="x"} with Go-quoted values.
  std::string ToString() const;
  // Bytes held by the buffer (for memory accounting).
  size_t ByteSize() const { return data_.size(); }
  const std::string& data() const { return data_; }

  // Prometheus's labels.Compare: pairwise by name then value, then by length.
  static int Compare(const Labels& a, const Labels& b);
  friend bool operator==(const Labels& a, const Labels& b) { return a.data_ == b.data_; }
  friend bool operator<(const Labels& a, const Labels& b) { return Compare(a, b) < 0; }

 private:
  std::string data_;
};

// Mutable staging area for building a Labels from a base set plus edits.
class LabelsBuilder {
 public:
  LabelsBuilder() = default;
  explicit LabelsBuilder(const Labels& base) { Reset(base); }

  void Reset(const Labels& base);
  // Sets name to value; an empty value deletes the label (Prometheus semantics).
  LabelsBuilder& Set(std::string_view name, std::string_view value);
  LabelsBuilder& Del(std::string_view name);
  std::string_view Get(std::string_view name) const;
  void Keep(const std::vector<std::string>& names);
  // Calls f(name, value) for each label currently staged, in sorted order.
  template <typename F>
  void Range(F&& f) const {
    for (const auto& l : labels_) f(std::string_view(l.name), std::string_view(l.value));
  }
  Labels Build() const;

 private:
  std::vector<Label> labels_;  // kept sorted by name
};

// Appends `s` quoted as Go's strconv.Quote would (used in label printing everywhere).
void AppendGoQuoted(std::string* out, std::string_view s);

// Whether `name` is a legacy-valid metric / label name ([a-zA-Z_:][a-zA-Z0-9_:]* for metric
// names, no colon for label names).
bool IsValidLegacyMetricName(std::string_view name);
bool IsValidLegacyLabelName(std::string_view name);

}  // namespace kiln::model
