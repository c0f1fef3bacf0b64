#include "watermark/llama/llama_generation.h"

#include <cstdio>
#include <limits>
#include <mutex>

#include "llama.h"

namespace telltale {
namespace {

// libllama logs every tensor at load time; keep errors only.
void QuietLog(ggml_log_level level, const char* text, void*) {
  if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

void InitBackendOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set(QuietLog, nullptr);
    llama_backend_init();
  });
}

}  // namespace

StatusOr<std::unique_ptr<LlamaGeneration>> LlamaGeneration::Load(const std::string& model_path,
                                                                 const LlamaGenerationOptions& options) {
  if (options.n_ctx <= 0 || options.n_threads <= 0) {
    return Status::InvalidArgument("llama generation: n_ctx and n_threads must be positive");
  }
  InitBackendOnce();
  llama_model_params mp = llama_model_default_params();
  llama_model* model = llama_model_load_from_file(model_path.c_str(), mp);
  if (model == nullptr) return Status::InvalidArgument("cannot load GGUF model " + model_path);
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(options.n_ctx);
  cp.n_batch = static_cast<uint32_t>(options.n_ctx);
  cp.n_threads = options.n_threads;
  cp.n_threads_batch = options.n_threads;
  cp.no_perf = true;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (ctx == nullptr) {
    llama_model_free(model);
    return Status::Internal("cannot create a llama context for " + model_path);
  }
  return std::unique_ptr<LlamaGeneration>(new LlamaGeneration(model, ctx));
}

LlamaGeneration::LlamaGeneration(llama_model* model, llama_context* ctx)
    : model_(model), ctx_(ctx), vocab_(llama_model_get_vocab(model)) {}

LlamaGeneration::~LlamaGeneration() {
  llama_free(ctx_);
  llama_model_free(model_);
}

int32_t LlamaGeneration::n_vocab() const { return llama_vocab_n_tokens(vocab_); }

StatusOr<std::vector<int32_t>> LlamaGeneration::Tokenize(const std::string& text, bool add_bos) const {
  std::vector<int32_t> ids(text.size() + 8);
  int32_t n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), ids.data(),
                             static_cast<int32_t>(ids.size()), add_bos, false);
  if (n < 0) {
    ids.resize(static_cast<size_t>(-n));
    n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), ids.data(),
                       static_cast<int32_t>(ids.size()), add_bos, false);
  }
  if (n < 0) return Status::InvalidArgument("llama_tokenize failed on the prompt");
  ids.resize(static_cast<size_t>(n));
  return ids;
}

std::string LlamaGeneration::Detokenize(const std::vector<int32_t>& ids) const {
  std::string out;
  char buf[256];
  for (int32_t id : ids) {
    int32_t n = llama_token_to_piece(vocab_, id, buf, sizeof buf, 0, false);
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::vector<int32_t> LlamaGeneration::EogIds() const {
  std::vector<int32_t> ids;
  for (int32_t t = 0; t < n_vocab(); ++t) {
    if (llama_vocab_is_eog(vocab_, t)) ids.push_back(t);
  }
  return ids;
}

llama_sampler* LlamaGeneration::NewEogSuppressor() const {
  std::vector<llama_logit_bias> biases;
  for (int32_t id : EogIds()) biases.push_back({id, -std::numeric_limits<float>::infinity()});
  return llama_sampler_init_logit_bias(n_vocab(), static_cast<int32_t>(biases.size()), biases.data());
}

StatusOr<std::vector<int32_t>> LlamaGeneration::Generate(const std::vector<int32_t>& prompt, llama_sampler* chain,
                                                         int32_t n) {
  if (prompt.empty()) return Status::InvalidArgument("llama generation: empty prompt");
  if (n < 0) return Status::InvalidArgument("llama generation: negative token count");
  const int64_t n_ctx = llama_n_ctx(ctx_);
  if (static_cast<int64_t>(prompt.size()) + n > n_ctx) {
    return Status::OutOfRange("llama generation: prompt (" + std::to_string(prompt.size()) + ") + " +
                              std::to_string(n) + " tokens exceed n_ctx " + std::to_string(n_ctx));
  }
  llama_memory_clear(llama_get_memory(ctx_), true);
  llama_sampler_reset(chain);
  std::vector<int32_t> tokens(prompt);
  for (int32_t t : prompt) llama_sampler_accept(chain, t);
  llama_batch batch = llama_batch_get_one(tokens.data(), static_cast<int32_t>(tokens.size()));
  std::vector<int32_t> out;
  out.reserve(static_cast<size_t>(n));
  int32_t next = 0;
  for (int32_t i = 0; i < n; ++i) {
    if (llama_decode(ctx_, batch) != 0) return Status::Internal("llama_decode failed at step " + std::to_string(i));
    next = llama_sampler_sample(chain, ctx_, -1);  // also accepts it
    out.push_back(next);
    if (llama_vocab_is_eog(vocab_, next)) break;
    batch = llama_batch_get_one(&next, 1);
  }
  return out;
}

}  // namespace telltale
