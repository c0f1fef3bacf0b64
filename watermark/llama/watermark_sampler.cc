#include "watermark/llama/watermark_sampler.h"

#include <algorithm>
#include <limits>
#include <new>
#include <utility>

#include "llama.h"

namespace telltale {
namespace {

// Context kept beyond h before compacting, so accept() is amortized O(1).
constexpr size_t kContextSlack = 256;

const char* SamplerName(const llama_sampler*) { return "telltale-watermark"; }

WatermarkSampler* State(const llama_sampler* smpl) { return static_cast<WatermarkSampler*>(smpl->ctx); }

void SamplerAccept(llama_sampler* smpl, llama_token token) { State(smpl)->Accept(token); }
void SamplerApply(llama_sampler* smpl, llama_token_data_array* cur_p) { State(smpl)->Apply(cur_p); }
void SamplerReset(llama_sampler* smpl) { State(smpl)->Reset(); }
void SamplerFree(llama_sampler* smpl) { delete State(smpl); }
llama_sampler* SamplerClone(const llama_sampler* smpl);

// Value-initialized so that fields newer llama.cpp versions append (backend
// sampling hooks, ...) are null, which llama.cpp reads as "not supported".
llama_sampler_i MakeInterface() {
  llama_sampler_i iface{};
  iface.name = SamplerName;
  iface.accept = SamplerAccept;
  iface.apply = SamplerApply;
  iface.reset = SamplerReset;
  iface.clone = SamplerClone;
  iface.free = SamplerFree;
  return iface;
}

llama_sampler_i g_interface = MakeInterface();

llama_sampler* SamplerClone(const llama_sampler* smpl) {
  auto* copy = new (std::nothrow) WatermarkSampler(*State(smpl));
  if (copy == nullptr) return nullptr;
  return llama_sampler_init(&g_interface, copy);
}

}  // namespace

StatusOr<llama_sampler*> WatermarkSampler::New(std::shared_ptr<const Watermarker> wm, int32_t n_vocab,
                                               uint64_t seed) {
  if (wm == nullptr) return Status::InvalidArgument("watermark sampler: no watermarker");
  if (n_vocab <= 0) {
    return Status::InvalidArgument("watermark sampler: vocabulary size must be positive, got " +
                                   std::to_string(n_vocab));
  }
  auto* state = new (std::nothrow) WatermarkSampler(std::move(wm), n_vocab, seed);
  if (state == nullptr) return Status::Internal("watermark sampler: out of memory");
  return llama_sampler_init(&g_interface, state);
}

bool WatermarkSampler::Is(const llama_sampler* smpl) { return smpl != nullptr && smpl->iface == &g_interface; }

WatermarkSampler* WatermarkSampler::From(llama_sampler* smpl) { return Is(smpl) ? State(smpl) : nullptr; }

WatermarkSampler::WatermarkSampler(std::shared_ptr<const Watermarker> wm, int32_t n_vocab, uint64_t seed)
    : wm_(std::move(wm)), n_vocab_(n_vocab), seed_(seed), rng_(seed) {
  dense_.resize(static_cast<size_t>(n_vocab_));
}

void WatermarkSampler::Accept(int32_t token) {
  // llama.cpp never accepts negative ids; a context with one would make the
  // Watermarker reject every later step, so such tokens end the context.
  if (token < 0) {
    context_.clear();
    return;
  }
  context_.push_back(token);
  TrimContext();
}

void WatermarkSampler::TrimContext() {
  if (wm_->spec().skip_repeat) return;  // needs the whole history
  const size_t h = static_cast<size_t>(wm_->spec().h);
  if (context_.size() > h + kContextSlack) context_.erase(context_.begin(), context_.end() - h);
}

void WatermarkSampler::Reset() {
  context_.clear();
  rng_ = seed_;
}

void WatermarkSampler::Apply(llama_token_data_array* cur_p) {
  ++steps_;
  if (cur_p->size == static_cast<size_t>(n_vocab_)) ++full_steps_;
  if (wm_->spec().is_sampling_scheme()) {
    ApplySampling(cur_p);
  } else {
    ApplyBias(cur_p);
  }
}

void WatermarkSampler::ApplyBias(llama_token_data_array* cur_p) {
  if (!wm_->ContextIsWatermarked(context_)) return;
  // The bias of every id as a dense row (delta or 0), made by the core's
  // vectorized Apply on zeros; then one gather per candidate, branch-free
  // (a quarter to a half of random ids are green, so a branch on the green
  // bit would mispredict constantly).
  std::fill(dense_.begin(), dense_.end(), 0.0f);
  if (!wm_->Apply(context_, dense_).ok()) return;
  ++watermarked_steps_;
  const float* bias = dense_.data();
  const uint32_t n = static_cast<uint32_t>(n_vocab_);
  llama_token_data* data = cur_p->data;
  for (size_t i = 0; i < cur_p->size; ++i) {
    const uint32_t id = static_cast<uint32_t>(data[i].id);
    if (id < n) data[i].logit += bias[id];
  }
  // Logits changed, so a previous sort order no longer holds.
  cur_p->sorted = false;
}

void WatermarkSampler::ApplySampling(llama_token_data_array* cur_p) {
  if (cur_p->size == 0) return;
  dense_.assign(static_cast<size_t>(n_vocab_), -std::numeric_limits<float>::infinity());
  for (size_t i = 0; i < cur_p->size; ++i) {
    const llama_token id = cur_p->data[i].id;
    if (id >= 0 && id < n_vocab_) dense_[id] = cur_p->data[i].logit;
  }
  if (wm_->ContextIsWatermarked(context_)) ++watermarked_steps_;
  // Temperature, top-k and top-p already ran earlier in the chain.
  SamplingParams params;
  StatusOr<int32_t> token = wm_->Sample(context_, dense_, params, rng_, ws_);
  size_t best = 0;
  for (size_t i = 1; i < cur_p->size; ++i) {
    if (cur_p->data[i].logit > cur_p->data[best].logit) best = i;
  }
  int64_t selected = static_cast<int64_t>(best);
  if (token.ok()) {
    for (size_t i = 0; i < cur_p->size; ++i) {
      if (cur_p->data[i].id == *token) {
        selected = static_cast<int64_t>(i);
        break;
      }
    }
  }
  cur_p->selected = selected;
}

}  // namespace telltale
