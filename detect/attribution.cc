#include "detect/attribution.h"

#include "detect/null_distribution.h"

namespace telltale {

StatusOr<Attribution> AttributeKeys(std::span<const Detector* const> detectors, std::span<const int32_t> tokens,
                                    const DetectOptions& options, const TupleSink* sink) {
  Attribution a;
  TT_RETURN_IF_ERROR(AttributeKeysInto(detectors, tokens, options, sink, &a));
  return a;
}

Status AttributeKeysInto(std::span<const Detector* const> detectors, std::span<const int32_t> tokens,
                         const DetectOptions& options, const TupleSink* sink, Attribution* out) {
  if (detectors.empty()) return Status::InvalidArgument("attribution needs at least one key");
  Attribution& a = *out;
  a.best = 0;
  bool one_scheme = true;
  for (const Detector* d : detectors) {
    if (d == nullptr) return Status::InvalidArgument("attribution: null detector");
    one_scheme = one_scheme && d->spec() == detectors[0]->spec();
  }
  if (one_scheme) {
    TT_RETURN_IF_ERROR(Detector::ScoreKeysInto(detectors, tokens, options, sink, &a.per_key));
  } else {
    if (sink != nullptr) return Status::InvalidArgument("attribution with a tuple sink needs one scheme for all keys");
    a.per_key.clear();
    for (const Detector* d : detectors) {
      TT_ASSIGN_OR_RETURN(Detection det, d->Score(tokens, options));
      a.per_key.push_back(std::move(det));
    }
  }
  // Natural-log p-values, in holm_log10_p until Holm's step-down turns them
  // into the adjusted log10 values.
  const size_t k = a.per_key.size();
  a.holm_log10_p.resize(k);
  for (size_t j = 0; j < k; ++j) a.holm_log10_p[j] = a.per_key[j].log10_p / kLog10E;
  for (size_t j = 1; j < k; ++j) {
    if (a.holm_log10_p[j] < a.holm_log10_p[a.best]) a.best = j;
  }
  HolmAdjustLogInto(a.holm_log10_p, a.holm_log10_p.data());
  for (double& v : a.holm_log10_p) v *= kLog10E;
  return Status::Ok();
}

}  // namespace telltale
