#include "watermark/keyed_prf.h"

#include <sodium.h>

#include <type_traits>

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
    // Dispatch once per batch so the extraction inlines with a constant width.
    auto extract = [&](auto bits) {
      for (size_t i = 0; i < m; ++i) {
        out[base + i] = ExtractSlot(buf + 16 * i, bits, static_cast<uint32_t>(tokens[base + i]) % per_block);
      }
    };
    switch (slot_bits_) {
      case 1: extract(std::integral_constant<int, 1>()); break;
      case 2: extract(std::integral_constant<int, 2>()); break;
      case 4: extract(std::integral_constant<int, 4>()); break;
      case 8: extract(std::integral_constant<int, 8>()); break;
      case 16: extract(std::integral_constant<int, 16>()); break;
      default: extract(std::integral_constant<int, 32>()); break;
    }
  }
}

}  // namespace telltale
