#include "watermark/keyed_prf.h"

#include <sodium.h>

#include <algorithm>

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
  // Dispatched once on the slot width, so that the block index and the slot
  // index are a constant shift and mask (a division by the run-time
  // slots_per_block() cost more than the AES itself).
  switch (slot_bits_) {
    case 1: TokenSlotsOfWidth<1>(contexts, tokens, n, out); break;
    case 2: TokenSlotsOfWidth<2>(contexts, tokens, n, out); break;
    case 4: TokenSlotsOfWidth<4>(contexts, tokens, n, out); break;
    case 8: TokenSlotsOfWidth<8>(contexts, tokens, n, out); break;
    case 16: TokenSlotsOfWidth<16>(contexts, tokens, n, out); break;
    default: TokenSlotsOfWidth<32>(contexts, tokens, n, out); break;
  }
}

template <int kBits>
void KeyedPrf::TokenSlotsOfWidth(const uint64_t* contexts, const int32_t* tokens, size_t n, uint32_t* out) const {
  constexpr uint32_t kPerBlock = 128 / kBits;
  constexpr size_t kBatch = 256;  // 4 KiB of blocks on the stack
  alignas(16) uint8_t buf[kBatch * 16];
  for (size_t base = 0; base < n; base += kBatch) {
    const size_t m = std::min(kBatch, n - base);
    for (size_t i = 0; i < m; ++i) {
      WriteBlockInput(contexts[base + i], static_cast<uint32_t>(tokens[base + i]) / kPerBlock, buf + 16 * i);
    }
    cipher_.EncryptBlocks(buf, buf, m);
    for (size_t i = 0; i < m; ++i) {
      out[base + i] = ExtractSlot(buf + 16 * i, kBits, static_cast<uint32_t>(tokens[base + i]) % kPerBlock);
    }
  }
}

}  // namespace telltale
