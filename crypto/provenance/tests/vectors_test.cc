// The public vectors: RFC 6962 Merkle roots, inclusion and consistency
// proofs (transparency-dev), RFC 8785 JCS (cyberphone) and C2SP signed notes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/file_io.h"
#include "common/hex.h"
#include "common/base64.h"
#include "crypto/provenance/jcs.h"
#include "crypto/provenance/merkle.h"
#include "crypto/provenance/signed_note.h"

namespace telltale::provenance {
namespace {

namespace fs = std::filesystem;
const fs::path kVectors = fs::path(TELLTALE_SHARED_DIR) / "vectors";

Json LoadJson(const fs::path& p) {
  auto text = ReadFile(p.string());
  EXPECT_TRUE(text.ok()) << p;
  auto j = ParseJsonStrict(*text, p.string());
  EXPECT_TRUE(j.ok()) << j.status().message();
  return *j;
}

std::vector<uint8_t> B64(const Json& v) {
  if (v.is_null()) return {};
  auto d = Base64Decode(v.get<std::string>(), "vector");
  EXPECT_TRUE(d.ok());
  return {d->begin(), d->end()};
}

// Proof hashes of the wrong length cannot be a proof; report them as the
// verification failure they are.
bool ToProof(const Json& v, std::vector<Hash>* out) {
  if (v.is_null()) return true;
  for (const Json& e : v) {
    auto b = B64(e);
    if (b.size() != 32) return false;
    Hash h;
    std::copy(b.begin(), b.end(), h.begin());
    out->push_back(h);
  }
  return true;
}

std::vector<fs::path> Files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(MerkleVectors, Roots) {
  Json j = LoadJson(kVectors / "merkle/roots.json");
  std::vector<Hash> leaves;
  const auto& inputs = j["leaf_inputs_hex"];
  const auto& roots = j["root_hashes_hex"];
  ASSERT_EQ(roots.size(), inputs.size() + 1);
  for (size_t n = 0; n <= inputs.size(); ++n) {
    EXPECT_EQ(HexEncode(MerkleRoot(leaves)), roots[n].get<std::string>()) << "n=" << n;
    if (n == inputs.size()) break;
    std::string hex = inputs[n].get<std::string>();
    std::vector<uint8_t> leaf(hex.size() / 2);
    ASSERT_TRUE(HexDecode(hex, leaf, "leaf").ok());
    leaves.push_back(MerkleLeafHash(leaf));
  }
  // Generated proofs verify for every (index, size) and every size pair.
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    std::span<const Hash> d(leaves.data(), n);
    Hash root = MerkleRoot(d);
    for (uint64_t i = 0; i < n; ++i) {
      auto proof = MerkleInclusionProof(d, i);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(VerifyMerkleInclusion(i, n, leaves[i], *proof, root).ok()) << i << "/" << n;
    }
    for (uint64_t m = 1; m <= n; ++m) {
      auto proof = MerkleConsistencyProof(d, m);
      ASSERT_TRUE(proof.ok());
      Hash old_root = MerkleRoot(d.subspan(0, m));
      EXPECT_TRUE(VerifyMerkleConsistency(m, n, *proof, old_root, root).ok()) << m << "->" << n;
    }
  }
}

TEST(MerkleVectors, Inclusion) {
  auto files = Files(kVectors / "merkle/inclusion");
  ASSERT_GT(files.size(), 90u);
  for (const auto& f : files) {
    Json j = LoadJson(f);
    std::vector<Hash> proof;
    bool ok = ToProof(j["proof"], &proof) &&
              VerifyMerkleInclusion(j["leafIdx"].get<uint64_t>(), j["treeSize"].get<uint64_t>(), B64(j["leafHash"]),
                                    proof, B64(j["root"]))
                  .ok();
    EXPECT_EQ(ok, !j["wantErr"].get<bool>()) << f << ": " << j["desc"];
  }
}

TEST(MerkleVectors, Consistency) {
  auto files = Files(kVectors / "merkle/consistency");
  ASSERT_GT(files.size(), 90u);
  for (const auto& f : files) {
    Json j = LoadJson(f);
    std::vector<Hash> proof;
    bool ok = ToProof(j["proof"], &proof) &&
              VerifyMerkleConsistency(j["size1"].get<uint64_t>(), j["size2"].get<uint64_t>(), proof, B64(j["root1"]),
                                      B64(j["root2"]))
                  .ok();
    EXPECT_EQ(ok, !j["wantErr"].get<bool>()) << f << ": " << j["desc"];
  }
}

TEST(JcsVectors, AllInputs) {
  int count = 0;
  for (auto& e : fs::directory_iterator(kVectors / "jcs/input")) {
    auto in = ReadFile(e.path().string());
    auto want = ReadFile((kVectors / "jcs/output" / e.path().filename()).string());
    ASSERT_TRUE(in.ok() && want.ok());
    auto parsed = ParseJsonStrict(*in, e.path().string());
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    auto canon = CanonicalJson(*parsed);
    ASSERT_TRUE(canon.ok());
    EXPECT_EQ(*canon, *want) << e.path();
    // outhex holds the same bytes in hex; check it too so both files agree.
    auto hex = ReadFile((kVectors / "jcs/outhex" / e.path().filename().replace_extension(".txt")).string());
    ASSERT_TRUE(hex.ok());
    std::string digits;
    for (char c : *hex) {
      if (std::isxdigit(static_cast<unsigned char>(c))) digits.push_back(c);
    }
    EXPECT_EQ(HexEncode(AsByteSpan(*canon)), digits) << e.path();
    ++count;
  }
  EXPECT_EQ(count, 6);
}

TEST(JcsNumbers, Es6Serialization) {
  // Sample lines from the cyberphone ES6 number test file, plus edge cases.
  struct Case {
    uint64_t bits;
    const char* want;
  } cases[] = {
      {0x4340000000000001, "9007199254740994"}, {0x4340000000000002, "9007199254740996"},
      {0x444b1ae4d6e2ef50, "1e+21"},            {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"}, {0x8000000000000000, "0"},
      {0x0, "0"},                                {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0x0000000000000001, "5e-324"},            {0x44b52d02c7e14af6, "1e+23"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
  };
  for (const auto& c : cases) {
    double d;
    std::memcpy(&d, &c.bits, 8);
    EXPECT_EQ(FormatEs6Number(d), c.want) << std::hex << c.bits;
  }
}

TEST(JcsParse, RejectsDuplicateNames) {
  auto r = ParseJsonStrict(R"({"a":1,"b":{"a":2,"a":3}})", "doc");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("duplicate object member 'a'"), std::string::npos);
  EXPECT_TRUE(ParseJsonStrict(R"({"a":{"a":1},"b":{"a":2}})", "doc").ok());
  EXPECT_FALSE(ParseJsonStrict("{\"a\":1} x", "doc").ok());
}

TEST(SignedNoteVectors, SpecExamplesVerify) {
  Json j = LoadJson(kVectors / "signed-note/vectors.json");
  for (const Json& n : j["notes"]) {
    auto key = ParseVerifierKey(n["verifier_key"].get<std::string>());
    ASSERT_TRUE(key.ok()) << key.status().message();
    EXPECT_EQ(HexEncode(key->NoteKeyId()), n["key_id_hex"].get<std::string>());
    EXPECT_EQ(key->VerifierKey(), n["verifier_key"].get<std::string>());
    std::string note = n["note"].get<std::string>();
    auto parsed = ParseSignedNote(note);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    EXPECT_EQ(parsed->text, n["text"].get<std::string>());
    EXPECT_TRUE(VerifySignedNote(*parsed, *key).ok());
    for (const Json& other : j["other_verifier_keys"]) {
      auto okey = ParseVerifierKey(other.get<std::string>());
      ASSERT_TRUE(okey.ok());
      EXPECT_FALSE(VerifySignedNote(*parsed, *okey).ok());
    }
    // Ed25519 is deterministic: re-signing with the published private key
    // must reproduce the note byte for byte.
    if (n.contains("signer_key")) {
      std::string sk = n["signer_key"].get<std::string>();  // PRIVATE+KEY+name+id+base64(0x01||seed)
      size_t pos = 0;
      for (int k = 0; k < 4; ++k) pos = sk.find('+', pos) + 1;
      std::string b64 = sk.substr(pos);
      auto raw = Base64Decode(b64, "signer key");
      ASSERT_TRUE(raw.ok());
      ASSERT_EQ(raw->size(), 33u);
      auto signer = SigningKey::FromSeed(key->name, AsByteSpan(std::string_view(*raw).substr(1)));
      ASSERT_TRUE(signer.ok());
      EXPECT_EQ(signer->public_key().VerifierKey(), key->VerifierKey());
      auto resigned = SignNote(parsed->text, *signer);
      ASSERT_TRUE(resigned.ok());
      EXPECT_EQ(*resigned, note);
    }
    // Any single flipped byte breaks the note.
    for (size_t i = 0; i < note.size(); ++i) {
      std::string bad = note;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      auto p = ParseSignedNote(bad);
      EXPECT_FALSE(p.ok() && VerifySignedNote(*p, *key).ok()) << "byte " << i;
    }
  }
}

}  // namespace
}  // namespace telltale::provenance
