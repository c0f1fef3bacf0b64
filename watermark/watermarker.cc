#include "watermark/watermarker.h"

#include <cmath>
#include <bit>
#include <cstring>
#include <limits>

#include "watermark/bias_kernel.h"
#include "watermark/context_hash.h"

namespace telltale {
namespace {

constexpr size_t kChunkBlocks = kBiasKernelMaxBlocks;  // blocks per PRF batch: 1 KiB on the stack
constexpr size_t kSelfChunk = 256;   // candidate tokens per batch (self seeding)

// x[i] += delta where mask[i] is 1. Written as a select so the compiler
// vectorizes it (8 floats per AVX2 instruction).
// target_clones: the loader picks the widest vector ISA this CPU has (ifunc).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
void AddBiasFloat(float* __restrict x, size_t n, const uint8_t* __restrict mask, float delta) {
  for (size_t i = 0; i < n; ++i) x[i] += mask[i] ? delta : 0.0f;
}

// Expands each PRF byte into its 8/S green flags through the 256-entry table.
template <int S>
void MasksFromBytes(const uint8_t* __restrict buf, size_t n_bytes, const uint8_t* __restrict table,
                    uint8_t* __restrict mask) {
  constexpr size_t kPerByte = 8 / S;
  for (size_t i = 0; i < n_bytes; ++i) std::memcpy(mask + i * kPerByte, table + 8 * buf[i], kPerByte);
}

inline float Bf16ToFloat(uint16_t h) {
  uint32_t bits = uint32_t{h} << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t FloatToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet NaN
  bits += 0x7fff + ((bits >> 16) & 1);  // round to nearest, ties to even
  return static_cast<uint16_t>(bits >> 16);
}

inline float F16ToFloat(uint16_t h) {
  _Float16 v;
  std::memcpy(&v, &h, 2);
  return static_cast<float>(v);
}

inline uint16_t FloatToF16(float f) {
  _Float16 v = static_cast<_Float16>(f);  // IEEE round to nearest even
  uint16_t h;
  std::memcpy(&h, &v, 2);
  return h;
}

uint64_t LoadLe64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

// Green flags of the 64 one-bit slots in x (token j = bit j): slot < threshold.
uint64_t GreenWord1(uint64_t x, uint32_t threshold) {
  return threshold == 0 ? 0 : threshold == 1 ? ~x : ~uint64_t{0};
}

// Green flags of the 32 two-bit slots in x (token j = bits 2j, 2j+1, low
// bit first), packed into the low 32 bits. Threshold is a template
// parameter so the loops below carry no switch.
template <uint32_t kThreshold>
uint64_t GreenWord2(uint64_t x) {
  constexpr uint64_t kEven = 0x5555555555555555ULL;
  const uint64_t lo = x & kEven, hi = (x >> 1) & kEven;
  uint64_t g;
  if constexpr (kThreshold == 0) g = 0;
  else if constexpr (kThreshold == 1) g = ~(lo | hi) & kEven;  // slot == 0
  else if constexpr (kThreshold == 2) g = ~hi & kEven;         // slot < 2
  else if constexpr (kThreshold == 3) g = ~(lo & hi) & kEven;  // slot != 3
  else g = kEven;
  // Gather the even bits into the low half.
  g = (g | (g >> 1)) & 0x3333333333333333ULL;
  g = (g | (g >> 2)) & 0x0f0f0f0f0f0f0f0fULL;
  g = (g | (g >> 4)) & 0x00ff00ff00ff00ffULL;
  g = (g | (g >> 8)) & 0x0000ffff0000ffffULL;
  g = (g | (g >> 16)) & 0x00000000ffffffffULL;
  return g;
}

template <uint32_t kThreshold>
void GreenWords2(const uint8_t* blocks, size_t n_words, uint64_t* out) {
  for (size_t i = 0; i < n_words; ++i) {
    out[i] = GreenWord2<kThreshold>(LoadLe64(blocks + 16 * i)) | GreenWord2<kThreshold>(LoadLe64(blocks + 16 * i + 8))
                                                                     << 32;
  }
}

// One bitmap word (64 tokens) per 16-byte block of 2-bit slots.
void GreenWords2(const uint8_t* blocks, size_t n_words, uint32_t threshold, uint64_t* out) {
  switch (threshold) {
    case 0: return GreenWords2<0>(blocks, n_words, out);
    case 1: return GreenWords2<1>(blocks, n_words, out);
    case 2: return GreenWords2<2>(blocks, n_words, out);
    case 3: return GreenWords2<3>(blocks, n_words, out);
    default: return GreenWords2<4>(blocks, n_words, out);
  }
}

// For ForEachGreenChunk callers without a raw-block fast path.
constexpr auto kNoBlockSink = [](int64_t, size_t, const uint8_t*, size_t) { return false; };

Status CheckContextTail(std::span<const int32_t> context, int width) {
  const size_t from = context.size() > static_cast<size_t>(width) ? context.size() - width : 0;
  for (size_t i = from; i < context.size(); ++i) {
    if (context[i] < 0) {
      return Status::InvalidArgument("context token at position " + std::to_string(i) + " is negative (" +
                                     std::to_string(context[i]) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace

Watermarker::Watermarker(SchemeSpec spec, KeyedPrf prf) : spec_(spec), prf_(std::move(prf)), byte_masks_(256 * 8, 0) {
  // For slot widths of 1, 2 and 4 bits: the green flags (one byte each) of
  // the 8/s tokens packed in one PRF byte.
  const int s = prf_.slot_bits();
  if (s > 4) return;
  const uint32_t threshold = spec_.green_threshold();
  for (uint32_t b = 0; b < 256; ++b) {
    for (int k = 0; k < 8 / s; ++k) {
      const uint32_t slot = (b >> (k * s)) & ((1u << s) - 1);
      byte_masks_[8 * b + k] = slot < threshold;
    }
  }
}

StatusOr<Watermarker> Watermarker::Create(const SecretKey& key, const SchemeSpec& spec) {
  TT_ASSIGN_OR_RETURN(KeyedPrf prf, KeyedPrf::Create(key, spec));
  return Watermarker(spec, std::move(prf));
}

bool Watermarker::ContextIsWatermarked(std::span<const int32_t> context) const {
  const bool self = spec_.family == SchemeFamily::kKgw && spec_.seeding == Seeding::kSelf;
  const size_t need = spec_.family == SchemeFamily::kUnigram ? 0 : static_cast<size_t>(self ? spec_.h - 1 : spec_.h);
  if (context.size() < need) return false;
  if (!spec_.skip_repeat) return true;
  // skip_repeat: unwatermarked if the current window occurred earlier.
  const size_t w = static_cast<size_t>(RepeatWindow(spec_));
  const int32_t* cur = context.data() + context.size() - w;
  for (size_t end = w; end < context.size(); ++end) {
    if (std::memcmp(context.data() + end - w, cur, w * sizeof(int32_t)) == 0) return false;
  }
  return true;
}

void Watermarker::GreenMask(const uint8_t* buf, size_t n_blocks, uint8_t* mask) const {
  const int s = prf_.slot_bits();
  const size_t n_bytes = n_blocks * 16;
  if (s <= 4) {  // 2, 4 or 8 tokens per byte: one table lookup per byte
    if (s == 1) MasksFromBytes<1>(buf, n_bytes, byte_masks_.data(), mask);
    else if (s == 2) MasksFromBytes<2>(buf, n_bytes, byte_masks_.data(), mask);
    else MasksFromBytes<4>(buf, n_bytes, byte_masks_.data(), mask);
    return;
  }
  const uint32_t threshold = spec_.green_threshold();
  if (s == 8) {
    for (size_t i = 0; i < n_bytes; ++i) mask[i] = buf[i] < threshold;
    return;
  }
  for (size_t i = 0; i < n_bytes / 2; ++i) {  // s == 16, little-endian slots
    const uint32_t slot = uint32_t{buf[2 * i]} | uint32_t{buf[2 * i + 1]} << 8;
    mask[i] = slot < threshold;
  }
}

template <typename AddFn, typename BlocksFn>
Status Watermarker::ForEachGreenChunk(std::span<const int32_t> context, int64_t vocab, AddFn&& add,
                                      BlocksFn&& on_blocks) const {
  if (vocab <= 0) return Status::InvalidArgument("vocabulary size must be positive, got " + std::to_string(vocab));
  if (vocab > (int64_t{1} << 31)) return Status::InvalidArgument("vocabulary larger than 2^31 tokens");
  TT_RETURN_IF_ERROR(CheckContextTail(context, std::max(spec_.h, 1)));
  if (!ContextIsWatermarked(context)) return Status::Ok();
  uint8_t mask[kChunkBlocks * 128];  // one byte per token; enough for 1-bit slots
  if (spec_.family == SchemeFamily::kKgw && spec_.seeding == Seeding::kSelf) {
    const int prev = spec_.h - 1;
    const int32_t* prev_tokens = context.data() + context.size() - prev;
    uint64_t ctx[kSelfChunk];
    int32_t ids[kSelfChunk];
    uint32_t slots[kSelfChunk];
    const uint32_t threshold = spec_.green_threshold();
    for (int64_t t0 = 0; t0 < vocab; t0 += kSelfChunk) {
      const size_t n = static_cast<size_t>(std::min<int64_t>(kSelfChunk, vocab - t0));
      for (size_t i = 0; i < n; ++i) {
        ids[i] = static_cast<int32_t>(t0 + static_cast<int64_t>(i));
        ctx[i] = SelfContextHash(prev_tokens, prev, ids[i]);
      }
      prf_.TokenSlots(ctx, ids, n, slots);
      for (size_t i = 0; i < n; ++i) mask[i] = slots[i] < threshold;
      add(t0, n, mask);
    }
    return Status::Ok();
  }
  const uint64_t ctx = spec_.family == SchemeFamily::kUnigram
                           ? 0
                           : LeftContextHash(context.data() + context.size() - spec_.h, spec_.h);
  const int64_t per_block = prf_.slots_per_block();
  const int64_t total_blocks = (vocab + per_block - 1) / per_block;
  alignas(16) uint8_t blocks[kChunkBlocks * 16];
  for (int64_t b0 = 0; b0 < total_blocks; b0 += kChunkBlocks) {
    const size_t nb = static_cast<size_t>(std::min<int64_t>(kChunkBlocks, total_blocks - b0));
    const int64_t first = b0 * per_block;
    const size_t count = static_cast<size_t>(std::min<int64_t>(vocab - first, static_cast<int64_t>(nb) * per_block));
    prf_.ContextBlocks(ctx, static_cast<uint32_t>(b0), nb, blocks);
    if (on_blocks(first, count, blocks, nb)) continue;
    GreenMask(blocks, nb, mask);
    add(first, count, mask);
  }
  return Status::Ok();
}

Status Watermarker::Apply(std::span<const int32_t> context, std::span<float> logits) const {
  if (spec_.is_sampling_scheme()) {
    return Status::FailedPrecondition(std::string(SchemeFamilyName(spec_.family)) +
                                      " is a sampling scheme: it has no logit bias; use Sample");
  }
  if (logits.empty()) return Status::InvalidArgument("logits are empty");
  float* x = logits.data();
  const float delta = static_cast<float>(spec_.delta);
  const int s = prf_.slot_bits();
  const bool kernel = s <= 2 && BiasKernelAvailable();
  const uint32_t threshold = spec_.green_threshold();
  return ForEachGreenChunk(
      context, static_cast<int64_t>(logits.size()),
      [&](int64_t first, size_t n, const uint8_t* mask) { AddBiasFloat(x + first, n, mask, delta); },
      [&](int64_t first, size_t n, const uint8_t* blocks, size_t nb) {
        if (!kernel) return false;
        AddBiasFromBlocks(blocks, nb, s, threshold, delta, x + first, n);
        return true;
      });
}

Status Watermarker::ApplyHalf(std::span<const int32_t> context, std::span<uint16_t> logits, HalfFormat format) const {
  if (spec_.is_sampling_scheme()) {
    return Status::FailedPrecondition(std::string(SchemeFamilyName(spec_.family)) + " is a sampling scheme; use Sample");
  }
  if (logits.empty()) return Status::InvalidArgument("logits are empty");
  const float delta = static_cast<float>(spec_.delta);
  uint16_t* x = logits.data();
  return ForEachGreenChunk(
      context, static_cast<int64_t>(logits.size()),
      [&](int64_t first, size_t n, const uint8_t* mask) {
        for (size_t i = 0; i < n; ++i) {
          if (!mask[i]) continue;
          uint16_t& v = x[first + static_cast<int64_t>(i)];
          v = format == HalfFormat::kBFloat16 ? FloatToBf16(Bf16ToFloat(v) + delta) : FloatToF16(F16ToFloat(v) + delta);
        }
      },
      kNoBlockSink);
}

namespace {
Status CheckOffsets(std::span<const int32_t> tokens, std::span<const int64_t> offsets, int64_t rows) {
  if (static_cast<int64_t>(offsets.size()) != rows + 1) {
    return Status::InvalidArgument("offsets must have batch + 1 = " + std::to_string(rows + 1) + " entries, got " +
                                   std::to_string(offsets.size()));
  }
  for (int64_t b = 0; b < rows; ++b) {
    if (offsets[b] < 0 || offsets[b] > offsets[b + 1] || offsets[b + 1] > static_cast<int64_t>(tokens.size())) {
      return Status::InvalidArgument("offsets[" + std::to_string(b) + ".." + std::to_string(b + 1) +
                                     "] is not a valid range of the token buffer");
    }
  }
  return Status::Ok();
}
}  // namespace

Status Watermarker::SampleBatch(std::span<const int32_t> tokens, std::span<const int64_t> offsets,
                                ConstLogitsMatrixMap logits, const SamplingParams& params, std::span<uint64_t> rngs,
                                SampleWorkspace& ws, std::span<int32_t> out) const {
  const int64_t rows = logits.rows();
  TT_RETURN_IF_ERROR(CheckOffsets(tokens, offsets, rows));
  if (static_cast<int64_t>(rngs.size()) != rows || static_cast<int64_t>(out.size()) != rows) {
    return Status::InvalidArgument("rngs and out must have one entry per batch row (" + std::to_string(rows) + ")");
  }
  for (int64_t b = 0; b < rows; ++b) {
    auto ctx = tokens.subspan(static_cast<size_t>(offsets[b]), static_cast<size_t>(offsets[b + 1] - offsets[b]));
    auto t = Sample(ctx, std::span<const float>(logits.row(b).data(), static_cast<size_t>(logits.cols())), params,
                    rngs[b], ws);
    if (!t.ok()) return t.status().WithContext("batch row " + std::to_string(b));
    out[b] = *t;
  }
  return Status::Ok();
}

Status Watermarker::ApplyBatch(std::span<const int32_t> tokens, std::span<const int64_t> offsets,
                               LogitsMatrixMap logits) const {
  const int64_t rows = logits.rows();
  TT_RETURN_IF_ERROR(CheckOffsets(tokens, offsets, rows));
  for (int64_t b = 0; b < rows; ++b) {
    auto ctx = tokens.subspan(static_cast<size_t>(offsets[b]), static_cast<size_t>(offsets[b + 1] - offsets[b]));
    Status s = Apply(ctx, std::span<float>(logits.row(b).data(), static_cast<size_t>(logits.cols())));
    if (!s.ok()) return s.WithContext("batch row " + std::to_string(b));
  }
  return Status::Ok();
}

Status Watermarker::GreenBitmap(std::span<const int32_t> context, int64_t vocab, std::span<uint64_t> words,
                                bool* watermarked) const {
  if (vocab <= 0) return Status::InvalidArgument("vocabulary size must be positive");
  const size_t need = static_cast<size_t>((vocab + 63) / 64);
  if (words.size() < need) {
    return Status::InvalidArgument("bitmap has " + std::to_string(words.size()) + " words; vocabulary " +
                                   std::to_string(vocab) + " needs " + std::to_string(need));
  }
  if (spec_.is_sampling_scheme()) return Status::FailedPrecondition("gumbel has no green list");
  std::memset(words.data(), 0, need * sizeof(uint64_t));
  *watermarked = ContextIsWatermarked(context);
  uint64_t* out = words.data();
  const int s = prf_.slot_bits();
  const uint32_t threshold = spec_.green_threshold();
  return ForEachGreenChunk(
      context, vocab,
      [&](int64_t first, size_t n, const uint8_t* mask) {
        for (size_t i = 0; i < n; ++i) {
          const uint64_t t = static_cast<uint64_t>(first) + i;
          out[t >> 6] |= uint64_t{mask[i]} << (t & 63);
        }
      },
      [&](int64_t first, size_t n, const uint8_t* blocks, size_t nb) {
        // 1- and 2-bit slots: a block holds 128 or 64 tokens, so chunks
        // start on a word boundary and each block fills whole bitmap words,
        // 64 green flags per few word operations instead of one per token.
        if (s > 2) return false;
        // The chunk's n tokens fill (n + 63) / 64 words; the last block of
        // the vocabulary may hold more slots than tokens (never write past
        // the bitmap), and bits past the vocabulary stay clear.
        uint64_t* w = out + (first >> 6);
        const size_t n_words = (n + 63) / 64;
        if (s == 1) {
          for (size_t i = 0; i < n_words; ++i) w[i] = GreenWord1(LoadLe64(blocks + 8 * i), threshold);
        } else {
          GreenWords2(blocks, n_words, threshold, w);
        }
        (void)nb;
        if (n % 64 != 0) w[n_words - 1] &= (uint64_t{1} << (n % 64)) - 1;
        return true;
      });
}

StatusOr<int32_t> Watermarker::Sample(std::span<const int32_t> context, std::span<const float> logits,
                                      const SamplingParams& params, uint64_t& rng, SampleWorkspace& ws) const {
  if (!spec_.is_sampling_scheme()) {
    ws.logits.assign(logits.begin(), logits.end());
    TT_RETURN_IF_ERROR(Apply(context, ws.logits));
    TT_RETURN_IF_ERROR(SelectCandidates(ws.logits, params, ws));
    return DrawCandidate(ws, rng);
  }
  TT_RETURN_IF_ERROR(SelectCandidates(logits, params, ws));
  return GumbelSelect(context, logits.size(), rng, ws);
}

StatusOr<int32_t> Watermarker::SampleCandidates(std::span<const int32_t> context, std::span<const int32_t> ids,
                                                std::span<const float> logits, int64_t vocab, uint64_t& rng,
                                                SampleWorkspace& ws) const {
  if (!spec_.is_sampling_scheme()) {
    return Status::FailedPrecondition(std::string(SchemeFamilyName(spec_.family)) +
                                      " is a bias scheme: Apply it to the full logits, then sample");
  }
  if (ids.size() != logits.size()) {
    return Status::InvalidArgument("candidates: " + std::to_string(ids.size()) + " ids but " +
                                   std::to_string(logits.size()) + " logits");
  }
  if (vocab <= 0 || vocab > (int64_t{1} << 31)) {
    return Status::InvalidArgument("vocabulary size must be in [1, 2^31], got " + std::to_string(vocab));
  }
  if (ids.empty()) return Status::InvalidArgument("logits are empty");
  // What SelectCandidates sees in the dense row, with default parameters:
  // the finite entries in id order (later duplicates overwrite earlier
  // ones), the max over them, weights exp(l - max) summed in id order.
  // Sorting positions (stable, by id) reproduces exactly that order.
  ws.contexts.resize(ids.size());  // reused as the permutation: no new workspace field
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      return Status::InvalidArgument("candidate id " + std::to_string(ids[i]) + " is outside the vocabulary [0, " +
                                     std::to_string(vocab) + ")");
    }
    ws.contexts[i] = i;
  }
  auto by_id = [&](uint64_t a, uint64_t b) { return ids[a] < ids[b]; };
  if (ws.contexts.size() <= 64) {
    // The usual case (top-k 40 ran first): a stable insertion sort, which
    // neither allocates (std::stable_sort takes a temporary buffer) nor
    // recurses; llama.cpp's top-k already leaves the candidates in logit
    // order, so there is no order to exploit either way.
    for (size_t i = 1; i < ws.contexts.size(); ++i) {
      const uint64_t v = ws.contexts[i];
      size_t j = i;
      for (; j > 0 && by_id(v, ws.contexts[j - 1]); --j) ws.contexts[j] = ws.contexts[j - 1];
      ws.contexts[j] = v;
    }
  } else {
    std::stable_sort(ws.contexts.begin(), ws.contexts.end(), by_id);
  }
  ws.ids.clear();
  ws.probs.clear();
  float max_logit = -std::numeric_limits<float>::infinity();
  for (size_t k = 0; k < ws.contexts.size(); ++k) {
    const size_t i = static_cast<size_t>(ws.contexts[k]);
    if (k + 1 < ws.contexts.size() && ids[ws.contexts[k + 1]] == ids[i]) continue;  // a later duplicate wins
    const float l = logits[i];
    if (std::isnan(l) || l == std::numeric_limits<float>::infinity()) {
      return Status::InvalidArgument("logit of token " + std::to_string(ids[i]) + " is " +
                                     (std::isnan(l) ? "NaN" : "+inf"));
    }
    max_logit = std::max(max_logit, l);
    if (l == -std::numeric_limits<float>::infinity()) continue;
    ws.ids.push_back(ids[i]);
    ws.probs.push_back(static_cast<double>(l));  // the logit for now; weights below
  }
  if (max_logit == -std::numeric_limits<float>::infinity()) {
    return Status::InvalidArgument("every logit is -inf: nothing can be sampled");
  }
  double total = 0;
  for (double& v : ws.probs) total += v = std::exp((v - max_logit) * 1.0);
  for (double& v : ws.probs) v /= total;
  return GumbelSelect(context, static_cast<size_t>(vocab), rng, ws);
}

StatusOr<int32_t> Watermarker::GumbelSelect(std::span<const int32_t> context, size_t vocab, uint64_t& rng,
                                            SampleWorkspace& ws) const {
  TT_RETURN_IF_ERROR(CheckContextTail(context, spec_.h));
  if (!ContextIsWatermarked(context)) return DrawCandidate(ws, rng);
  // Keyed Gumbel-max (Aaronson): argmax_t log(r_t) / p_t with r_t the PRF
  // uniform of token t; exactly a draw from p when r is uniform.
  const uint64_t ctx = LeftContextHash(context.data() + context.size() - spec_.h, spec_.h);
  const size_t n = ws.ids.size();
  ws.slots.resize(n);
  const size_t per_block = static_cast<size_t>(prf_.slots_per_block());
  const size_t all_blocks = (vocab + per_block - 1) / per_block;
  if (n >= all_blocks) {
    // Many candidates: encrypting every block of the context (V/4 blocks)
    // is cheaper than one block per candidate.
    ws.blocks.resize(all_blocks * 16);
    prf_.ContextBlocks(ctx, 0, all_blocks, ws.blocks.data());
    for (size_t i = 0; i < n; ++i) {
      const auto t = static_cast<uint32_t>(ws.ids[i]);
      ws.slots[i] = KeyedPrf::ExtractSlot(ws.blocks.data() + 16 * (t / per_block), 32, t % per_block);
    }
  } else {
    ws.contexts.assign(n, ctx);
    prf_.TokenSlots(ws.contexts.data(), ws.ids.data(), n, ws.slots.data());
  }
  size_t best = 0;
  double best_key = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) {
    if (ws.probs[i] <= 0) continue;
    const double r = (static_cast<double>(ws.slots[i]) + 0.5) * 0x1.0p-32;
    const double key = std::log(r) / ws.probs[i];
    if (key > best_key) {
      best_key = key;
      best = i;
    }
  }
  return ws.ids[best];
}

}  // namespace telltale
