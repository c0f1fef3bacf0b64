// ContextSketch: a keyed, compact record of the watermark contexts a
// generator emitted (the "supervised filter" of Sander et al. 2024).
//
// What is recorded: for every watermarked position the scheme's unkeyed
// context hash c (ScoringContext in watermark/context_hash.h: the left hash
// of the h previous tokens; for self-seeded kgw it also covers the emitted
// token). c is hashed again under a key derived from the watermark key,
//   sketch_key = HKDF-SHA256(key, salt "telltale/context-sketch/v1",
//                            info = SchemeSpec::PrfIdentity(), L = 16)
//   e(c)       = AES-128(sketch_key, LE64(c) || LE64(0))   (128 bits)
// so the stored bits reveal nothing about which token windows were produced
// to anyone without the key (c alone is a public function of the tokens).
//
// Two kinds (byte format: docs/spec/audit.md):
//  - kExact: the set of low 64 bits of e(c). A query is a false positive
//    only on a 64-bit collision: rate <= n / 2^64.
//  - kBloom: m bits, k probes (i-th probe: (lo + i*hi) mod m, lo/hi the two
//    64-bit halves of e(c), hi forced odd). Its false-positive rate for a
//    context never recorded is exactly (set bits / m)^k for a random
//    key, which false_positive_rate() reports from the filter itself.
//
// Create refuses two schemes. Unigram has no context (c is always 0).
// Self-seeded kgw mixes the emitted token into c, so "c was recorded" would
// mean "the generator chose exactly this token here", a choice the
// watermark biased towards green: filtering on it would make even a clean
// model's tuples look green. For left-seeded kgw and gumbel, c depends only
// on the h previous tokens, which is what a valid filter needs.
//
// Ownership: owns its derived AES key (wiped on destruction); move-only.
// Thread-safety: Add/Record are not thread-safe (one recorder per writer);
// MayContain and the other const methods may run concurrently with each
// other, never with Add.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/aes_block_cipher.h"
#include "crypto/secret_key.h"
#include "watermark/scheme_spec.h"

namespace telltale {

enum class SketchKind : uint32_t { kExact = 1, kBloom = 2 };

struct SketchOptions {
  SketchKind kind = SketchKind::kExact;
  // kBloom only: size the filter for this many distinct contexts at this
  // false-positive rate (m = -n ln p / ln^2 2, k = round(m/n ln 2)).
  uint64_t expected_contexts = 1 << 20;
  double target_fpr = 1e-3;
};

class ContextSketch {
 public:
  static StatusOr<ContextSketch> Create(const SecretKey& key, const SchemeSpec& spec, const SketchOptions& options);
  // Parses a serialized sketch; fails with InvalidArgument (bad magic,
  // version, truncation, checksum) or FailedPrecondition when the key or
  // scheme differ from the ones it was recorded under (DataLoss for a
  // truncated or corrupted file). `origin` names the
  // source in errors.
  static StatusOr<ContextSketch> Parse(std::string_view bytes, const SecretKey& key, const SchemeSpec& spec,
                                       const std::string& origin);
  static StatusOr<ContextSketch> Load(const std::string& path, const SecretKey& key, const SchemeSpec& spec);

  ContextSketch(ContextSketch&&) noexcept = default;
  ContextSketch& operator=(ContextSketch&&) noexcept = default;

  // Records one unkeyed context hash.
  void Add(uint64_t context_hash);
  // Records every position of a generated sequence that the watermarker
  // biased: positions >= prompt_tokens with enough context. Fails on
  // negative token ids or a negative prompt length.
  Status Record(std::span<const int32_t> tokens, int64_t prompt_tokens);
  // Merges another sketch of the same key, scheme and kind (Bloom: same m
  // and k), e.g. one per generation worker.
  Status Merge(const ContextSketch& other);

  bool MayContain(uint64_t context_hash) const;

  SketchKind kind() const { return kind_; }
  const SchemeSpec& spec() const { return spec_; }
  const std::string& key_id() const { return key_id_; }
  // Distinct contexts stored (exact), or Add/Record calls that set a new bit
  // (Bloom; a lower bound on distinct contexts).
  uint64_t size() const { return size_; }
  uint64_t bloom_bits() const { return bloom_bits_; }
  uint32_t bloom_probes() const { return probes_; }
  double false_positive_rate() const;

  // Deterministic bytes (exact entries sorted), ending in a SHA-256
  // checksum of everything before it.
  std::string Serialize() const;
  Status Save(const std::string& path) const;  // atomic
  // Lower-case hex SHA-256 of Serialize(): what a provenance
  // generation-batch statement references.
  std::string Digest() const;

 private:
  ContextSketch(SchemeSpec spec, std::string key_id, AesBlockCipher cipher)
      : spec_(spec), key_id_(std::move(key_id)), cipher_(std::move(cipher)) {}
  void Entry(uint64_t context_hash, uint64_t* lo, uint64_t* hi) const;
  bool InsertExact(uint64_t v);
  bool ContainsExact(uint64_t v) const;
  void GrowExact();

  SchemeSpec spec_;
  std::string key_id_;
  AesBlockCipher cipher_;
  SketchKind kind_ = SketchKind::kExact;
  uint64_t size_ = 0;
  // kExact: open addressing, 0 = empty (value 0 tracked in has_zero_).
  std::vector<uint64_t> table_;
  bool has_zero_ = false;
  // kBloom
  uint64_t bloom_bits_ = 0;
  uint32_t probes_ = 0;
  std::vector<uint64_t> bits_;
};

}  // namespace telltale
