#include "detect/detector.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "detect/fingerprint_set.h"
#include "detect/null_distribution.h"
#include "detect/window_search.h"
#include "watermark/context_hash.h"

namespace telltale {

StatusOr<DedupMode> ParseDedupMode(std::string_view name) {
  if (name == "none") return DedupMode::kNone;
  if (name == "context") return DedupMode::kContext;
  if (name == "context+token" || name == "context-token") return DedupMode::kContextToken;
  return Status::InvalidArgument("dedup mode '" + std::string(name) + "' is not one of none, context, context+token");
}

std::string_view DedupModeName(DedupMode mode) {
  switch (mode) {
    case DedupMode::kNone: return "none";
    case DedupMode::kContext: return "context";
    case DedupMode::kContextToken: return "context+token";
  }
  return "?";
}

double LogNullTail(const SchemeSpec& spec, double score, int64_t n) {
  if (spec.family == SchemeFamily::kGumbel) return LogGammaUpperTail(score, n);
  return LogBinomialUpperTail(static_cast<int64_t>(std::llround(score)), n, spec.gamma_q16 / 65536.0);
}

StatusOr<Detector> Detector::Create(const SecretKey& key, const SchemeSpec& spec) {
  TT_ASSIGN_OR_RETURN(KeyedPrf prf, KeyedPrf::Create(key, spec));
  return Detector(spec, std::move(prf), key.KeyId());
}

StatusOr<Detection> Detector::Score(std::span<const int32_t> tokens, const DetectOptions& opt) const {
  if (opt.prompt_tokens < 0) return Status::InvalidArgument("prompt length must be >= 0");
  if (opt.min_window < 1) return Status::InvalidArgument("min_window must be >= 1");
  const int repeat_window = RepeatWindow(spec_);
  if (opt.dedup == DedupMode::kContext && repeat_window == 0) {
    return Status::InvalidArgument(std::string(SchemeFamilyName(spec_.family)) +
                                   " has no context window: use dedup context+token or none");
  }
  const int64_t n = static_cast<int64_t>(tokens.size());
  for (int64_t i = 0; i < n; ++i) {
    if (tokens[i] < 0) {
      return Status::InvalidArgument("token at position " + std::to_string(i) + " is negative (" +
                                     std::to_string(tokens[i]) + ")");
    }
  }
  std::vector<int32_t> ignored(opt.ignore_ids);
  std::sort(ignored.begin(), ignored.end());

  Detection d;
  d.tokens = n;
  if (opt.per_token) {
    d.token_mask.assign(static_cast<size_t>(n), kMarkNoContext);
    d.token_scores.assign(static_cast<size_t>(n), std::numeric_limits<float>::quiet_NaN());
  }
  FingerprintSet seen;
  seen.Reset(static_cast<size_t>(n));
  // Scored positions are gathered 256 at a time on the stack and encrypted
  // in one batch; per-position values are kept only for window search.
  constexpr size_t kChunk = 256;
  uint64_t ctx_buf[kChunk];
  int32_t id_buf[kChunk];
  int64_t pos_buf[kChunk];
  uint32_t slot_buf[kChunk];
  size_t fill = 0;
  std::vector<double> values;
  std::vector<int64_t> positions;
  const bool gumbel = spec_.family == SchemeFamily::kGumbel;
  const uint32_t threshold = spec_.green_threshold();
  int64_t m = 0, green = 0;
  double gumbel_sum = 0;
  const bool count_only = !gumbel && !opt.per_token && !opt.window_search;
  auto flush = [&] {
    prf_.TokenSlots(ctx_buf, id_buf, fill, slot_buf);
    if (count_only) {  // the common scan path: a vectorizable count
      int64_t g = 0;
      for (size_t k = 0; k < fill; ++k) g += slot_buf[k] < threshold;
      green += g;
      m += static_cast<int64_t>(fill);
      fill = 0;
      return;
    }
    for (size_t k = 0; k < fill; ++k) {
      double v;
      if (gumbel) {
        // r = u / 2^32 rounds the uniform down, so -log(1-r) is
        // stochastically below Exp(1) and the Gamma tail stays conservative.
        v = -std::log1p(-static_cast<double>(slot_buf[k]) * 0x1.0p-32);
        gumbel_sum += v;
      } else {
        const bool g = slot_buf[k] < threshold;
        green += g;
        v = g ? 1.0 : 0.0;
      }
      if (opt.per_token) {
        d.token_scores[pos_buf[k]] = static_cast<float>(v);
        d.token_mask[pos_buf[k]] = (gumbel ? v > std::log(2.0) : v > 0) ? kMarkGreen : kMarkRed;
      }
      if (opt.window_search) {
        values.push_back(v);
        positions.push_back(pos_buf[k]);
      }
    }
    m += static_cast<int64_t>(fill);
    fill = 0;
  };
  const int32_t* t = tokens.data();
  for (int64_t i = std::min(opt.prompt_tokens, n); i < n; ++i) {
    if (!ignored.empty() && std::binary_search(ignored.begin(), ignored.end(), t[i])) {
      if (opt.per_token) d.token_mask[i] = kMarkIgnored;
      continue;
    }
    uint64_t ctx;
    if (!ScoringContext(spec_, t, i, &ctx)) continue;
    // Always stage the tuple and advance by `fresh`: whether a tuple repeats
    // is data-dependent, and a branch on it mispredicts often enough to cost
    // more than the rest of the per-token work.
    bool fresh = true;
    if (opt.dedup != DedupMode::kNone) {
      const uint64_t fp = opt.dedup == DedupMode::kContext
                              ? LeftContextHash(t + i - repeat_window, repeat_window)
                              : TupleFingerprint(ctx, t[i]);
      fresh = seen.Insert(fp);
      if (opt.per_token && !fresh) d.token_mask[i] = kMarkDuplicate;
    }
    ctx_buf[fill] = ctx;
    id_buf[fill] = t[i];
    pos_buf[fill] = i;
    fill += fresh;
    if (fill == kChunk) flush();
  }
  flush();
  const double total = gumbel ? gumbel_sum : static_cast<double>(green);
  d.scored = m;
  d.score = total;
  const double gamma = gumbel ? 1.0 : spec_.gamma();
  const double mean = gumbel ? static_cast<double>(m) : static_cast<double>(m) * gamma;
  const double var = gumbel ? static_cast<double>(m) : static_cast<double>(m) * gamma * (1 - gamma);
  d.expected = mean;
  d.z = m == 0 ? 0.0 : (total - mean) / std::sqrt(var);
  d.log10_p = LogNullTail(spec_, total, d.scored) * kLog10E;
  d.p_value = std::pow(10.0, d.log10_p);
  if (opt.window_search) {
    WindowAnalysis w = AnalyzeWindows(spec_, values, positions, opt.min_window, opt.span_log10_threshold);
    d.window = w.best;
    d.spans = std::move(w.spans);
  }
  return d;
}

StatusOr<std::vector<ScoringTuple>> Detector::ScoringTuples(std::span<const int32_t> tokens,
                                                            const DetectOptions& opt) const {
  if (opt.prompt_tokens < 0) return Status::InvalidArgument("prompt length must be >= 0");
  const int64_t n = static_cast<int64_t>(tokens.size());
  for (int64_t i = 0; i < n; ++i) {
    if (tokens[i] < 0) {
      return Status::InvalidArgument("token at position " + std::to_string(i) + " is negative (" +
                                     std::to_string(tokens[i]) + ")");
    }
  }
  std::vector<int32_t> ignored(opt.ignore_ids);
  std::sort(ignored.begin(), ignored.end());
  std::vector<ScoringTuple> out;
  out.reserve(static_cast<size_t>(n));
  const int32_t* t = tokens.data();
  for (int64_t i = std::min(opt.prompt_tokens, n); i < n; ++i) {
    if (!ignored.empty() && std::binary_search(ignored.begin(), ignored.end(), t[i])) continue;
    uint64_t ctx;
    if (!ScoringContext(spec_, t, i, &ctx)) continue;
    out.push_back({ctx, t[i], i});
  }
  return out;
}

void Detector::TupleValues(const uint64_t* contexts, const int32_t* tokens, size_t n, double* values) const {
  constexpr size_t kChunk = 256;
  uint32_t slots[kChunk];
  const bool gumbel = spec_.family == SchemeFamily::kGumbel;
  const uint32_t threshold = spec_.green_threshold();
  for (size_t base = 0; base < n; base += kChunk) {
    const size_t m = std::min(kChunk, n - base);
    prf_.TokenSlots(contexts + base, tokens + base, m, slots);
    for (size_t k = 0; k < m; ++k) {
      // Same formulas as Score's flush(), so sums match exactly.
      values[base + k] = gumbel ? -std::log1p(-static_cast<double>(slots[k]) * 0x1.0p-32)
                                : (slots[k] < threshold ? 1.0 : 0.0);
    }
  }
}

}  // namespace telltale
