#include "crypto/aes_block_cipher.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <cstdlib>
#include <cstring>

#include "crypto/secret_key.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define TT_HAVE_X86 1
#endif

namespace telltale {

struct AesBlockCipher::State {
  // Each AES-NI round key repeated in four 128-bit lanes for VAES, built once
  // here rather than per EncryptBlocks call: generation calls it ~30 times per
  // step, and rebuilding 11 broadcast keys each time cost about a microsecond.
  alignas(16) uint8_t round_keys_x4[11 * 64];
  alignas(16) uint8_t round_keys[11 * 16];  // AES-NI schedule
  uint8_t key[kAes128KeyBytes];             // for the OpenSSL path
};

namespace {

#ifdef TT_HAVE_X86
bool CpuHasAesNi() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  return (c & bit_AES) != 0 && (c & bit_SSE4_1) != 0;
}

__attribute__((target("aes,sse4.1"))) __m128i ExpandStep(__m128i key, __m128i assist) {
  assist = _mm_shuffle_epi32(assist, 0xff);
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  return _mm_xor_si128(key, assist);
}

__attribute__((target("aes,sse4.1"))) void ExpandKeyAesNi(const uint8_t* key, uint8_t* out) {
  __m128i k[11];
  k[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
  // The round constant must be an immediate, hence the unrolled schedule.
  k[1] = ExpandStep(k[0], _mm_aeskeygenassist_si128(k[0], 0x01));
  k[2] = ExpandStep(k[1], _mm_aeskeygenassist_si128(k[1], 0x02));
  k[3] = ExpandStep(k[2], _mm_aeskeygenassist_si128(k[2], 0x04));
  k[4] = ExpandStep(k[3], _mm_aeskeygenassist_si128(k[3], 0x08));
  k[5] = ExpandStep(k[4], _mm_aeskeygenassist_si128(k[4], 0x10));
  k[6] = ExpandStep(k[5], _mm_aeskeygenassist_si128(k[5], 0x20));
  k[7] = ExpandStep(k[6], _mm_aeskeygenassist_si128(k[6], 0x40));
  k[8] = ExpandStep(k[7], _mm_aeskeygenassist_si128(k[7], 0x80));
  k[9] = ExpandStep(k[8], _mm_aeskeygenassist_si128(k[8], 0x1b));
  k[10] = ExpandStep(k[9], _mm_aeskeygenassist_si128(k[9], 0x36));
  for (int i = 0; i < 11; ++i) _mm_store_si128(reinterpret_cast<__m128i*>(out + 16 * i), k[i]);
  sodium_memzero(k, sizeof k);
}

__attribute__((target("aes,sse4.1"))) void EncryptAesNi(const uint8_t* rk_bytes, const uint8_t* in,
                                                        uint8_t* out, size_t n) {
  __m128i rk[11];
  for (int i = 0; i < 11; ++i) rk[i] = _mm_load_si128(reinterpret_cast<const __m128i*>(rk_bytes + 16 * i));
  size_t i = 0;
  // Eight independent blocks in flight hide the aesenc latency.
  for (; i + 8 <= n; i += 8) {
    __m128i b[8];
    for (int j = 0; j < 8; ++j) {
      b[j] = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 16 * (i + j))), rk[0]);
    }
    for (int r = 1; r < 10; ++r) {
      for (int j = 0; j < 8; ++j) b[j] = _mm_aesenc_si128(b[j], rk[r]);
    }
    for (int j = 0; j < 8; ++j) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * (i + j)), _mm_aesenclast_si128(b[j], rk[10]));
    }
  }
  for (; i < n; ++i) {
    __m128i b = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 16 * i)), rk[0]);
    for (int r = 1; r < 10; ++r) b = _mm_aesenc_si128(b, rk[r]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * i), _mm_aesenclast_si128(b, rk[10]));
  }
}
// VAES with AVX-512: four blocks per instruction, 32 blocks in flight. The
// per-step generation cost is dominated by AES at large vocabularies, so this
// halves it on CPUs that have it; the tail goes through the AES-NI loop.
bool CpuHasVaes512() {
  static const bool ok = __builtin_cpu_supports("vaes") && __builtin_cpu_supports("avx512f");
  return ok;
}

__attribute__((target("vaes,avx512f,aes,sse4.1"))) void EncryptVaes(const uint8_t* rk_x4, const uint8_t* rk_bytes,
                                                                    const uint8_t* in, uint8_t* out, size_t n) {
  __m512i rk[11];
  // sodium_malloc does not promise 64-byte alignment: unaligned loads.
  for (int i = 0; i < 11; ++i) rk[i] = _mm512_loadu_si512(rk_x4 + 64 * i);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512i b[8];
    for (int j = 0; j < 8; ++j) b[j] = _mm512_xor_si512(_mm512_loadu_si512(in + 16 * (i + 4 * j)), rk[0]);
    for (int r = 1; r < 10; ++r) {
      for (int j = 0; j < 8; ++j) b[j] = _mm512_aesenc_epi128(b[j], rk[r]);
    }
    for (int j = 0; j < 8; ++j) _mm512_storeu_si512(out + 16 * (i + 4 * j), _mm512_aesenclast_epi128(b[j], rk[10]));
  }
  if (i < n) EncryptAesNi(rk_bytes, in + 16 * i, out + 16 * i, n - i);
}
#else
bool CpuHasAesNi() { return false; }
#endif

void EncryptOpenSsl(const uint8_t* key, const uint8_t* in, uint8_t* out, size_t n) {
  // A context per call keeps this path thread-safe; it is only the fallback.
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  bool ok = ctx != nullptr && EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr, key, nullptr) == 1 &&
            EVP_CIPHER_CTX_set_padding(ctx, 0) == 1;
  // EVP takes int lengths: feed at most 2^26 blocks per call.
  while (ok && n > 0) {
    size_t chunk = n < (size_t{1} << 26) ? n : (size_t{1} << 26);
    ok = EVP_EncryptUpdate(ctx, out, &len, in, static_cast<int>(chunk * kAesBlockBytes)) == 1;
    in += chunk * kAesBlockBytes;
    out += chunk * kAesBlockBytes;
    n -= chunk;
  }
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) {
    // Only reachable if OpenSSL cannot run AES-128 at all: a broken install.
    std::fprintf(stderr, "telltale: OpenSSL AES-128-ECB failed\n");
    std::abort();
  }
}

StatusOr<AesBlockCipher::State*> NewState(std::span<const uint8_t, kAes128KeyBytes> key) {
  TT_RETURN_IF_ERROR(EnsureSodiumInitialized());
  void* p = sodium_malloc(sizeof(AesBlockCipher::State));
  if (p == nullptr) return Status::Internal("sodium_malloc failed for the AES key schedule");
  auto* st = static_cast<AesBlockCipher::State*>(p);
  std::memset(st, 0, sizeof *st);
  std::memcpy(st->key, key.data(), kAes128KeyBytes);
  return st;
}

}  // namespace

StatusOr<AesBlockCipher> AesBlockCipher::Create(std::span<const uint8_t, kAes128KeyBytes> key) {
  AesBlockCipher c;
  TT_ASSIGN_OR_RETURN(c.state_, NewState(key));
#ifdef TT_HAVE_X86
  if (CpuHasAesNi()) {
    ExpandKeyAesNi(key.data(), c.state_->round_keys);
    for (int i = 0; i < 11; ++i) {
      for (int lane = 0; lane < 4; ++lane) {
        std::memcpy(c.state_->round_keys_x4 + 64 * i + 16 * lane, c.state_->round_keys + 16 * i, 16);
      }
    }
    c.aesni_ = true;
  }
#endif
  return c;
}

StatusOr<AesBlockCipher> AesBlockCipher::CreatePortable(std::span<const uint8_t, kAes128KeyBytes> key) {
  AesBlockCipher c;
  TT_ASSIGN_OR_RETURN(c.state_, NewState(key));
  return c;
}

AesBlockCipher::AesBlockCipher(AesBlockCipher&& o) noexcept : state_(o.state_), aesni_(o.aesni_) {
  o.state_ = nullptr;
}

AesBlockCipher& AesBlockCipher::operator=(AesBlockCipher&& o) noexcept {
  if (this != &o) {
    if (state_ != nullptr) sodium_free(state_);
    state_ = o.state_;
    aesni_ = o.aesni_;
    o.state_ = nullptr;
  }
  return *this;
}

AesBlockCipher::~AesBlockCipher() {
  if (state_ != nullptr) sodium_free(state_);
}

void AesBlockCipher::EncryptBlocks(const uint8_t* in, uint8_t* out, size_t n) const {
  if (n == 0) return;
#ifdef TT_HAVE_X86
  if (aesni_) {
    if (n >= 32 && CpuHasVaes512()) {
      EncryptVaes(state_->round_keys_x4, state_->round_keys, in, out, n);
    } else {
      EncryptAesNi(state_->round_keys, in, out, n);
    }
    return;
  }
#endif
  EncryptOpenSsl(state_->key, in, out, n);
}

}  // namespace telltale
