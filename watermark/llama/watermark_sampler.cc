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
// Sampling schemes go sparse when candidates <= n_vocab / kSparseRatio:
// sorting n candidates by id (n log n) beats a pass over the dense row.
constexpr size_t kSparseRatio = 16;

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
  if (!wm_->spec().is_sampling_scheme()) green_.resize((static_cast<size_t>(n_vocab_) + 63) / 64);
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
  // The green list as a bitmap (n_vocab / 8 bytes: 16 KB at 128k, so it
  // stays in L1), built word-at-a-time from the PRF blocks.
  bool watermarked = false;
  if (!wm_->GreenBitmap(context_, n_vocab_, green_, &watermarked).ok() || !watermarked) return;
  ++watermarked_steps_;
  const float delta = static_cast<float>(wm_->spec().delta);
  const uint64_t* bits = green_.data();
  auto green = [bits](uint32_t id) { return (bits[id >> 6] >> (id & 63)) & 1; };
  llama_token_data* data = cur_p->data;
  const size_t n = cur_p->size;
  const uint32_t n_vocab = static_cast<uint32_t>(n_vocab_);

  // Fast path: at the head of a chain llama.cpp hands over all n_vocab
  // candidates in id order (data[i].id == i). Then only the green entries
  // (a quarter to a half) are touched, found by walking the bitmap's set
  // bits, and each one's id is checked before it is changed. A candidate
  // array has one entry per token, so if every green position holds its
  // own id, every green id has been biased and the rest needs nothing: the
  // result equals the by-id loop below for any order. `verified` ends as
  // the first green position holding another id (0 when the fast path did
  // not run): green positions before it are done.
  size_t verified = 0;
  if (n == static_cast<size_t>(n_vocab_)) {
    verified = n;
    for (size_t w = 0; w < green_.size() && verified == n; ++w) {
      for (uint64_t x = bits[w]; x != 0; x &= x - 1) {
        const size_t g = w * 64 + static_cast<size_t>(__builtin_ctzll(x));
        if (data[g].id != static_cast<llama_token>(g)) {
          verified = g;
          break;
        }
        data[g].logit += delta;
      }
    }
    if (verified == n) {
      cur_p->sorted = false;
      return;
    }
  }
  // General path (reduced or reordered arrays, or the rest of a full array
  // after the first mismatch): look every candidate's id up, skipping the
  // green positions the fast path already biased. Branch-free on the green
  // bit (adding 0 leaves a logit unchanged): a branch on it would mispredict
  // constantly.
  const float add[2] = {0.0f, delta};
  for (size_t i = 0; i < n; ++i) {
    if (i < verified && green(static_cast<uint32_t>(i))) continue;
    const uint32_t id = static_cast<uint32_t>(data[i].id);
    if (id < n_vocab) data[i].logit += add[green(id)];
  }
  // Logits changed, so a previous sort order no longer holds.
  cur_p->sorted = false;
}

void WatermarkSampler::ApplySampling(llama_token_data_array* cur_p) {
  if (cur_p->size == 0) return;
  if (wm_->ContextIsWatermarked(context_)) ++watermarked_steps_;
  StatusOr<int32_t> token = SampleToken(cur_p);
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

StatusOr<int32_t> WatermarkSampler::SampleToken(const llama_token_data_array* cur_p) {
  // Temperature, top-k and top-p already ran earlier in the chain, so
  // usually few candidates arrive (40 after llama.cpp's default top-k):
  // sample over them directly. With many candidates (no truncation), the
  // dense row is cheaper than sorting them by id. Both give the same token
  // (Watermarker::SampleCandidates is exactly Sample on the dense row), and
  // ids outside the vocabulary are ignored by both.
  if (cur_p->size * kSparseRatio <= static_cast<size_t>(n_vocab_)) {
    ids_.clear();
    logits_.clear();
    for (size_t i = 0; i < cur_p->size; ++i) {
      const llama_token id = cur_p->data[i].id;
      if (id < 0 || id >= n_vocab_) continue;
      ids_.push_back(id);
      logits_.push_back(cur_p->data[i].logit);
    }
    return wm_->SampleCandidates(context_, ids_, logits_, n_vocab_, rng_, ws_);
  }
  dense_.assign(static_cast<size_t>(n_vocab_), -std::numeric_limits<float>::infinity());
  for (size_t i = 0; i < cur_p->size; ++i) {
    const llama_token id = cur_p->data[i].id;
    if (id >= 0 && id < n_vocab_) dense_[id] = cur_p->data[i].logit;
  }
  return wm_->Sample(context_, dense_, SamplingParams{}, rng_, ws_);
}

}  // namespace telltale
