#include "audit/tuple_scorer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "audit/top1.h"
#include "detect/detector.h"
#include "detect/null_distribution.h"
#include "watermark/context_hash.h"

namespace telltale {
namespace {

constexpr size_t kBatch = 4096;

// Context of a token that follows prefix[0..len) (the tuple's own token is
// `token`). False when the prefix is too short for the scheme.
bool ContextAfter(const SchemeSpec& s, const int32_t* prefix, int64_t len, int32_t token, uint64_t* ctx) {
  if (s.family == SchemeFamily::kUnigram) {
    *ctx = 0;
    return true;
  }
  if (s.family == SchemeFamily::kKgw && s.seeding == Seeding::kSelf) {
    if (len < s.h - 1) return false;
    *ctx = SelfContextHash(prefix + len - (s.h - 1), s.h - 1, token);
    return true;
  }
  if (len < s.h) return false;
  *ctx = LeftContextHash(prefix + len - s.h, s.h);
  return true;
}

// The same tuple fingerprint as Detector's context+token dedup, so a tuple
// counts as the same tuple here and in `telltale detect`.
uint64_t TupleKey(uint64_t ctx, int32_t token) {
  return ctx ^ Fmix64(uint64_t{static_cast<uint32_t>(token)} | uint64_t{1} << 32);
}

}  // namespace

StatusOr<TupleScorer> TupleScorer::Create(std::span<const SecretKey* const> keys, const SchemeSpec& spec,
                                          TupleScorerOptions options) {
  if (keys.empty()) return Status::InvalidArgument("an audit needs at least one key");
  if (options.control_keys < 0 || options.control_keys > 64) {
    return Status::InvalidArgument("control keys must be between 0 and 64, got " +
                                   std::to_string(options.control_keys));
  }
  TupleScorer t(spec, std::move(options));
  t.ignored_ = t.options_.ignore_ids;
  std::sort(t.ignored_.begin(), t.ignored_.end());
  for (const SecretKey* k : keys) {
    if (k == nullptr) return Status::InvalidArgument("null key");
    TT_ASSIGN_OR_RETURN(KeyedPrf prf, KeyedPrf::Create(*k, spec));
    t.keys_.push_back(KeyState{k->KeyId(), false, std::move(prf)});
  }
  t.real_keys_ = static_cast<int>(t.keys_.size());
  for (int i = 0; i < t.options_.control_keys; ++i) {
    // The control key itself is dropped right away: only its PRF is needed,
    // and nobody should be able to reuse it.
    TT_ASSIGN_OR_RETURN(SecretKey k, SecretKey::Generate());
    TT_ASSIGN_OR_RETURN(KeyedPrf prf, KeyedPrf::Create(k, spec));
    t.keys_.push_back(KeyState{k.KeyId(), true, std::move(prf)});
  }
  t.pending_ctx_.reserve(kBatch);
  t.pending_tok_.reserve(kBatch);
  t.slots_.resize(kBatch);
  return t;
}

Status TupleScorer::CheckTokens(std::span<const int32_t> tokens, const char* what) const {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0) {
      return Status::InvalidArgument(std::string(what) + " token at position " + std::to_string(i) +
                                     " is negative (" + std::to_string(tokens[i]) + ")");
    }
  }
  return Status::Ok();
}

Status TupleScorer::Exclude(std::span<const int32_t> tokens) {
  TT_RETURN_IF_ERROR(CheckTokens(tokens, "prompt"));
  const int64_t n = static_cast<int64_t>(tokens.size());
  for (int64_t i = 0; i < n; ++i) {
    uint64_t ctx;
    if (ScoringContext(spec_, tokens.data(), i, &ctx)) excluded_.Insert(TupleKey(ctx, tokens[i]));
  }
  has_exclusions_ = excluded_.size() > 0;
  return Status::Ok();
}

void TupleScorer::Offer(uint64_t ctx, int32_t token, const TupleSet* local_exclude) {
  ++counts_.positions;
  if (!ignored_.empty() && std::binary_search(ignored_.begin(), ignored_.end(), token)) {
    ++counts_.ignored;
    return;
  }
  const uint64_t fp = TupleKey(ctx, token);
  if ((has_exclusions_ && excluded_.Contains(fp)) || (local_exclude != nullptr && local_exclude->Contains(fp))) {
    ++counts_.excluded;
    return;
  }
  if (options_.context_filter && !options_.context_filter(ctx)) {
    ++counts_.filtered;
    return;
  }
  if (!seen_.Insert(fp)) {
    ++counts_.duplicate;
    return;
  }
  ++counts_.scored;
  pending_ctx_.push_back(ctx);
  pending_tok_.push_back(token);
  if (pending_ctx_.size() == kBatch) Flush();
}

void TupleScorer::Flush() {
  const size_t n = pending_ctx_.size();
  if (n == 0) return;
  const bool gumbel = spec_.family == SchemeFamily::kGumbel;
  const uint32_t threshold = spec_.green_threshold();
  for (KeyState& k : keys_) {
    k.prf.TokenSlots(pending_ctx_.data(), pending_tok_.data(), n, slots_.data());
    if (gumbel) {
      // As in Detector: u / 2^32 rounds down, keeping the Gamma tail conservative.
      for (size_t i = 0; i < n; ++i) k.sum += -std::log1p(-static_cast<double>(slots_[i]) * 0x1.0p-32);
    } else {
      int64_t g = 0;
      for (size_t i = 0; i < n; ++i) g += slots_[i] < threshold;
      k.green += g;
    }
  }
  pending_ctx_.clear();
  pending_tok_.clear();
}

Status TupleScorer::AddSequence(std::span<const int32_t> tokens, int64_t prompt_tokens) {
  if (prompt_tokens < 0) return Status::InvalidArgument("prompt length must be >= 0");
  TT_RETURN_IF_ERROR(CheckTokens(tokens, "text"));
  const int64_t n = static_cast<int64_t>(tokens.size());
  for (int64_t i = std::min(prompt_tokens, n); i < n; ++i) {
    uint64_t ctx;
    if (!ScoringContext(spec_, tokens.data(), i, &ctx)) {
      ++counts_.positions;
      ++counts_.no_context;
      continue;
    }
    Offer(ctx, tokens[i], nullptr);
  }
  return Status::Ok();
}

Status TupleScorer::AddPredictions(std::span<const int32_t> inputs, std::span<const int32_t> predicted,
                                   int64_t first_position) {
  if (predicted.size() != inputs.size()) {
    return Status::InvalidArgument("reading mode needs one prediction per input token (" +
                                   std::to_string(inputs.size()) + " inputs, " + std::to_string(predicted.size()) +
                                   " predictions)");
  }
  if (first_position < 0) return Status::InvalidArgument("first position must be >= 0");
  TT_RETURN_IF_ERROR(CheckTokens(inputs, "input"));
  TT_RETURN_IF_ERROR(CheckTokens(predicted, "predicted"));
  TupleSet prefix;  // tuples of inputs[0..j], which the model saw
  const int64_t n = static_cast<int64_t>(inputs.size());
  const int32_t* in = inputs.data();
  for (int64_t j = 0; j < n; ++j) {
    uint64_t ctx;
    if (ScoringContext(spec_, in, j, &ctx)) prefix.Insert(TupleKey(ctx, in[j]));
    if (j < first_position) continue;
    if (!ContextAfter(spec_, in, j + 1, predicted[j], &ctx)) {
      ++counts_.positions;
      ++counts_.no_context;
      continue;
    }
    Offer(ctx, predicted[j], &prefix);
  }
  return Status::Ok();
}

Status TupleScorer::AddLogits(std::span<const int32_t> inputs, const float* logits, int64_t rows, int64_t vocab,
                              int64_t row_stride, int64_t first_position) {
  if (rows != static_cast<int64_t>(inputs.size())) {
    return Status::InvalidArgument("logits have " + std::to_string(rows) + " rows for " +
                                   std::to_string(inputs.size()) + " input tokens");
  }
  if (vocab <= 0 || row_stride < vocab) {
    return Status::InvalidArgument("logits need vocab >= 1 and row stride >= vocab (vocab " + std::to_string(vocab) +
                                   ", stride " + std::to_string(row_stride) + ")");
  }
  std::vector<int32_t> top(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    top[static_cast<size_t>(r)] = static_cast<int32_t>(Top1Index(logits + r * row_stride, vocab));
  }
  return AddPredictions(inputs, top, first_position);
}

AuditScores TupleScorer::Scores() {
  Flush();
  AuditScores out;
  out.counts = counts_;
  const bool gumbel = spec_.family == SchemeFamily::kGumbel;
  const int64_t n = counts_.scored;
  const double gamma = spec_.gamma();
  std::vector<double> real_ln;
  for (const KeyState& k : keys_) {
    KeyScore s;
    s.key_id = k.key_id;
    s.control = k.control;
    s.scored = n;
    s.score = gumbel ? k.sum : static_cast<double>(k.green);
    s.expected = gumbel ? static_cast<double>(n) : static_cast<double>(n) * gamma;
    const double var = gumbel ? static_cast<double>(n) : static_cast<double>(n) * gamma * (1 - gamma);
    s.z = n == 0 ? 0.0 : (s.score - s.expected) / std::sqrt(var);
    const double ln_p = LogNullTail(spec_, s.score, n);
    s.log10_p = ln_p * kLog10E;
    s.holm_log10_p = s.log10_p;
    if (!k.control) real_ln.push_back(ln_p);
    out.keys.push_back(std::move(s));
  }
  const std::vector<double> holm = HolmAdjustLog(real_ln);
  for (int i = 0; i < real_keys_; ++i) {
    out.keys[static_cast<size_t>(i)].holm_log10_p = holm[static_cast<size_t>(i)] * kLog10E;
  }
  if (n > 0) {
    out.best = 0;
    for (int i = 1; i < real_keys_; ++i) {
      if (out.keys[static_cast<size_t>(i)].log10_p < out.keys[static_cast<size_t>(out.best)].log10_p) out.best = i;
    }
    // A run that looked L times without stopping is judged at one more look.
    out.looks = looks_ + (looks_ > 0 && !stopped_ ? 1 : 0);
    // Look l spends alpha / (l (l + 1)) of the level; these sum to alpha over
    // any number of looks, so stopping at the first success keeps the level.
    const double l = out.looks;
    out.sequential_log10_p = std::min(
        0.0, out.keys[static_cast<size_t>(out.best)].holm_log10_p + (out.looks > 0 ? std::log10(l * (l + 1)) : 0.0));
  }
  return out;
}

bool TupleScorer::Look(double target_log10_p) {
  if (counts_.scored < next_look_) return false;
  while (next_look_ <= counts_.scored) next_look_ *= 2;
  ++looks_;
  stopped_ = true;  // evaluated as if stopping here
  const AuditScores s = Scores();
  stopped_ = s.best >= 0 && s.sequential_log10_p <= target_log10_p;
  return stopped_;
}

}  // namespace telltale
