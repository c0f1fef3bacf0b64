#include "watermark/bias_kernel.h"

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

__attribute__((target("avx512f,bmi2"))) void Kernel(const uint8_t* blocks, size_t n_blocks, int slot_bits,
                                                    uint32_t threshold, float delta, float* x, size_t n) {
  const __m512 d = _mm512_set1_ps(delta);
  const size_t tokens_per_block = 128 / static_cast<size_t>(slot_bits);
  size_t t = 0;
  for (size_t b = 0; b < n_blocks && t < n; ++b) {
    uint64_t w0, w1;
    std::memcpy(&w0, blocks + 16 * b, 8);
    std::memcpy(&w1, blocks + 16 * b + 8, 8);
    uint64_t bits[2];
    size_t words;
    if (slot_bits == 1) {  // green iff the bit is 0
      bits[0] = ~w0;
      bits[1] = ~w1;
      words = 2;
    } else {
      bits[0] = GreenFromTwoBitSlots(w0, threshold) | GreenFromTwoBitSlots(w1, threshold) << 32;
      words = 1;
    }
    for (size_t k = 0; k < words; ++k) {
      const size_t base = t + 64 * k;
      if (base + 64 <= n) {
        for (int q = 0; q < 4; ++q) {
          float* p = x + base + 16 * q;
          const __mmask16 m = static_cast<__mmask16>(bits[k] >> (16 * q));
          _mm512_storeu_ps(p, _mm512_mask_add_ps(_mm512_loadu_ps(p), m, _mm512_loadu_ps(p), d));
        }
      } else {
        for (size_t i = base; i < n && i < base + 64; ++i) {
          if ((bits[k] >> (i - base)) & 1) x[i] += delta;
        }
      }
    }
    t += tokens_per_block;
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
