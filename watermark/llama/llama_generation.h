// LlamaGeneration: the smallest libllama generation loop, shared by the
// example program, the sampler tests and the benchmark.
//
//   auto gen = LlamaGeneration::Load("reflm.gguf", {.n_ctx = 1024}).value();
//   std::vector<int32_t> prompt = gen->Tokenize("It is a truth", /*add_bos=*/true).value();
//   std::vector<int32_t> out = gen->Generate(prompt, chain, 200, /*ignore_eos=*/true).value();
//
// Generate clears the KV cache, decodes the prompt, feeds the prompt tokens
// to the sampler chain through llama_sampler_accept (so context-keyed
// samplers see them, as in llama-server), then samples token by token with
// llama_sampler_sample. To always reach n tokens, put NewEogSuppressor() in
// the chain: it gives end-of-generation tokens -inf logits (replacing a
// drawn token afterwards would desynchronize context-keyed samplers).
// Ownership: owns model and context. Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

struct llama_model;
struct llama_context;
struct llama_sampler;
struct llama_vocab;

namespace telltale {

struct LlamaGenerationOptions {
  int32_t n_ctx = 1024;
  int32_t n_threads = 1;
};

class LlamaGeneration {
 public:
  static StatusOr<std::unique_ptr<LlamaGeneration>> Load(const std::string& model_path,
                                                         const LlamaGenerationOptions& options);
  ~LlamaGeneration();
  LlamaGeneration(const LlamaGeneration&) = delete;
  LlamaGeneration& operator=(const LlamaGeneration&) = delete;

  const llama_vocab* vocab() const { return vocab_; }
  int32_t n_vocab() const;
  StatusOr<std::vector<int32_t>> Tokenize(const std::string& text, bool add_bos) const;
  std::string Detokenize(const std::vector<int32_t>& ids) const;
  // The vocabulary's end-of-generation ids.
  std::vector<int32_t> EogIds() const;
  // A logit-bias sampler setting every end-of-generation id to -inf.
  llama_sampler* NewEogSuppressor() const;

  // The context, for callers that drive decoding and sampling themselves
  // (the sampler benchmark interleaves two chains on each step). Owned by
  // this object; Generate clears its memory (KV cache) on entry.
  llama_context* context() const { return ctx_; }

  // Generates n tokens with `chain` (not owned). Stops early at an
  // end-of-generation token unless the chain suppresses them.
  StatusOr<std::vector<int32_t>> Generate(const std::vector<int32_t>& prompt, llama_sampler* chain, int32_t n);

 private:
  LlamaGeneration(llama_model* model, llama_context* ctx);
  llama_model* model_;
  llama_context* ctx_;
  const llama_vocab* vocab_;
};

}  // namespace telltale
