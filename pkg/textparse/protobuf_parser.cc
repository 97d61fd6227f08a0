#include "pkg/textparse/protobuf_parser.h"

#include <cmath>

#include "pkg/textparse/text_scanner.h"

namespace kiln::textparse {
namespace {

namespace pb = io::prometheus::client;

model::MetricType ToMetricType(pb::MetricType t) {
  switch (t) {
    case pb::COUNTER:
      return model::MetricType::kCounter;
    case pb::GAUGE:
      return model::MetricType::kGauge;
    case pb::SUMMARY:
      return model::MetricType::kSummary;
    case pb::HISTOGRAM:
      return model::MetricType::kHistogram;
    case pb::GAUGE_HISTOGRAM:
      return model::MetricType::kGaugeHistogram;
    default:
      return model::MetricType::kUnknown;
  }
}

bool IsHistogram(pb::MetricType t) { return t == pb::HISTOGRAM || t == pb::GAUGE_HISTOGRAM; }

void AppendEscaped(std::string* out, std::string_view v) {
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

model::Timestamp ToMillis(const google::protobuf::Timestamp& ts) {
  // Go's int64 arithmetic wraps around on overflow; unsigned arithmetic does the same here
  // without C++'s undefined behaviour for a crafted seconds value.
  return static_cast<model::Timestamp>(static_cast<uint64_t>(ts.seconds()) * 1000u +
                                       static_cast<uint64_t>(ts.nanos() / 1000000));
}

bool NeedsInfBucket(const pb::Histogram& h) {
  return h.bucket_size() == 0 || !std::isinf(h.bucket(h.bucket_size() - 1).upper_bound());
}

double HistogramCount(const pb::Histogram& h) {
  return h.sample_count_float() > 0 ? h.sample_count_float()
                                    : static_cast<double>(h.sample_count());
}

// Appends a metric or label name as the text format writes it: bare when it is a legacy name,
// quoted and escaped otherwise. Quoting keeps the series text unambiguous (equal text ⇒ equal
// labels) for UTF-8 names holding `{`, `,`, `=` or `"`.
void AppendName(std::string* out, std::string_view name) {
  if (model::IsValidLegacyMetricName(name)) {
    out->append(name);
    return;
  }
  out->push_back('"');
  AppendEscaped(out, name);
  out->push_back('"');
}

}  // namespace

Entry ProtobufParser::Fail(std::string msg) {
  err_ = Status::BadData(std::move(msg));
  done_ = Entry::kInvalid;
  return done_;
}

bool ProtobufParser::ReadFamily() {
  uint64_t len = 0;
  int shift = 0;
  for (;;) {
    if (pos_ >= buf_.size() || shift > 63) {
      Fail("protobuf: invalid varint length prefix at byte " + std::to_string(pos_));
      return false;
    }
    auto b = static_cast<uint8_t>(buf_[pos_++]);
    len |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  if (len > buf_.size() - pos_) {
    Fail("protobuf: message of " + std::to_string(len) + " bytes exceeds the remaining " +
         std::to_string(buf_.size() - pos_));
    return false;
  }
  if (!mf_.ParseFromArray(buf_.data() + pos_, static_cast<int>(len))) {
    Fail("protobuf: cannot decode MetricFamily at byte " + std::to_string(pos_));
    return false;
  }
  pos_ += len;
  metric_ = 0;
  sub_ = -1;
  // The wire type of names and values is bytes; the storage needs UTF-8. Upstream's
  // messages.
  const std::string& name = mf_.name();
  if (name.empty() || !IsValidUtf8(name)) {
    Fail("invalid metric name: " + name);
    return false;
  }
  if (!IsValidUtf8(mf_.help())) {
    std::string quoted;
    model::AppendGoQuoted(&quoted, name);
    Fail("invalid help for metric " + quoted + ": " + mf_.help());
    return false;
  }
  for (const pb::Metric& m : mf_.metric()) {
    for (const pb::LabelPair& l : m.label()) {
      if (l.name().empty() || !IsValidUtf8(l.name())) {
        Fail("invalid label name: " + l.name());
        return false;
      }
      if (!IsValidUtf8(l.value())) {
        Fail("invalid label value: " + l.value());
        return false;
      }
    }
    // Prometheus 2.42 keeps every pair a metric carries, a `__name__` one or a repeated name
    // included, drops those with empty values, and its head then refuses the series: the
    // scrape fails with the head's message. (A label set cannot hold such a series here.)
    for (int i = 0; i < m.label_size(); ++i) {
      const pb::LabelPair& l = m.label(i);
      if (l.value().empty()) continue;
      bool dup = l.name() == model::kMetricName;
      for (int j = 0; j < i && !dup; ++j) {
        dup = !m.label(j).value().empty() && m.label(j).name() == l.name();
      }
      if (dup) {
        Fail("label name \"" + l.name() + "\" is not unique: invalid sample");
        return false;
      }
    }
  }
  return true;
}

Entry ProtobufParser::Next() {
  if (done_ == Entry::kEOF || done_ == Entry::kInvalid) return done_;
  for (;;) {
    switch (step_) {
      case Step::kFamily:
        if (pos_ >= buf_.size()) {
          done_ = Entry::kEOF;
          return done_;
        }
        if (!ReadFamily()) return done_;
        step_ = Step::kHelp;
        if (!mf_.help().empty()) return Entry::kHelp;
        break;
      case Step::kHelp:
        step_ = Step::kType;
        return Entry::kType;
      case Step::kType:
        step_ = Step::kUnit;
        if (!mf_.unit().empty()) return Entry::kUnit;
        break;
      case Step::kUnit:
      case Step::kSeries:
        step_ = Step::kSeries;
        if (NextSeries()) return Entry::kSeries;
        step_ = Step::kFamily;
        break;
    }
  }
}

int ProtobufParser::SeriesCount(const pb::Metric& m) const {
  if (mf_.type() == pb::SUMMARY) return 2 + m.summary().quantile_size();
  if (IsHistogram(mf_.type())) {
    const pb::Histogram& h = m.histogram();
    return 2 + h.bucket_size() + (NeedsInfBucket(h) ? 1 : 0);
  }
  return 1;
}

bool ProtobufParser::NextSeries() {
  while (metric_ < mf_.metric_size()) {
    const pb::Metric& m = mf_.metric(metric_);
    if (++sub_ < SeriesCount(m)) {
      Describe(m, sub_);
      return true;
    }
    ++metric_;
    sub_ = -1;
  }
  return false;
}

void ProtobufParser::DescribeSummary(const pb::Summary& sm, int sub) {
  if (sub == 0) {
    name_ += "_count";
    value_ = static_cast<double>(sm.sample_count());
  } else if (sub == 1) {
    name_ += "_sum";
    value_ = sm.sample_sum();
  } else {
    const pb::Quantile& q = sm.quantile(sub - 2);
    extra_name_ = "quantile";
    extra_value_ = internal::FormatOpenMetricsFloat(q.quantile());
    value_ = q.value();
  }
}

void ProtobufParser::DescribeHistogram(const pb::Histogram& h, int sub) {
  if (sub == 0) {
    name_ += "_count";
    value_ = HistogramCount(h);
    return;
  }
  if (sub == 1) {
    name_ += "_sum";
    value_ = h.sample_sum();
    return;
  }
  name_ += "_bucket";
  extra_name_ = "le";
  if (sub - 2 < h.bucket_size()) {
    bucket_ = sub - 2;
    const pb::Bucket& b = h.bucket(bucket_);
    extra_value_ = internal::FormatOpenMetricsFloat(b.upper_bound());
    value_ = b.cumulative_count_float() > 0 ? b.cumulative_count_float()
                                            : static_cast<double>(b.cumulative_count());
  } else {
    extra_value_ = "+Inf";
    value_ = HistogramCount(h);
  }
}

void ProtobufParser::Describe(const pb::Metric& m, int sub) {
  const pb::MetricType t = mf_.type();
  name_ = mf_.name();
  extra_name_.clear();
  extra_value_.clear();
  bucket_ = -1;
  if (t == pb::SUMMARY) {
    DescribeSummary(m.summary(), sub);
  } else if (IsHistogram(t)) {
    DescribeHistogram(m.histogram(), sub);
  } else if (t == pb::COUNTER) {
    value_ = m.counter().value();
  } else if (t == pb::GAUGE) {
    value_ = m.gauge().value();
  } else {
    value_ = m.untyped().value();
  }
  // The series text, in exposition syntax (UTF-8 names quoted, as text 1.0 writes them),
  // rebuilt in a reused buffer.
  series_.clear();
  const bool bare_name = model::IsValidLegacyMetricName(name_);
  if (bare_name) {
    series_ = name_;
    if (m.label_size() == 0 && extra_name_.empty()) return;
    series_ += '{';
  } else {
    series_ += '{';
    AppendName(&series_, name_);
    series_ += ',';
  }
  for (const auto& l : m.label()) {
    AppendName(&series_, l.name());
    series_ += "=\"";
    AppendEscaped(&series_, l.value());
    series_ += "\",";
  }
  if (!extra_name_.empty()) series_ += extra_name_ + "=\"" + extra_value_ + "\",";
  series_.back() = '}';
}

std::string_view ProtobufParser::Series(double* value, std::optional<model::Timestamp>* ts) const {
  *value = value_;
  const pb::Metric& m = mf_.metric(metric_);
  *ts = m.timestamp_ms() != 0 ? std::optional<model::Timestamp>(m.timestamp_ms()) : std::nullopt;
  return series_;
}

void ProtobufParser::Labels(model::LabelsBuilder* builder) const {
  builder->Reset(model::Labels());
  builder->Set(model::kMetricName, name_);
  for (const auto& l : mf_.metric(metric_).label()) {
    // An empty value means no label (upstream drops such pairs): it must not remove a
    // same-named label given before it.
    if (!l.value().empty()) builder->Set(l.name(), l.value());
  }
  if (!extra_name_.empty()) builder->Set(extra_name_, extra_value_);
}

const pb::Exemplar* ProtobufParser::CurrentExemplar() const {
  const pb::Metric& m = mf_.metric(metric_);
  if (mf_.type() == pb::COUNTER && m.counter().has_exemplar()) return &m.counter().exemplar();
  if (bucket_ >= 0 && m.histogram().bucket(bucket_).has_exemplar()) {
    return &m.histogram().bucket(bucket_).exemplar();
  }
  return nullptr;
}

bool ProtobufParser::GetExemplar(Exemplar* e) {
  const pb::Exemplar* ex = CurrentExemplar();
  if (ex == nullptr) return false;
  model::LabelsBuilder b;
  for (const auto& l : ex->label()) b.Set(l.name(), l.value());
  e->labels = b.Build();
  e->value = ex->value();
  e->timestamp = ex->has_timestamp() ? std::optional(ToMillis(ex->timestamp())) : std::nullopt;
  return true;
}

std::optional<model::Timestamp> ProtobufParser::CreatedTimestamp() {
  const pb::Metric& m = mf_.metric(metric_);
  const google::protobuf::Timestamp* ct = nullptr;
  if (mf_.type() == pb::COUNTER && m.counter().has_created_timestamp()) {
    ct = &m.counter().created_timestamp();
  } else if (mf_.type() == pb::SUMMARY && m.summary().has_created_timestamp()) {
    ct = &m.summary().created_timestamp();
  } else if (IsHistogram(mf_.type()) && m.histogram().has_created_timestamp()) {
    ct = &m.histogram().created_timestamp();
  }
  if (ct == nullptr) return std::nullopt;
  return ToMillis(*ct);
}

std::pair<std::string_view, std::string_view> ProtobufParser::Help() const {
  return {mf_.name(), mf_.help()};
}

std::pair<std::string_view, model::MetricType> ProtobufParser::Type() const {
  return {mf_.name(), ToMetricType(mf_.type())};
}

std::pair<std::string_view, std::string_view> ProtobufParser::Unit() const {
  return {mf_.name(), mf_.unit()};
}

}  // namespace kiln::textparse
