// GgufReader: reading-mode audits of an open-weights GGUF model through
// libllama (issue 8, "telltale audit model --gguf").
//
// Read() teacher-forces one token sequence: each window is one llama_batch
// with logits requested for every position, decoded on a cleared KV cache;
// the top-1 of every row (audit/top1.h, the rule TupleScorer::AddLogits
// uses too) goes to TupleScorer::AddPredictions, which scores
// (previous h input tokens, predicted token). Texts
// longer than the context are cut into windows of n_ctx tokens that overlap
// by `overlap` tokens (at least the scheme's h): the overlap is context only,
// so every position of the text is offered to the scorer exactly once and
// no position loses its h-token scoring context at a window boundary.
//
// Errors: a missing, unreadable or non-GGUF file, a file libllama rejects
// (its last error line is quoted), a token id outside the GGUF vocabulary,
// an empty sequence: InvalidArgument with one line naming what and where.
//
// Ownership: owns the libllama model, context and batch. libllama's global
// log callback is replaced (errors are kept for the Status, not printed).
// Thread-safety: one thread at a time per reader; Open() may be called from
// several threads (backend initialisation is once-only).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "audit/tuple_scorer.h"
#include "common/status.h"

struct llama_model;
struct llama_context;
struct llama_vocab;

namespace telltale {

struct GgufReaderOptions {
  int32_t n_ctx = 0;      // window length in tokens; 0 = the model's training context
  int32_t overlap = 0;    // context-only tokens repeated at the start of each later window
  int32_t n_threads = 1;
};

struct GgufReadStats {
  int64_t windows = 0;   // llama_decode calls (one per window)
  int64_t positions = 0; // logit rows handed to the scorer
};

class GgufReader {
 public:
  static StatusOr<std::unique_ptr<GgufReader>> Open(const std::string& path, const GgufReaderOptions& options);
  ~GgufReader();
  GgufReader(const GgufReader&) = delete;
  GgufReader& operator=(const GgufReader&) = delete;

  int32_t n_vocab() const { return n_vocab_; }
  int32_t n_ctx() const { return n_ctx_; }
  int32_t overlap() const { return overlap_; }
  // Whether the GGUF asks for a BOS token in front of tokenized text.
  bool add_bos() const;
  // The GGUF's own tokenizer (llama_tokenize), BOS per add_bos().
  StatusOr<std::vector<int32_t>> Tokenize(const std::string& text) const;

  // Teacher-forces `tokens` and feeds the predictions to `scorer`. `where`
  // names the sequence in errors (e.g. "texts.txt:12"). Sequences shorter
  // than 2 tokens have no prediction with an input after it and are
  // rejected, as are ids outside [0, n_vocab).
  // When `predictions` is not null, the top-1 of every position of `tokens`
  // (in order, one per token) is appended to it.
  Status Read(std::span<const int32_t> tokens, const std::string& where, TupleScorer& scorer,
              std::vector<int32_t>* predictions = nullptr);

  const GgufReadStats& stats() const { return stats_; }

 private:
  GgufReader(llama_model* model, llama_context* ctx, int32_t n_ctx, int32_t overlap);
  Status Decode(std::span<const int32_t> window, const std::string& where);

  llama_model* model_;
  llama_context* ctx_;
  const llama_vocab* vocab_;
  int32_t n_vocab_;
  int32_t n_ctx_;
  int32_t overlap_;
  struct Batch;
  std::unique_ptr<Batch> batch_;  // allocated once for n_ctx tokens
  std::vector<int32_t> top_;      // top-1 per window row, reused (n_ctx)
  GgufReadStats stats_;
};

}  // namespace telltale
