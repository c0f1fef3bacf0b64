#include "detect/attribution.h"

#include "detect/null_distribution.h"

namespace telltale {

StatusOr<Attribution> AttributeKeys(std::span<const Detector* const> detectors, std::span<const int32_t> tokens,
                                    const DetectOptions& options) {
  if (detectors.empty()) return Status::InvalidArgument("attribution needs at least one key");
  Attribution a;
  std::vector<double> log_p;
  for (const Detector* d : detectors) {
    TT_ASSIGN_OR_RETURN(Detection det, d->Score(tokens, options));
    log_p.push_back(det.log10_p / kLog10E);
    a.per_key.push_back(std::move(det));
  }
  for (double v : HolmAdjustLog(log_p)) a.holm_log10_p.push_back(v * kLog10E);
  for (size_t k = 1; k < log_p.size(); ++k) {
    if (log_p[k] < log_p[a.best]) a.best = k;
  }
  return a;
}

}  // namespace telltale
