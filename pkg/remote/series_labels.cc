#include "pkg/remote/series_labels.h"

#include <string>

#include "pkg/util/utf8.h"

namespace kiln::remote {

namespace {

// Prints pairs the way Prometheus prints a label set, for error messages about sets we
// refuse to build.
std::string PairsToString(const std::vector<model::LabelView>& pairs) {
  std::string out = "{";
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0) out += ", ";
    out.append(pairs[i].name);
    out += '=';
    model::AppendGoQuoted(&out, pairs[i].value);
  }
  out += '}';
  return out;
}

// Length of the UTF-8 sequence starting with `lead`, or 0 if `lead` cannot start one.
int SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

}  // namespace

Result<model::Labels> BuildSeriesLabels(std::vector<model::LabelView>* pairs) {
  bool has_name = false;
  bool all_valid = true;
  for (const auto& p : *pairs) {
    if (p.name.empty() || !IsValidUtf8(p.name) || !IsValidUtf8(p.value)) all_valid = false;
    if (p.name == model::kMetricName && !p.value.empty()) has_name = true;
  }
  all_valid = all_valid && has_name;
  if (!all_valid) {
    return Status::BadData("invalid metric name or labels, got " + PairsToString(*pairs));
  }
  for (size_t i = 1; i < pairs->size(); ++i) {
    const std::string_view prev = (*pairs)[i - 1].name;
    const std::string_view cur = (*pairs)[i].name;
    if (cur == prev) {
      return Status::BadData("invalid labels for series, labels " + PairsToString(*pairs) +
                             ", duplicated label " + std::string(cur));
    }
    if (cur < prev) {
      return Status::BadData("invalid labels for series, labels " + PairsToString(*pairs) +
                             ", labels are not sorted by name (" + std::string(cur) + " after " +
                             std::string(prev) + ")");
    }
  }
  std::erase_if(*pairs, [](const model::LabelView& p) { return p.value.empty(); });
  return model::Labels::FromSorted(*pairs);
}

}  // namespace kiln::remote
