#include "watermark/bias_kernel.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TT_BIAS_KERNEL_X86 1
#endif

namespace telltale {

#ifdef TT_BIAS_KERNEL_X86
namespace {

__attribute__((target("bmi2"))) inline uint64_t GreenFromTwoBitSlots(uint64_t w, uint32_t threshold) {
  // Slot j occupies bits 2j (lo) and 2j+1 (hi); green iff slot < threshold.
  const uint64_t lo = w, hi = w >> 1;
  uint64_t g;
  switch (threshold) {
    case 1: g = ~(lo | hi); break;   // slot == 0
    case 2: g = ~hi; break;          // slot < 2
    default: g = ~(lo & hi); break;  // slot < 3
  }
  return _pext_u64(g, 0x5555555555555555ULL);
}

bool CpuHasGfniAvx512Bw() {
  static const bool ok = __builtin_cpu_supports("gfni") && __builtin_cpu_supports("avx512bw");
  return ok;
}

// Green flags of 2-bit slots for four blocks per step, entirely in vector
// registers: pext runs on one scalar port and at gamma = 1/4 its 2 x 2004
// calls per step were a quarter of the step. Per byte (4 slots): the green
// flag lands on each slot's low bit (ternary logic on x and x >> 1), a GF(2)
// affine map gathers bits 0, 2, 4, 6 into the low nibble, and pairs of
// nibbles merge into bytes, which are the token-ordered bitmap. Writes
// n_blocks / 4 * 4 words of `bits`; returns how many blocks it handled.
template <int kImm>
__attribute__((target("avx512f,avx512bw,gfni"))) size_t TwoBitGreenGfniImpl(const uint8_t* blocks, size_t n_blocks,
                                                                            uint64_t* bits) {
  // Row for output bit j (byte 7 - j of each qword) selects input bit 2j.
  const __m512i gather_even = _mm512_set1_epi64(0x0104104000000000LL);
  const __m512i nibble_pairs = _mm512_set1_epi16(0x1001);  // lo nibble * 1 + hi nibble * 16
  size_t b = 0;
  for (; b + 4 <= n_blocks; b += 4) {
    const __m512i x = _mm512_loadu_si512(blocks + 16 * b);
    const __m512i g = _mm512_ternarylogic_epi64(x, _mm512_srli_epi16(x, 1), x, kImm);
    const __m512i nibbles = _mm512_gf2p8affine_epi64_epi8(g, gather_even, 0);
    const __m512i bytes16 = _mm512_maddubs_epi16(nibbles, nibble_pairs);
    _mm512_mask_cvtepi16_storeu_epi8(bits + b, ~__mmask32{0}, bytes16);  // vpmovwb straight to memory
  }
  return b;
}

// Ternary-logic truth tables over (a = x, b = x >> 1): the low bit of each
// slot is green iff slot < threshold.
size_t TwoBitGreenGfni(const uint8_t* blocks, size_t n_blocks, uint32_t threshold, uint64_t* bits) {
  switch (threshold) {
    case 1: return TwoBitGreenGfniImpl<0x03>(blocks, n_blocks, bits);  // slot == 0: ~(lo | hi)
    case 2: return TwoBitGreenGfniImpl<0x33>(blocks, n_blocks, bits);  // slot < 2:  ~hi
    default: return TwoBitGreenGfniImpl<0x3f>(blocks, n_blocks, bits); // slot < 3:  ~(lo & hi)
  }
}

// 64 bits of `bits` starting at bit `pos` (bits has a zero word of padding).
inline uint64_t Funnel(const uint64_t* bits, size_t pos) {
  const size_t w = pos >> 6, sh = pos & 63;
  return sh == 0 ? bits[w] : (bits[w] >> sh) | (bits[w + 1] << (64 - sh));
}

// Masked add on 16 floats at a 64-byte aligned address; masked-off lanes are
// neither read nor written, so lanes outside the caller's row are safe.
__attribute__((target("avx512f"))) inline void MaskedAdd16(float* p, __mmask16 m, __m512 d) {
  if (m == 0) return;
  const __m512 v = _mm512_mask_load_ps(_mm512_setzero_ps(), m, p);
  _mm512_mask_store_ps(p, m, _mm512_add_ps(v, d));
}

__attribute__((target("avx512f,bmi2"))) void Kernel(const uint8_t* blocks, size_t n_blocks, int slot_bits,
                                                    uint32_t threshold, float delta, float* x, size_t n) {
  // 1. Green bits of the chunk's tokens, zero from token n on.
  constexpr size_t kMaxWords = kBiasKernelMaxBlocks * 128 / 64;  // all 1-bit slots
  uint64_t bits[kMaxWords + 2];
  const size_t words = std::min(kMaxWords, n_blocks * (128 / static_cast<size_t>(slot_bits)) / 64);
  const size_t vector_blocks = slot_bits == 2 && CpuHasGfniAvx512Bw() ? TwoBitGreenGfni(blocks, n_blocks, threshold, bits) : 0;
  for (size_t b = vector_blocks; b < n_blocks; ++b) {
    uint64_t w0, w1;
    std::memcpy(&w0, blocks + 16 * b, 8);
    std::memcpy(&w1, blocks + 16 * b + 8, 8);
    if (slot_bits == 1) {  // green iff the bit is 0
      bits[2 * b] = ~w0;
      bits[2 * b + 1] = ~w1;
    } else {
      bits[b] = GreenFromTwoBitSlots(w0, threshold) | GreenFromTwoBitSlots(w1, threshold) << 32;
    }
  }
  for (size_t w = n >> 6; w < words + 2; ++w) {
    bits[w] = (w == (n >> 6) && (n & 63)) ? bits[w] & ((uint64_t{1} << (n & 63)) - 1) : 0;
  }
  // 2. Masked adds on 64-byte aligned groups of 16 logits. An unaligned row
  // would split every vector access across two cache lines, so the first
  // `pre` tokens go through one partial group and the rest are aligned.
  const __m512 d = _mm512_set1_ps(delta);
  const size_t mis = (reinterpret_cast<uintptr_t>(x) >> 2) & 15;
  const size_t pre = (16 - mis) & 15;
  if (pre > 0) {
    const auto m = static_cast<__mmask16>((bits[0] & ((uint64_t{1} << pre) - 1)) << mis);
    MaskedAdd16(x - mis, m, d);
  }
  // Whole groups inside the row: no per-group test for an empty mask (at
  // gamma >= 1/4 nearly every group holds a green token). GCC compiles this
  // to an add from memory and a masked store; an explicitly unmasked store
  // (red lanes adding -0.0) measured 10-15% slower. The tail group keeps
  // the masked load too: lanes past the row are not ours.
  size_t t = pre;
  for (; t + 64 <= n; t += 64) {
    const uint64_t sw = Funnel(bits, t);
    for (size_t q = 0; q < 4; ++q) {
      float* p = x + t + 16 * q;
      _mm512_store_ps(p, _mm512_mask_add_ps(_mm512_load_ps(p), static_cast<__mmask16>(sw >> (16 * q)),
                                            _mm512_load_ps(p), d));
    }
  }
  for (; t < n; t += 64) {
    const uint64_t sw = Funnel(bits, t);
    for (size_t q = 0; q < 4 && t + 16 * q < n; ++q) {
      MaskedAdd16(x + t + 16 * q, static_cast<__mmask16>(sw >> (16 * q)), d);
    }
  }
}

}  // namespace

bool BiasKernelAvailable() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("bmi2");
  return ok;
}

void AddBiasFromBlocks(const uint8_t* blocks, size_t n_blocks, int slot_bits, uint32_t threshold, float delta,
                       float* x, size_t n) {
  Kernel(blocks, n_blocks, slot_bits, threshold, delta, x, n);
}
#else
bool BiasKernelAvailable() { return false; }
void AddBiasFromBlocks(const uint8_t*, size_t, int, uint32_t, float, float*, size_t) {}
#endif

}  // namespace telltale
