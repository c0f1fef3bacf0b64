#include "watermark/token_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace telltale {

Status ValidateSamplingParams(const SamplingParams& p) {
  if (!(p.temperature > 0) || !std::isfinite(p.temperature)) {
    return Status::InvalidArgument("temperature must be a finite number > 0, got " + std::to_string(p.temperature));
  }
  if (p.top_k < 0) return Status::InvalidArgument("top_k must be >= 0 (0 disables), got " + std::to_string(p.top_k));
  if (!(p.top_p > 0 && p.top_p <= 1)) {
    return Status::InvalidArgument("top_p must lie in (0, 1], got " + std::to_string(p.top_p));
  }
  return Status::Ok();
}

Status SelectCandidates(std::span<const float> logits, const SamplingParams& p, SampleWorkspace& ws) {
  TT_RETURN_IF_ERROR(ValidateSamplingParams(p));
  if (logits.empty()) return Status::InvalidArgument("logits are empty");
  ws.ids.clear();
  float max_logit = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    if (std::isnan(l) || l == std::numeric_limits<float>::infinity()) {
      return Status::InvalidArgument("logit of token " + std::to_string(i) + " is " + (std::isnan(l) ? "NaN" : "+inf"));
    }
    max_logit = std::max(max_logit, l);
  }
  if (max_logit == -std::numeric_limits<float>::infinity()) {
    return Status::InvalidArgument("every logit is -inf: nothing can be sampled");
  }

  auto better = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  const double inv_t = 1.0 / p.temperature;
  auto weight = [&](int32_t id) { return std::exp((static_cast<double>(logits[id]) - max_logit) * inv_t); };

  bool sorted = false;
  const size_t top_k = static_cast<size_t>(p.top_k);
  if (top_k > 0 && top_k < logits.size()) {
    // Top-k in one pass with a heap of the k best seen so far (worst on
    // top): most tokens lose one comparison against the heap's worst.
    for (size_t i = 0; i < logits.size(); ++i) {
      const auto id = static_cast<int32_t>(i);
      if (logits[i] == -std::numeric_limits<float>::infinity()) continue;
      if (ws.ids.size() < top_k) {
        ws.ids.push_back(id);
        std::push_heap(ws.ids.begin(), ws.ids.end(), better);
      } else if (better(id, ws.ids.front())) {
        std::pop_heap(ws.ids.begin(), ws.ids.end(), better);
        ws.ids.back() = id;
        std::push_heap(ws.ids.begin(), ws.ids.end(), better);
      }
    }
    std::sort(ws.ids.begin(), ws.ids.end(), better);
    sorted = true;
  } else {
    for (size_t i = 0; i < logits.size(); ++i) {
      if (logits[i] != -std::numeric_limits<float>::infinity()) ws.ids.push_back(static_cast<int32_t>(i));
    }
  }
  size_t n = ws.ids.size();
  double z = 0;
  for (size_t i = 0; i < n; ++i) z += weight(ws.ids[i]);

  if (p.top_p < 1.0f) {
    // Nucleus: sort only as far as needed, doubling the sorted prefix.
    size_t k = sorted ? n : std::min<size_t>(n, 64);
    for (;;) {
      if (!sorted) std::partial_sort(ws.ids.begin(), ws.ids.begin() + k, ws.ids.end(), better);
      double cum = 0;
      size_t cut = 0;
      while (cut < k && cum < p.top_p * z) cum += weight(ws.ids[cut++]);
      if (cum >= p.top_p * z || k == n) {
        n = std::max<size_t>(cut, 1);
        break;
      }
      k = std::min(n, 2 * k);
    }
    ws.ids.resize(n);
    sorted = true;
  }
  ws.ids.resize(n);
  ws.probs.resize(n);
  double total = 0;
  for (size_t i = 0; i < n; ++i) total += ws.probs[i] = weight(ws.ids[i]);
  for (double& v : ws.probs) v /= total;
  return Status::Ok();
}

int32_t DrawCandidate(const SampleWorkspace& ws, uint64_t& rng) {
  double u = UniformDouble(rng);
  for (size_t i = 0; i < ws.ids.size(); ++i) {
    u -= ws.probs[i];
    if (u < 0) return ws.ids[i];
  }
  return ws.ids.back();  // rounding left a sliver of mass
}

}  // namespace telltale
