// libFuzzer target for the exposition-format parsers: whatever a scrape target sends, parsing
// must end in kEOF or kInvalid without crashing, hanging, leaking or tripping a sanitizer,
// and every accessor the scrape loop calls must be safe on the entry it is allowed for.
//
// Built three times (see CMakeLists.txt) with KILN_FUZZ_FORMAT 0, 1 or 2 choosing the
// Content-Type that selects the text, OpenMetrics or protobuf parser.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pkg/textparse/parser.h"

namespace {

constexpr const char* kContentTypes[] = {
    "text/plain; version=0.0.4",
    "application/openmetrics-text; version=1.0.0",
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
    "encoding=delimited",
};
constexpr const char* kContentType = kContentTypes[KILN_FUZZ_FORMAT];

using kiln::textparse::Entry;

// Labels() gives names sorted and unique and no empty values (the builder deletes them).
// Whether the names are valid (present, non-empty, UTF-8 or legacy) is the scrape loop's
// check, as upstream's Labels.IsValid: `{"m", ""="v"}` parses in both.
void CheckLabels(const kiln::model::Labels& lset) {
  std::string_view prev;
  bool first = true;
  for (const auto& l : lset) {
    if (l.value.empty()) std::abort();
    if (!first && l.name <= prev) std::abort();
    prev = l.name;
    first = false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (bool skip_created : {false, true}) {
    kiln::textparse::ParserOptions opts;
    opts.skip_created_series = skip_created;
    auto parser = kiln::textparse::NewParser(input, kContentType, "", opts);
    if (!parser.ok()) std::abort();  // the content type is valid; only the body is fuzzed
    kiln::textparse::Parser& p = **parser;
    kiln::model::LabelsBuilder builder;
    // Every entry consumes input, so a parse has at most one entry per byte plus the
    // expansions of classic histograms and summaries; a runaway loop is a bug.
    size_t entries = 0;
    const size_t limit = 64 * (size + 16);
    for (;;) {
      Entry e = p.Next();
      if (++entries > limit) std::abort();
      if (e == Entry::kEOF) {
        if (!p.err().ok()) std::abort();
        if (p.Next() != Entry::kEOF) std::abort();  // sticky, as parser.h promises
        break;
      }
      if (e == Entry::kInvalid) {
        if (p.err().ok() || p.err().message().empty()) std::abort();
        if (p.Next() != Entry::kInvalid) std::abort();
        break;
      }
      switch (e) {
        case Entry::kSeries: {
          double v = 0;
          std::optional<kiln::model::Timestamp> ts;
          std::string_view text = p.Series(&v, &ts);
          if (text.empty()) std::abort();
          p.Labels(&builder);
          CheckLabels(builder.Build());
          kiln::textparse::Exemplar ex;
          if (p.GetExemplar(&ex)) {
            (void)std::isnan(ex.value);
          }
          (void)p.CreatedTimestamp();
          break;
        }
        case Entry::kHelp:
          (void)p.Help();
          break;
        case Entry::kType:
          (void)p.Type();
          break;
        case Entry::kUnit:
          (void)p.Unit();
          break;
        case Entry::kComment:
          (void)p.Comment();
          break;
        default:
          break;
      }
    }
  }
  return 0;
}
