// In-memory Series and SeriesSet built from vectors: the building blocks for merged query
// results, remote read, and tests.
#pragma once

#include <memory>
#include <vector>

#include "pkg/model/value.h"
#include "pkg/storage/querier.h"

namespace kiln::storage {

// Iterates a sorted vector of float samples it shares ownership of.
class SampleVectorIterator final : public chunkenc::Iterator {
 public:
  explicit SampleVectorIterator(std::shared_ptr<const std::vector<model::Sample>> samples)
      : samples_(std::move(samples)) {}
  chunkenc::ValueType Next() override;
  chunkenc::ValueType Seek(int64_t t) override;
  std::pair<int64_t, double> At() const override {
    return {(*samples_)[pos_].t, (*samples_)[pos_].v};
  }
  int64_t AtT() const override { return (*samples_)[pos_].t; }
  Status err() const override { return Status::OK(); }

 private:
  std::shared_ptr<const std::vector<model::Sample>> samples_;
  size_t pos_ = static_cast<size_t>(-1);  // before the first sample
};

class VectorSeries final : public Series {
 public:
  VectorSeries(model::Labels labels, std::vector<model::Sample> samples)
      : labels_(std::move(labels)),
        samples_(std::make_shared<const std::vector<model::Sample>>(std::move(samples))) {}
  const model::Labels& labels() const override { return labels_; }
  std::unique_ptr<chunkenc::Iterator> Iterator() const override {
    return std::make_unique<SampleVectorIterator>(samples_);
  }
  const std::vector<model::Sample>& samples() const { return *samples_; }

 private:
  model::Labels labels_;
  std::shared_ptr<const std::vector<model::Sample>> samples_;
};

// A SeriesSet over owned series, in the order given.
class VectorSeriesSet final : public SeriesSet {
 public:
  explicit VectorSeriesSet(std::vector<std::unique_ptr<Series>> series,
                           std::vector<std::string> warnings = {})
      : series_(std::move(series)), warnings_(std::move(warnings)) {}
  bool Next() override { return ++pos_ < series_.size(); }
  const Series& At() const override { return *series_[pos_]; }
  Status err() const override { return Status::OK(); }
  std::vector<std::string> warnings() const override { return warnings_; }

 private:
  std::vector<std::unique_ptr<Series>> series_;
  std::vector<std::string> warnings_;
  size_t pos_ = static_cast<size_t>(-1);
};

// A SeriesSet that yields nothing and reports `status` from err().
class ErrorSeriesSet final : public SeriesSet {
 public:
  explicit ErrorSeriesSet(Status status) : status_(std::move(status)) {}
  bool Next() override { return false; }
  const Series& At() const override;
  Status err() const override { return status_; }

 private:
  Status status_;
};

}  // namespace kiln::storage
