#include "watermark/keyed_prf.h"

#include <sodium.h>

#include "crypto/hkdf.h"

namespace telltale {

StatusOr<KeyedPrf> KeyedPrf::Create(const SecretKey& key, const SchemeSpec& spec) {
  uint8_t prf_key[kAes128KeyBytes];
  TT_RETURN_IF_ERROR(HkdfSha256(key.bytes(), AsBytes("telltale/prf/v1"), AsBytes(spec.PrfIdentity()), prf_key));
  auto cipher = AesBlockCipher::Create(prf_key);
  sodium_memzero(prf_key, sizeof prf_key);
  if (!cipher.ok()) return cipher.status();
  return KeyedPrf(std::move(cipher).value(), spec.slot_bits());
}

void KeyedPrf::ContextBlocks(uint64_t ctx, uint32_t first_block, size_t n, uint8_t* out) const {
  for (size_t i = 0; i < n; ++i) WriteBlockInput(ctx, first_block + static_cast<uint32_t>(i), out + 16 * i);
  cipher_.EncryptBlocks(out, out, n);
}

uint32_t KeyedPrf::ExtractSlot(const uint8_t* block, int slot_bits, uint32_t index) {
  const uint32_t bit = index * static_cast<uint32_t>(slot_bits);
  const uint8_t* p = block + bit / 8;
  switch (slot_bits) {
    case 32: return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
    case 16: return uint32_t{p[0]} | uint32_t{p[1]} << 8;
    case 8: return p[0];
    default: return (p[0] >> (bit % 8)) & ((1u << slot_bits) - 1);
  }
}

void KeyedPrf::TokenSlots(const uint64_t* contexts, const int32_t* tokens, size_t n, uint32_t* out) const {
  constexpr size_t kBatch = 256;  // 4 KiB of blocks on the stack
  alignas(16) uint8_t buf[kBatch * 16];
  const uint32_t per_block = static_cast<uint32_t>(slots_per_block());
  for (size_t base = 0; base < n; base += kBatch) {
    const size_t m = std::min(kBatch, n - base);
    for (size_t i = 0; i < m; ++i) {
      WriteBlockInput(contexts[base + i], static_cast<uint32_t>(tokens[base + i]) / per_block, buf + 16 * i);
    }
    cipher_.EncryptBlocks(buf, buf, m);
    for (size_t i = 0; i < m; ++i) {
      out[base + i] = ExtractSlot(buf + 16 * i, slot_bits_, static_cast<uint32_t>(tokens[base + i]) % per_block);
    }
  }
}

}  // namespace telltale
