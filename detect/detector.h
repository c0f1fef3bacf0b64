// Detector: scores a token sequence against one key and scheme and returns
// an exact p-value under the null "this text was produced independently of
// the key".
//
// Scoring: position i is scored when the scheme has enough context before it
// (ScoringContext), it is past the prompt, its token is not an ignored
// (special) id, and its dedup tuple is new. Dedup modes:
//  - kContextToken (default): each (context, token) tuple counts once.
//  - kContext: each context window counts once (pairs with skip_repeat).
//  - kNone: every position counts. Repeated tuples have identical PRF values,
//    so the scores are no longer independent and the p-value is NOT valid;
//    this mode exists to show why dedup is on by default.
// Scores and nulls:
//  - kgw/unigram: score = green count k of n scored; p = P(Bin(n, G/65536) >= k).
//  - gumbel: score = sum of -log(1 - u/2^32) over n scored; each term is
//    stochastically <= Exp(1), so p = P(Gamma(n, 1) >= score) is exact up to
//    that (conservative) 2^-32 discretization.
// z is for display only. log10_p is always finite or -inf-free: it is the
// reported quantity when p underflows (p_value is then 0).
//
// Window search (optional): also tests windows of scored tokens of lengths
// min_window * 2^j (stride half a window, plus the window ending at the last
// token and the whole sequence) and reports the best window with a
// Bonferroni correction by the number M of windows tested:
// p_window = min(1, M * min p). The union bound keeps it valid for any
// dependence between windows.
//
// Ownership: owns its PRF (key schedule wiped on destruction); move-only.
// Thread-safety: Score is const and may run concurrently; it allocates its
// own scratch per call.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/secret_key.h"
#include "watermark/context_hash.h"
#include "watermark/keyed_prf.h"
#include "watermark/scheme_spec.h"

namespace telltale {

enum class DedupMode { kNone, kContext, kContextToken };
StatusOr<DedupMode> ParseDedupMode(std::string_view name);
std::string_view DedupModeName(DedupMode mode);

struct DetectOptions {
  DedupMode dedup = DedupMode::kContextToken;
  int64_t prompt_tokens = 0;            // leading tokens: context only, never scored
  std::vector<int32_t> ignore_ids;      // special tokens: never scored (still context)
  bool window_search = false;
  int32_t min_window = 32;              // scored tokens in the smallest window
  // With window_search: also fill Detection::spans with the windows whose
  // corrected log10 p is at most this (detect/window_search.h). Unset: none.
  std::optional<double> span_log10_threshold;
  bool per_token = true;                // fill token_scores / token_mask
};

// Why a token was or was not scored (token_mask values).
enum TokenMark : int8_t {
  kMarkRed = 0,          // scored, at or below the null median (kgw: red)
  kMarkGreen = 1,        // scored, above the null median (kgw: green)
  kMarkNoContext = -1,   // in the prompt, or too little context before it
  kMarkIgnored = -2,     // an ignored special token
  kMarkDuplicate = -3,   // its dedup tuple was already scored
};

struct WindowMatch {
  int64_t begin = 0, end = 0;  // token positions [begin, end)
  int64_t scored = 0;
  double score = 0;
  double log10_p = 0;          // of this window alone
  double log10_p_corrected = 0;  // Bonferroni over windows_tested
  int64_t windows_tested = 0;
};

struct Detection {
  int64_t tokens = 0, scored = 0;
  int64_t candidates = 0;  // positions with a scoring tuple, before dedup (scored <= candidates)
  double score = 0, expected = 0, z = 0;
  double log10_p = 0;  // exact; 0 when nothing was scored
  double p_value = 1;  // 10^log10_p, 0 on underflow
  std::vector<float> token_scores;  // per token; NaN where not scored
  std::vector<int8_t> token_mask;   // TokenMark per token
  std::optional<WindowMatch> window;
  std::vector<WindowMatch> spans;  // see DetectOptions::span_log10_threshold
};

// One position Score would test, before any dedup: the PRF context of the
// token and the token itself (see ScoringTuples).
struct ScoringTuple {
  uint64_t context;
  int32_t token;
  int64_t position;
};

// The (context, token) dedup fingerprint of kContextToken mode. The corpus
// test (scan/corpus_test.h) dedups with the same value across documents.
inline uint64_t TupleFingerprint(uint64_t context, int32_t token) {
  return context ^ Fmix64(uint64_t{static_cast<uint32_t>(token)} | uint64_t{1} << 32);
}

// Receives the tuples a multi-key score counted (fresh under the document's
// dedup), in position order and in chunks: their TupleFingerprint and token.
using TupleSink = std::function<void(std::span<const uint64_t> fingerprints, std::span<const int32_t> tokens)>;

class Detector {
 public:
  static StatusOr<Detector> Create(const SecretKey& key, const SchemeSpec& spec);

  const SchemeSpec& spec() const { return spec_; }
  const std::string& key_id() const { return key_id_; }

  // Fails with InvalidArgument on negative token ids, a negative prompt
  // length, min_window < 1, or context dedup with unigram.
  StatusOr<Detection> Score(std::span<const int32_t> tokens, const DetectOptions& options) const;

  // Score under each of `detectors` (which must share one scheme), equal
  // field for field to calling Score per key, but the key-independent work
  // (contexts, dedup, marks) is done once. With `sink`, also hands it every
  // scored tuple (the corpus test's input; needs dedup context+token or none,
  // since context dedup drops tuples the corpus test must still see).
  // Fails like Score, and on an empty list, a null detector or mixed schemes.
  static StatusOr<std::vector<Detection>> ScoreKeys(std::span<const Detector* const> detectors,
                                                    std::span<const int32_t> tokens, const DetectOptions& options,
                                                    const TupleSink* sink = nullptr);
  // ScoreKeys into *out, resized to the key count; the Detections are reset
  // but the vector's storage is reused (a scan scores millions of documents).
  static Status ScoreKeysInto(std::span<const Detector* const> detectors, std::span<const int32_t> tokens,
                              const DetectOptions& options, const TupleSink* sink, std::vector<Detection>* out);

  // The positions Score would consider, in order, before dedup: past the
  // prompt, not an ignored id, with enough context. Key-independent (the
  // context hash is unkeyed). Validates tokens and options like Score.
  StatusOr<std::vector<ScoringTuple>> ScoringTuples(std::span<const int32_t> tokens,
                                                    const DetectOptions& options) const;

  // values[i] = the score Score gives the tuple (contexts[i], tokens[i]):
  // 0/1 green indicator (kgw, unigram) or -log(1 - u/2^32) (gumbel). The
  // null of a sum of n such values is LogNullTail(spec(), sum, n). Tokens
  // must be non-negative.
  void TupleValues(const uint64_t* contexts, const int32_t* tokens, size_t n, double* values) const;

 private:
  // out[j] receives detectors[j]'s Detection.
  static Status ScoreKeysInto(std::span<const Detector* const> detectors, std::span<const int32_t> tokens,
                              const DetectOptions& options, const TupleSink* sink, Detection* out);
  Detector(SchemeSpec spec, KeyedPrf prf, std::string key_id)
      : spec_(spec), prf_(std::move(prf)), key_id_(std::move(key_id)) {}
  SchemeSpec spec_;
  KeyedPrf prf_;
  std::string key_id_;
};

// p-value of `score` over `n` scored tokens under the scheme's null (natural log).
double LogNullTail(const SchemeSpec& spec, double score, int64_t n);

}  // namespace telltale
