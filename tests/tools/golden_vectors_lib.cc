#include <cstdio>

#include "common/hex.h"
#include "crypto/hkdf.h"
#include "crypto/key_file.h"
#include "detect/detector.h"
#include "tests/tools/golden_vectors.h"
#include "watermark/context_hash.h"
#include "watermark/keyed_prf.h"

namespace telltale {
namespace {

SecretKey KeyFromSeed(uint8_t seed) {
  std::array<uint8_t, kSecretKeyBytes> b{};
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(seed + 17 * i);
  return SecretKey::FromBytes(b).value();
}

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

nlohmann::json MakeGoldenVectors() {
  nlohmann::json out;
  out["format"] = "telltale-golden-vectors v1";
  const SecretKey key = KeyFromSeed(3);
  out["key_hex"] = HexEncode(key.bytes());
  out["key_id"] = key.KeyId();

  const SecretKey derived = DeriveTenantKey(key, {"acme", "eu-west", "2026-11"}).value();
  out["derive"] = {{"tenant", "acme"}, {"region", "eu-west"}, {"epoch", "2026-11"}, {"key_hex", HexEncode(derived.bytes())}};

  nlohmann::json hashes = nlohmann::json::array();
  const std::vector<std::vector<int32_t>> windows = {{0}, {1}, {50256}, {7, 7}, {1, 2, 3, 4}, {2147483647}};
  for (const auto& w : windows) {
    hashes.push_back({{"window", w},
                      {"left", Hex64(LeftContextHash(w.data(), static_cast<int>(w.size())))},
                      {"self_candidate", 42},
                      {"self", Hex64(SelfContextHash(w.data(), static_cast<int>(w.size()), 42))}});
  }
  out["context_hashes"] = hashes;

  // A fixed document with repeats, so dedup is exercised.
  std::vector<int32_t> doc;
  uint64_t s = 99;
  for (int i = 0; i < 60; ++i) doc.push_back(static_cast<int32_t>((s = s * 6364136223846793005ULL + 1442695040888963407ULL) >> 33) % 97);
  for (int i = 0; i < 10; ++i) doc.push_back(doc[i]);
  out["document"] = doc;

  nlohmann::json schemes = nlohmann::json::array();
  for (const char* text : {"kgw:gamma=0.25,delta=2,h=1", "kgw:gamma=0.5,h=2", "kgw:gamma=0.3,h=1",
                           "kgw:gamma=0.125,seeding=self,h=3", "unigram:gamma=0.5", "gumbel:h=1"}) {
    const SchemeSpec spec = SchemeSpec::Parse(text).value();
    nlohmann::json c;
    c["scheme"] = spec.ToString();
    c["prf_identity"] = spec.PrfIdentity();
    uint8_t prf_key[16];
    (void)HkdfSha256(key.bytes(), AsBytes("telltale/prf/v1"), AsBytes(spec.PrfIdentity()), prf_key);
    c["prf_key_hex"] = HexEncode(prf_key);
    const KeyedPrf prf = KeyedPrf::Create(key, spec).value();
    uint8_t blocks[3 * 16];
    prf.ContextBlocks(0x0123456789abcdefULL, 5, 3, blocks);
    c["blocks"] = {{"ctx", "0123456789abcdef"}, {"first_block", 5}, {"out_hex", HexEncode(blocks)}};

    nlohmann::json positions = nlohmann::json::array();
    for (int64_t i = 0; i < 12; ++i) {
      uint64_t ctx;
      if (!ScoringContext(spec, doc.data(), i, &ctx)) continue;
      uint32_t slot;
      prf.TokenSlots(&ctx, &doc[i], 1, &slot);
      positions.push_back({{"pos", i}, {"ctx", Hex64(ctx)}, {"slot", slot}});
    }
    c["positions"] = positions;
    const Detector det = Detector::Create(key, spec).value();
    DetectOptions opt;
    opt.per_token = false;
    const Detection d = det.Score(doc, opt).value();
    c["detect"] = {{"dedup", "context+token"}, {"scored", d.scored}, {"score", d.score}, {"log10_p", d.log10_p}};
    schemes.push_back(c);
  }
  out["schemes"] = schemes;
  return out;
}

}  // namespace telltale
