// KeyedPrf: the one keyed PRF under every Telltale scheme (docs/SPEC.md, PRF).
//
//   prf_key = HKDF-SHA256(ikm = 32-byte key, salt = "telltale/prf/v1",
//                         info = SchemeSpec::PrfIdentity(), L = 16)
//   block(ctx, b) = AES-128(prf_key, LE64(ctx) || LE32(b) || LE32(1))
//
// A block carries 128/s consecutive token slots of s bits (s = slot_bits()):
// token t lives in block t / (128/s), slot t % (128/s), at bit offset
// s*(t % (128/s)) of the block read as a little-endian 128-bit integer.
// Generation needs ceil(V*s/128) blocks per step; detection needs one block
// per token. AES makes every slot of every (ctx, block) an independent
// uniform value, which is what makes the detection null exact.
//
// Ownership: owns its expanded AES key (wiped on destruction); move-only.
// Thread-safety: all methods are const and safe to call concurrently; they
// use only caller-owned or stack memory.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#include "common/status.h"
#include "crypto/aes_block_cipher.h"
#include "crypto/secret_key.h"
#include "watermark/scheme_spec.h"

namespace telltale {

class KeyedPrf {
 public:
  static StatusOr<KeyedPrf> Create(const SecretKey& key, const SchemeSpec& spec);

  int slot_bits() const { return slot_bits_; }
  int slots_per_block() const { return 128 / slot_bits_; }

  // out[16*i ..] = block(ctx, first_block + i) for i < n.
  void ContextBlocks(uint64_t ctx, uint32_t first_block, size_t n, uint8_t* out) const;

  // out[i] = slot value of tokens[i] under contexts[i]: one block per entry,
  // encrypted in batches. tokens must be non-negative.
  void TokenSlots(const uint64_t* contexts, const int32_t* tokens, size_t n, uint32_t* out) const;

  // Reads slot `index` of one 16-byte block.
  static uint32_t ExtractSlot(const uint8_t* block, int slot_bits, uint32_t index) {
    const uint32_t bit = index * static_cast<uint32_t>(slot_bits);
    const uint8_t* p = block + bit / 8;
    switch (slot_bits) {
      case 32: return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
      case 16: return uint32_t{p[0]} | uint32_t{p[1]} << 8;
      case 8: return p[0];
      default: return (p[0] >> (bit % 8)) & ((1u << slot_bits) - 1);
    }
  }

 private:
  template <int kBits>
  void TokenSlotsOfWidth(const uint64_t* contexts, const int32_t* tokens, size_t n, uint32_t* out) const;
  KeyedPrf(AesBlockCipher cipher, int slot_bits) : cipher_(std::move(cipher)), slot_bits_(slot_bits) {}
  AesBlockCipher cipher_;
  int slot_bits_;
};

inline void WriteBlockInput(uint64_t ctx, uint32_t block, uint8_t* dst) {
  // LE64(ctx) || LE32(block) || LE32(1), the last word being the v1 domain tag.
  if constexpr (std::endian::native == std::endian::little) {
    const uint64_t hi = uint64_t{block} | uint64_t{1} << 32;
    std::memcpy(dst, &ctx, 8);
    std::memcpy(dst + 8, &hi, 8);
  } else {
    for (int i = 0; i < 8; ++i) dst[i] = static_cast<uint8_t>(ctx >> (8 * i));
    for (int i = 0; i < 4; ++i) dst[8 + i] = static_cast<uint8_t>(block >> (8 * i));
    dst[12] = 1;
    dst[13] = dst[14] = dst[15] = 0;
  }
}

}  // namespace telltale
