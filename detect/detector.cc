#include "detect/detector.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "common/small_buffer.h"
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
  const int64_t k = static_cast<int64_t>(std::llround(score));
  // Per-document scoring asks for the same few (k, n) again and again (short
  // documents, two keys each), and the tail costs ~100 ns (three lgamma and
  // a sum); per-thread memos of exact previous answers return them in a
  // few. Same inputs, same function: the values are bit-identical.
  //
  // Small n (most documents of a scan) index a triangle of n * (n + 1) / 2 + k
  // per gamma, 8 bytes an entry, filled on first use: no conflicts, and the
  // entries in use are a few cache lines (the hashed memo below spread them
  // over 128 KiB, a cache miss per document and key in a scan).
  constexpr int64_t kTriangleN = 128;
  if (n >= 0 && n < kTriangleN && k >= 0 && k <= n) {
    struct Triangle {
      uint32_t gamma_q16;
      std::vector<double> log_p;  // NaN: not computed yet
    };
    thread_local std::vector<Triangle> triangles;  // one per gamma, the most recent last
    size_t t = triangles.size();
    while (t > 0 && triangles[t - 1].gamma_q16 != spec.gamma_q16) --t;
    if (t == 0) {
      if (triangles.size() == 4) triangles.erase(triangles.begin());
      triangles.push_back({spec.gamma_q16, std::vector<double>(kTriangleN * (kTriangleN + 1) / 2,
                                                                std::numeric_limits<double>::quiet_NaN())});
      t = triangles.size();
    }
    double& v = triangles[t - 1].log_p[static_cast<size_t>(n * (n + 1) / 2 + k)];
    if (std::isnan(v)) v = LogBinomialUpperTail(k, n, spec.gamma());
    return v;
  }
  struct Entry {
    int64_t k = -1, n = -1;
    uint32_t gamma_q16 = 0;
    double log_p = 0;
  };
  constexpr size_t kEntries = 4096;  // 96 KiB per thread, of which only the entries in use are touched
  thread_local std::unique_ptr<Entry[]> memo(new Entry[kEntries]);
  Entry& e = memo[static_cast<size_t>(Fmix64(static_cast<uint64_t>(n) << 32 ^ static_cast<uint64_t>(k) ^
                                             uint64_t{spec.gamma_q16} << 48)) &
                  (kEntries - 1)];
  if (e.k == k && e.n == n && e.gamma_q16 == spec.gamma_q16) return e.log_p;
  const double log_p = LogBinomialUpperTail(k, n, spec.gamma());
  e = Entry{k, n, spec.gamma_q16, log_p};
  return log_p;
}

StatusOr<Detector> Detector::Create(const SecretKey& key, const SchemeSpec& spec) {
  TT_ASSIGN_OR_RETURN(KeyedPrf prf, KeyedPrf::Create(key, spec));
  return Detector(spec, std::move(prf), key.KeyId());
}

StatusOr<Detection> Detector::Score(std::span<const int32_t> tokens, const DetectOptions& opt) const {
  Detection d;
  const Detector* self = this;
  TT_RETURN_IF_ERROR(ScoreKeysInto({&self, 1}, tokens, opt, nullptr, &d));
  return d;
}

Status Detector::ScoreKeysInto(std::span<const Detector* const> detectors, std::span<const int32_t> tokens,
                               const DetectOptions& opt, const TupleSink* sink, std::vector<Detection>* out) {
  out->resize(detectors.size());
  return ScoreKeysInto(detectors, tokens, opt, sink, out->data());
}

StatusOr<std::vector<Detection>> Detector::ScoreKeys(std::span<const Detector* const> detectors,
                                                     std::span<const int32_t> tokens, const DetectOptions& opt,
                                                     const TupleSink* sink) {
  std::vector<Detection> out(detectors.size());
  TT_RETURN_IF_ERROR(ScoreKeysInto(detectors, tokens, opt, sink, out.data()));
  return out;
}

Status Detector::ScoreKeysInto(std::span<const Detector* const> detectors, std::span<const int32_t> tokens,
                               const DetectOptions& opt, const TupleSink* sink, Detection* out) {
  if (detectors.empty()) return Status::InvalidArgument("scoring needs at least one key");
  for (const Detector* det : detectors) {
    if (det == nullptr) return Status::InvalidArgument("scoring: null detector");
    if (!(det->spec_ == detectors[0]->spec_)) {
      return Status::InvalidArgument("scoring several keys at once needs one scheme (" +
                                     detectors[0]->spec_.ToString() + " vs " + det->spec_.ToString() + ")");
    }
  }
  const SchemeSpec& spec = detectors[0]->spec_;
  if (opt.prompt_tokens < 0) return Status::InvalidArgument("prompt length must be >= 0");
  if (opt.min_window < 1) return Status::InvalidArgument("min_window must be >= 1");
  const int repeat_window = RepeatWindow(spec);
  if (opt.dedup == DedupMode::kContext && repeat_window == 0) {
    return Status::InvalidArgument(std::string(SchemeFamilyName(spec.family)) +
                                   " has no context window: use dedup context+token or none");
  }
  if (sink != nullptr && opt.dedup == DedupMode::kContext) {
    return Status::InvalidArgument("a tuple sink needs dedup context+token or none");
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

  // The key-independent work (contexts, dedup, marks of unscored positions)
  // is done once for all keys; each key then only encrypts and counts.
  const size_t keys = detectors.size();
  for (size_t j = 0; j < keys; ++j) {
    out[j] = Detection{};
    out[j].tokens = n;
    if (opt.per_token) {
      out[j].token_mask.assign(static_cast<size_t>(n), kMarkNoContext);
      out[j].token_scores.assign(static_cast<size_t>(n), std::numeric_limits<float>::quiet_NaN());
    }
  }
  auto mark_all = [&](int64_t i, int8_t mark) {
    for (size_t j = 0; j < keys; ++j) out[j].token_mask[static_cast<size_t>(i)] = mark;
  };
  // Per thread: a scan scores every short document, and a fresh table per
  // document was a malloc, a memset and a free each time. A sink that scores
  // again from inside this call gets a table of its own.
  thread_local FingerprintSet thread_seen;
  thread_local bool thread_seen_busy = false;
  FingerprintSet nested_seen;
  const bool use_thread_seen = !thread_seen_busy;
  FingerprintSet& seen = use_thread_seen ? thread_seen : nested_seen;
  struct BusyGuard {
    bool active;
    ~BusyGuard() {
      if (active) thread_seen_busy = false;
    }
  } busy_guard{use_thread_seen};
  thread_seen_busy = true;
  seen.Reset(static_cast<size_t>(n));
  // Scored positions are gathered 256 at a time on the stack and encrypted
  // in one batch per key; per-position values are kept only for window search.
  constexpr size_t kChunk = 256;
  uint64_t ctx_buf[kChunk];
  int32_t id_buf[kChunk];
  int64_t pos_buf[kChunk];
  uint64_t fp_buf[kChunk];
  uint32_t slot_buf[kChunk];
  size_t fill = 0;
  std::vector<std::vector<double>> values(opt.window_search ? keys : 0);
  std::vector<int64_t> positions;
  const bool gumbel = spec.family == SchemeFamily::kGumbel;
  const uint32_t threshold = spec.green_threshold();
  // Per-key sums on the stack for up to 16 keys (a scan scores every short
  // document).
  SmallBuffer<int64_t, 16> green(keys);
  SmallBuffer<double, 16> gumbel_sum(keys);
  int64_t m = 0, candidates = 0;
  const bool count_only = !gumbel && !opt.per_token && !opt.window_search;
  const bool need_fp = sink != nullptr || opt.dedup == DedupMode::kContextToken;
  auto flush = [&] {
    if (sink != nullptr && fill > 0) (*sink)(std::span<const uint64_t>(fp_buf, fill), std::span<const int32_t>(id_buf, fill));
    if (opt.window_search) positions.insert(positions.end(), pos_buf, pos_buf + fill);
    for (size_t j = 0; j < keys; ++j) {
      detectors[j]->prf_.TokenSlots(ctx_buf, id_buf, fill, slot_buf);
      if (count_only) {  // the common scan path: a vectorizable count
        int64_t g = 0;
        for (size_t k = 0; k < fill; ++k) g += slot_buf[k] < threshold;
        green[j] += g;
        continue;
      }
      Detection& d = out[j];
      for (size_t k = 0; k < fill; ++k) {
        double v;
        if (gumbel) {
          // r = u / 2^32 rounds the uniform down, so -log(1-r) is
          // stochastically below Exp(1) and the Gamma tail stays conservative.
          v = -std::log1p(-static_cast<double>(slot_buf[k]) * 0x1.0p-32);
          gumbel_sum[j] += v;
        } else {
          const bool g = slot_buf[k] < threshold;
          green[j] += g;
          v = g ? 1.0 : 0.0;
        }
        if (opt.per_token) {
          d.token_scores[pos_buf[k]] = static_cast<float>(v);
          d.token_mask[pos_buf[k]] = (gumbel ? v > std::log(2.0) : v > 0) ? kMarkGreen : kMarkRed;
        }
        if (opt.window_search) values[j].push_back(v);
      }
    }
    m += static_cast<int64_t>(fill);
    fill = 0;
  };
  const int32_t* t = tokens.data();
  for (int64_t i = std::min(opt.prompt_tokens, n); i < n; ++i) {
    if (!ignored.empty() && std::binary_search(ignored.begin(), ignored.end(), t[i])) {
      if (opt.per_token) mark_all(i, kMarkIgnored);
      continue;
    }
    uint64_t ctx;
    if (!ScoringContext(spec, t, i, &ctx)) continue;
    ++candidates;
    // Always stage the tuple and advance by `fresh`: whether a tuple repeats
    // is data-dependent, and a branch on it mispredicts often enough to cost
    // more than the rest of the per-token work.
    bool fresh = true;
    const uint64_t fp = need_fp ? TupleFingerprint(ctx, t[i]) : 0;
    if (opt.dedup != DedupMode::kNone) {
      fresh = seen.Insert(opt.dedup == DedupMode::kContext ? LeftContextHash(t + i - repeat_window, repeat_window) : fp);
      if (opt.per_token && !fresh) mark_all(i, kMarkDuplicate);
    }
    ctx_buf[fill] = ctx;
    id_buf[fill] = t[i];
    pos_buf[fill] = i;
    fp_buf[fill] = fp;
    fill += fresh;
    if (fill == kChunk) flush();
  }
  flush();
  for (size_t j = 0; j < keys; ++j) {
    Detection& d = out[j];
    const double total = gumbel ? gumbel_sum[j] : static_cast<double>(green[j]);
    d.scored = m;
    d.candidates = candidates;
    d.score = total;
    const double gamma = gumbel ? 1.0 : spec.gamma();
    const double mean = gumbel ? static_cast<double>(m) : static_cast<double>(m) * gamma;
    const double var = gumbel ? static_cast<double>(m) : static_cast<double>(m) * gamma * (1 - gamma);
    d.expected = mean;
    d.z = m == 0 ? 0.0 : (total - mean) / std::sqrt(var);
    d.log10_p = LogNullTail(spec, total, d.scored) * kLog10E;
    d.p_value = std::pow(10.0, d.log10_p);
    if (opt.window_search) {
      WindowAnalysis w = AnalyzeWindows(spec, values[j], positions, opt.min_window, opt.span_log10_threshold);
      d.window = w.best;
      d.spans = std::move(w.spans);
    }
  }
  return Status::Ok();
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
