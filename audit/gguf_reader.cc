#include "audit/gguf_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "audit/top1.h"
#include "llama.h"

namespace telltale {
namespace {

// libllama reports a failed load over several log lines and returns null;
// the last error line is the useful one, so it is kept for the Status and
// nothing reaches stderr (the CLI prints one line).
std::mutex g_log_mu;
std::string g_last_error;

void KeepLastError(ggml_log_level level, const char* text, void*) {
  if (level != GGML_LOG_LEVEL_ERROR || text == nullptr) return;
  std::string line(text);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.empty()) return;
  std::lock_guard<std::mutex> lock(g_log_mu);
  g_last_error = std::move(line);
}

std::string TakeLastError() {
  std::lock_guard<std::mutex> lock(g_log_mu);
  std::string s = std::move(g_last_error);
  g_last_error.clear();
  return s.empty() ? "no detail from libllama" : s;
}

void InitBackendOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set(KeepLastError, nullptr);
    llama_backend_init();
  });
}

// Checked before libllama sees the file so that the common mistakes get a
// precise message instead of a generic load failure.
Status CheckGgufHeader(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::InvalidArgument(path + ": cannot open GGUF model (" + std::strerror(errno) + ")");
  char magic[4] = {0, 0, 0, 0};
  const size_t got = std::fread(magic, 1, sizeof magic, f);
  std::fclose(f);
  if (got != sizeof magic || std::memcmp(magic, "GGUF", 4) != 0) {
    return Status::InvalidArgument(path + ": not a GGUF file (the first 4 bytes are not \"GGUF\")");
  }
  return Status::Ok();
}

}  // namespace

struct GgufReader::Batch {
  llama_batch b;
  explicit Batch(int32_t n) : b(llama_batch_init(n, 0, 1)) {}
  ~Batch() { llama_batch_free(b); }
};

StatusOr<std::unique_ptr<GgufReader>> GgufReader::Open(const std::string& path, const GgufReaderOptions& options) {
  if (options.n_ctx < 0) return Status::InvalidArgument("--n-ctx must be >= 0 (0 = the model's training context)");
  if (options.n_threads < 1) return Status::InvalidArgument("--threads must be >= 1");
  if (options.overlap < 0) return Status::InvalidArgument("--overlap must be >= 0");
  TT_RETURN_IF_ERROR(CheckGgufHeader(path));
  InitBackendOnce();
  llama_model_params mp = llama_model_default_params();
  llama_model* model = llama_model_load_from_file(path.c_str(), mp);
  if (model == nullptr) return Status::InvalidArgument(path + ": libllama cannot load the model: " + TakeLastError());
  const int32_t train_ctx = llama_model_n_ctx_train(model);
  const int32_t n_ctx = options.n_ctx > 0 ? options.n_ctx : train_ctx;
  if (n_ctx < 2) {
    llama_model_free(model);
    return Status::InvalidArgument(path + ": context length " + std::to_string(n_ctx) + " is too short to read text");
  }
  if (options.overlap >= n_ctx) {
    llama_model_free(model);
    return Status::InvalidArgument("--overlap " + std::to_string(options.overlap) + " must be below the context " +
                                   std::to_string(n_ctx));
  }
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(n_ctx);
  // One window is one llama_decode call; libllama splits it into ubatches.
  cp.n_batch = static_cast<uint32_t>(n_ctx);
  cp.n_ubatch = static_cast<uint32_t>(std::min(n_ctx, 512));
  cp.n_seq_max = 1;
  cp.n_threads = options.n_threads;
  cp.n_threads_batch = options.n_threads;
  cp.no_perf = true;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (ctx == nullptr) {
    llama_model_free(model);
    return Status::InvalidArgument(path + ": libllama cannot create a context of " + std::to_string(n_ctx) +
                                   " tokens: " + TakeLastError());
  }
  return std::unique_ptr<GgufReader>(new GgufReader(model, ctx, n_ctx, options.overlap));
}

GgufReader::GgufReader(llama_model* model, llama_context* ctx, int32_t n_ctx, int32_t overlap)
    : model_(model),
      ctx_(ctx),
      vocab_(llama_model_get_vocab(model)),
      n_vocab_(llama_vocab_n_tokens(vocab_)),
      n_ctx_(n_ctx),
      overlap_(overlap),
      batch_(std::make_unique<Batch>(n_ctx)),
      top_(static_cast<size_t>(n_ctx)) {}

GgufReader::~GgufReader() {
  batch_.reset();
  llama_free(ctx_);
  llama_model_free(model_);
}

bool GgufReader::add_bos() const { return llama_vocab_get_add_bos(vocab_); }

StatusOr<std::vector<int32_t>> GgufReader::Tokenize(const std::string& text) const {
  std::vector<int32_t> ids(text.size() + 8);
  int32_t n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), ids.data(),
                             static_cast<int32_t>(ids.size()), add_bos(), false);
  if (n < 0) {
    ids.resize(static_cast<size_t>(-n));
    n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), ids.data(),
                       static_cast<int32_t>(ids.size()), add_bos(), false);
  }
  if (n < 0) return Status::InvalidArgument("llama_tokenize failed");
  ids.resize(static_cast<size_t>(n));
  return ids;
}

Status GgufReader::Decode(std::span<const int32_t> window, const std::string& where) {
  llama_memory_clear(llama_get_memory(ctx_), true);
  llama_batch& b = batch_->b;
  b.n_tokens = static_cast<int32_t>(window.size());
  for (int32_t i = 0; i < b.n_tokens; ++i) {
    b.token[i] = window[static_cast<size_t>(i)];
    b.pos[i] = i;
    b.n_seq_id[i] = 1;
    b.seq_id[i][0] = 0;
    b.logits[i] = 1;  // every position predicts the next token
  }
  const int32_t rc = llama_decode(ctx_, b);
  if (rc != 0) {
    return Status::Internal(where + ": llama_decode failed (code " + std::to_string(rc) + "): " + TakeLastError());
  }
  ++stats_.windows;
  return Status::Ok();
}

Status GgufReader::Read(std::span<const int32_t> tokens, const std::string& where, TupleScorer& scorer,
                        std::vector<int32_t>* predictions) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n < 2) {
    return Status::InvalidArgument(where + ": " + std::to_string(n) +
                                   " token(s); reading mode needs at least 2 (an input and a prediction to score)");
  }
  for (int64_t i = 0; i < n; ++i) {
    const int32_t t = tokens[static_cast<size_t>(i)];
    if (t < 0 || t >= n_vocab_) {
      return Status::InvalidArgument(where + ": token id " + std::to_string(t) + " at position " + std::to_string(i) +
                                     " is outside the GGUF vocabulary [0, " + std::to_string(n_vocab_) +
                                     ") (texts tokenized for another model?)");
    }
  }
  // Each window [a, b) is decoded fresh; predictions before `first` repeat
  // positions the previous window already offered and serve as context only.
  const int64_t keep = overlap_ < 1 ? 0 : overlap_;
  int64_t a = 0, first = 0;
  while (true) {
    const int64_t b = std::min(n, a + n_ctx_);
    std::span<const int32_t> window = tokens.subspan(static_cast<size_t>(a), static_cast<size_t>(b - a));
    TT_RETURN_IF_ERROR(Decode(window, where));
    const float* logits = llama_get_logits(ctx_);
    if (logits == nullptr) return Status::Internal(where + ": libllama returned no logits");
    const int64_t rows = b - a;
    for (int64_t r = first; r < rows; ++r) {
      top_[static_cast<size_t>(r)] = static_cast<int32_t>(Top1Index(logits + r * n_vocab_, n_vocab_));
    }
    // Rows before `first` are not scored; their slots only keep the spans aligned.
    std::fill(top_.begin(), top_.begin() + first, 0);
    const std::span<const int32_t> top(top_.data(), static_cast<size_t>(rows));
    TT_RETURN_IF_ERROR(scorer.AddPredictions(window, top, first));
    if (predictions != nullptr) predictions->insert(predictions->end(), top.begin() + first, top.end());
    stats_.positions += rows - first;
    if (b == n) break;
    a = b - keep;
    first = keep;
  }
  return Status::Ok();
}

}  // namespace telltale
