#include "detect/attribution.h"

#include "detect/null_distribution.h"

namespace telltale {

StatusOr<Attribution> AttributeKeys(std::span<const Detector* const> detectors, std::span<const int32_t> tokens,
                                    const DetectOptions& options, const TupleSink* sink) {
  if (detectors.empty()) return Status::InvalidArgument("attribution needs at least one key");
  Attribution a;
  bool one_scheme = true;
  for (const Detector* d : detectors) {
    if (d == nullptr) return Status::InvalidArgument("attribution: null detector");
    one_scheme = one_scheme && d->spec() == detectors[0]->spec();
  }
  if (one_scheme) {
    TT_ASSIGN_OR_RETURN(a.per_key, Detector::ScoreKeys(detectors, tokens, options, sink));
  } else {
    if (sink != nullptr) return Status::InvalidArgument("attribution with a tuple sink needs one scheme for all keys");
    for (const Detector* d : detectors) {
      TT_ASSIGN_OR_RETURN(Detection det, d->Score(tokens, options));
      a.per_key.push_back(std::move(det));
    }
  }
  std::vector<double> log_p;
  log_p.reserve(a.per_key.size());
  for (const Detection& det : a.per_key) log_p.push_back(det.log10_p / kLog10E);
  a.holm_log10_p = HolmAdjustLog(log_p);
  for (double& v : a.holm_log10_p) v *= kLog10E;
  for (size_t k = 1; k < log_p.size(); ++k) {
    if (log_p[k] < log_p[a.best]) a.best = k;
  }
  return a;
}

}  // namespace telltale
