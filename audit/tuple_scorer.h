// TupleScorer: the radioactivity test of Sander et al. (2024) over a stream
// of (context, token) tuples, under several keys at once plus fresh random
// control keys.
//
// Every tuple is the scheme's unkeyed context hash c (ScoringContext) and a
// token t. A tuple is scored once (global dedup over all inputs), so under
// the null "the suspect is independent of the key" the scored tuples carry
// independent PRF values and the Detector's exact nulls apply unchanged:
// kgw/unigram green count ~ Bin(n, gamma), gumbel sum ~ Gamma(n, 1).
//
// Three ways a tuple is dropped before dedup, each counted:
//  - excluded: it occurs in the key-dependent material the suspect was
//    shown. Closed mode: every tuple of every prompt (Exclude()); a clean
//    model copying a watermarked prompt would otherwise look radioactive.
//    Reading mode: a predicted tuple equal to a tuple of the input prefix
//    the model saw (an induction head copying earlier green tuples).
//    Excluded tuples are not entered into the dedup set, so a later,
//    independent occurrence can still be scored.
//  - filtered: the optional context filter (the generation-side sketch)
//    rejects c.
//  - no context: fewer previous tokens than the scheme needs.
//
// Controls: `control_keys` fresh keys from the CSPRNG score the same tuples;
// they show what "no signal" looks like on exactly this data. Holm's
// adjustment runs over the real keys only.
//
// Early stopping: Look() evaluates the best real key at geometrically
// spaced tuple counts (256, 512, ...). Look l rejects when its Holm p times
// l(l+1) reaches the target: the per-look levels alpha/(l(l+1)) sum to
// alpha however many looks are taken, so stopping at the first significant
// look keeps the level (union bound). A plain factor l would not: the
// levels alpha/l sum to alpha * ln L.
//
// Ownership: owns the keys' PRFs and the control keys. Move-only.
// Thread-safety: none; feed one scorer from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/secret_key.h"
#include "audit/tuple_set.h"
#include "watermark/keyed_prf.h"
#include "watermark/scheme_spec.h"

namespace telltale {

struct TupleScorerOptions {
  int control_keys = 1;
  // Optional supervised filter: only tuples whose context hash passes count.
  std::function<bool(uint64_t context_hash)> context_filter;
  std::vector<int32_t> ignore_ids;  // never scored as the predicted token (still context)
};

struct KeyScore {
  std::string key_id;
  bool control = false;
  int64_t scored = 0;
  double score = 0, expected = 0, z = 0;
  double log10_p = 0;
  double holm_log10_p = 0;  // real keys: Holm over real keys; controls: = log10_p
};

struct TupleCounts {
  int64_t positions = 0;   // candidate tuples offered
  int64_t no_context = 0;
  int64_t ignored = 0;
  int64_t excluded = 0;
  int64_t filtered = 0;
  int64_t duplicate = 0;
  int64_t scored = 0;      // unique tuples scored (same for every key)
};

struct AuditScores {
  std::vector<KeyScore> keys;  // real keys in the order given, then controls
  int best = -1;               // index of the best real key (smallest p), -1 when none scored
  TupleCounts counts;
  int looks = 0;                  // looks L: Look() evaluations, plus the final one unless a Look stopped
  double sequential_log10_p = 0;  // best key's Holm log10 p + log10(L (L + 1)) (L = 0: + 0; capped at 0)
};

class TupleScorer {
 public:
  // keys: the real keys (at least one); all share `spec`.
  static StatusOr<TupleScorer> Create(std::span<const SecretKey* const> keys, const SchemeSpec& spec,
                                      TupleScorerOptions options);

  const SchemeSpec& spec() const { return spec_; }

  // Marks every tuple of `tokens` (a prompt shown to the suspect) excluded.
  Status Exclude(std::span<const int32_t> tokens);
  // Scores the tuples of a text the suspect produced: positions >=
  // prompt_tokens (the prompt is context only).
  Status AddSequence(std::span<const int32_t> tokens, int64_t prompt_tokens);
  // Reading mode: predicted[j] is the suspect's top-1 next token after
  // inputs[0..j]; it is scored with the previous h INPUT tokens as context.
  // Positions j < first_position are skipped (e.g. a prompt).
  // predicted.size() must equal inputs.size().
  Status AddPredictions(std::span<const int32_t> inputs, std::span<const int32_t> predicted,
                        int64_t first_position = 0);
  // Reading mode from raw logits (rows x vocab, row r at logits + r *
  // row_stride, predicting the token after inputs[r]); the top-1 is taken
  // natively (NaN never wins; ties go to the lowest id).
  Status AddLogits(std::span<const int32_t> inputs, const float* logits, int64_t rows, int64_t vocab,
                   int64_t row_stride, int64_t first_position = 0);

  // Current results (flushes pending tuples).
  AuditScores Scores();
  // Early-stopping check at geometric checkpoints: returns true when a look
  // is due and the best real key's sequential log10 p <= target_log10_p.
  bool Look(double target_log10_p);

 private:
  struct KeyState {
    std::string key_id;
    bool control;
    KeyedPrf prf;
    int64_t green = 0;
    double sum = 0;
  };
  TupleScorer(SchemeSpec spec, TupleScorerOptions options) : spec_(spec), options_(std::move(options)) {}
  // Offers one tuple whose context is already computed.
  void Offer(uint64_t ctx, int32_t token, const TupleSet* local_exclude);
  void Flush();
  Status CheckTokens(std::span<const int32_t> tokens, const char* what) const;

  SchemeSpec spec_;
  TupleScorerOptions options_;
  std::vector<int32_t> ignored_;  // sorted
  std::vector<KeyState> keys_;
  int real_keys_ = 0;
  TupleSet seen_;
  TupleSet excluded_;
  bool has_exclusions_ = false;
  std::vector<uint64_t> pending_ctx_;
  std::vector<int32_t> pending_tok_;
  std::vector<uint32_t> slots_;
  TupleCounts counts_;
  int looks_ = 0;
  bool stopped_ = false;  // the last Look reached the target
  int64_t next_look_ = 256;
};

}  // namespace telltale
