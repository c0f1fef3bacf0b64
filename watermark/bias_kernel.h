// SIMD kernel for the hottest loop of generation: add delta to the logits of
// green tokens straight from raw PRF blocks, for 1- and 2-bit slots
// (gamma in {1/4, 1/2, 3/4}).
//
// Why a separate kernel: turning PRF bits into a per-token byte mask and then
// adding costs ~3 instructions per token; with AVX-512 the green bits of 64
// tokens become a mask register (GFNI gathers 2-bit slots four blocks at a
// time; BMI2 pext is the fallback and handles tails) and four
// masked adds update 64 logits. Results are bit-identical to the portable
// path (same float additions); tests compare both.
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <cstdint>

namespace telltale {

// The most PRF blocks one AddBiasFromBlocks call takes (its bit buffer lives on
// the stack). Generation batches this many blocks per AES call; 256 measured
// no faster than 64 at V = 128256, and the portable path's per-token byte mask
// for that many blocks would be 32 KiB of stack.
inline constexpr size_t kBiasKernelMaxBlocks = 64;

// True when this CPU (and build) can run AddBiasFromBlocks.
bool BiasKernelAvailable();

// x[t] += delta for every token t in [0, n) whose slot in `blocks` (n_blocks
// consecutive PRF blocks, token 0 in slot 0 of block 0) is below
// `threshold`. slot_bits must be 1 or 2; n <= n_blocks * 128 / slot_bits;
// n_blocks <= kBiasKernelMaxBlocks.
void AddBiasFromBlocks(const uint8_t* blocks, size_t n_blocks, int slot_bits, uint32_t threshold, float delta,
                       float* x, size_t n);

}  // namespace telltale
