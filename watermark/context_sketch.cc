#include "watermark/context_sketch.h"

#include <sodium.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "common/file_io.h"
#include "common/hex.h"
#include "crypto/hkdf.h"
#include "watermark/context_hash.h"

namespace telltale {
namespace {

constexpr char kMagic[8] = {'T', 'T', 'S', 'K', 'E', 'T', 'C', 'H'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kMaxBloomBits = uint64_t{1} << 36;  // 8 GiB: far beyond any batch
constexpr uint32_t kMaxProbes = 32;
constexpr size_t kChecksumBytes = crypto_hash_sha256_BYTES;

void PutU32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}

// Bounds-checked little-endian reader; every failure names the field.
class Reader {
 public:
  Reader(std::string_view b, const std::string& origin) : b_(b), origin_(origin) {}
  Status Need(size_t n, const char* what) {
    if (b_.size() - pos_ < n) {
      return Status::DataLoss(origin_ + ": context sketch truncated while reading " + what + " at byte " +
                                     std::to_string(pos_));
    }
    return Status::Ok();
  }
  StatusOr<uint64_t> U(int bytes, const char* what) {
    TT_RETURN_IF_ERROR(Need(static_cast<size_t>(bytes), what));
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<uint8_t>(b_[pos_ + i])} << (8 * i);
    pos_ += static_cast<size_t>(bytes);
    return v;
  }
  StatusOr<std::string> Lp(const char* what) {
    TT_ASSIGN_OR_RETURN(uint64_t n, U(4, what));
    if (n > 4096) return Status::InvalidArgument(origin_ + ": context sketch " + what + " length " +
                                                 std::to_string(n) + " is implausible");
    TT_RETURN_IF_ERROR(Need(n, what));
    std::string s(b_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  size_t pos() const { return pos_; }
  size_t left() const { return b_.size() - pos_; }

 private:
  std::string_view b_;
  const std::string& origin_;
  size_t pos_ = 0;
};

std::string ShaHex(std::string_view data) {
  uint8_t d[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(d, reinterpret_cast<const uint8_t*>(data.data()), data.size());
  return HexEncode(d);
}

}  // namespace

StatusOr<ContextSketch> ContextSketch::Create(const SecretKey& key, const SchemeSpec& spec,
                                              const SketchOptions& options) {
  if (spec.family == SchemeFamily::kUnigram) {
    return Status::InvalidArgument("unigram has no context window (every context hash is 0): a context sketch "
                                   "cannot restrict it; use kgw or gumbel");
  }
  if (spec.family == SchemeFamily::kKgw && spec.seeding == Seeding::kSelf) {
    return Status::InvalidArgument("self-seeded kgw mixes the emitted token into the context hash, so a context "
                                   "sketch would select tuples by the generator's green-biased choices; use "
                                   "seeding=left");
  }
  TT_RETURN_IF_ERROR(EnsureSodiumInitialized());
  uint8_t k[kAes128KeyBytes];
  TT_RETURN_IF_ERROR(
      HkdfSha256(key.bytes(), AsBytes("telltale/context-sketch/v1"), AsBytes(spec.PrfIdentity()), k));
  auto cipher = AesBlockCipher::Create(k);
  sodium_memzero(k, sizeof k);
  if (!cipher.ok()) return cipher.status();
  ContextSketch s(spec, key.KeyId(), std::move(cipher).value());
  s.kind_ = options.kind;
  if (options.kind == SketchKind::kExact) {
    s.table_.assign(1024, 0);
  } else if (options.kind == SketchKind::kBloom) {
    if (!(options.target_fpr > 0 && options.target_fpr < 1)) {
      return Status::InvalidArgument("bloom false-positive rate must be in (0, 1), got " +
                                     std::to_string(options.target_fpr));
    }
    if (options.expected_contexts == 0) return Status::InvalidArgument("bloom expected contexts must be >= 1");
    const double ln2 = std::log(2.0);
    const double n = static_cast<double>(options.expected_contexts);
    const double m = std::ceil(-n * std::log(options.target_fpr) / (ln2 * ln2));
    if (m > static_cast<double>(kMaxBloomBits)) {
      return Status::InvalidArgument("bloom filter for " + std::to_string(options.expected_contexts) +
                                     " contexts at rate " + std::to_string(options.target_fpr) +
                                     " needs more than 2^36 bits; use the exact kind or a higher rate");
    }
    s.bloom_bits_ = std::max<uint64_t>(64, (static_cast<uint64_t>(m) + 63) / 64 * 64);
    const double k_opt = static_cast<double>(s.bloom_bits_) / n * ln2;
    s.probes_ = static_cast<uint32_t>(std::clamp<double>(std::round(k_opt), 1, kMaxProbes));
    s.bits_.assign(s.bloom_bits_ / 64, 0);
  } else {
    return Status::InvalidArgument("unknown sketch kind " + std::to_string(static_cast<uint32_t>(options.kind)));
  }
  return s;
}

void ContextSketch::Entry(uint64_t c, uint64_t* lo, uint64_t* hi) const {
  alignas(16) uint8_t block[16] = {};
  for (int i = 0; i < 8; ++i) block[i] = static_cast<uint8_t>(c >> (8 * i));
  cipher_.EncryptBlocks(block, block, 1);
  uint64_t a = 0, b = 0;
  for (int i = 0; i < 8; ++i) {
    a |= uint64_t{block[i]} << (8 * i);
    b |= uint64_t{block[8 + i]} << (8 * i);
  }
  *lo = a;
  *hi = b;
}

bool ContextSketch::InsertExact(uint64_t v) {
  if (v == 0) {
    if (has_zero_) return false;
    has_zero_ = true;
    ++size_;
    return true;
  }
  if (2 * (size_ + 1) > table_.size()) GrowExact();
  const size_t mask = table_.size() - 1;
  // v is an AES output, so its low bits are uniform and index directly.
  for (size_t i = static_cast<size_t>(v) & mask;; i = (i + 1) & mask) {
    if (table_[i] == v) return false;
    if (table_[i] == 0) {
      table_[i] = v;
      ++size_;
      return true;
    }
  }
}

bool ContextSketch::ContainsExact(uint64_t v) const {
  if (v == 0) return has_zero_;
  const size_t mask = table_.size() - 1;
  for (size_t i = static_cast<size_t>(v) & mask;; i = (i + 1) & mask) {
    if (table_[i] == v) return true;
    if (table_[i] == 0) return false;
  }
}

void ContextSketch::GrowExact() {
  std::vector<uint64_t> old;
  old.swap(table_);
  table_.assign(std::max<size_t>(1024, old.size() * 2), 0);
  const size_t mask = table_.size() - 1;
  for (uint64_t v : old) {
    if (v == 0) continue;
    size_t i = static_cast<size_t>(v) & mask;
    while (table_[i] != 0) i = (i + 1) & mask;
    table_[i] = v;
  }
}

void ContextSketch::Add(uint64_t context_hash) {
  uint64_t lo, hi;
  Entry(context_hash, &lo, &hi);
  if (kind_ == SketchKind::kExact) {
    InsertExact(lo);
    return;
  }
  hi |= 1;
  bool fresh = false;
  uint64_t p = lo;
  for (uint32_t i = 0; i < probes_; ++i, p += hi) {
    const uint64_t bit = p % bloom_bits_;
    uint64_t& w = bits_[bit / 64];
    const uint64_t m = uint64_t{1} << (bit % 64);
    fresh |= (w & m) == 0;
    w |= m;
  }
  size_ += fresh;
}

bool ContextSketch::MayContain(uint64_t context_hash) const {
  uint64_t lo, hi;
  Entry(context_hash, &lo, &hi);
  if (kind_ == SketchKind::kExact) return ContainsExact(lo);
  hi |= 1;
  uint64_t p = lo;
  for (uint32_t i = 0; i < probes_; ++i, p += hi) {
    const uint64_t bit = p % bloom_bits_;
    if ((bits_[bit / 64] >> (bit % 64) & 1) == 0) return false;
  }
  return true;
}

Status ContextSketch::Record(std::span<const int32_t> tokens, int64_t prompt_tokens) {
  if (prompt_tokens < 0) return Status::InvalidArgument("prompt length must be >= 0");
  const int64_t n = static_cast<int64_t>(tokens.size());
  for (int64_t i = 0; i < n; ++i) {
    if (tokens[i] < 0) {
      return Status::InvalidArgument("token at position " + std::to_string(i) + " is negative (" +
                                     std::to_string(tokens[i]) + ")");
    }
  }
  for (int64_t i = std::min(prompt_tokens, n); i < n; ++i) {
    uint64_t ctx;
    if (ScoringContext(spec_, tokens.data(), i, &ctx)) Add(ctx);
  }
  return Status::Ok();
}

Status ContextSketch::Merge(const ContextSketch& other) {
  if (other.key_id_ != key_id_ || !(other.spec_ == spec_) || other.kind_ != kind_ ||
      other.bloom_bits_ != bloom_bits_ || other.probes_ != probes_) {
    return Status::FailedPrecondition("cannot merge context sketches of different keys, schemes, kinds or sizes");
  }
  if (kind_ == SketchKind::kExact) {
    if (other.has_zero_) InsertExact(0);
    for (uint64_t v : other.table_) {
      if (v != 0) InsertExact(v);
    }
    return Status::Ok();
  }
  for (size_t i = 0; i < bits_.size(); ++i) bits_[i] |= other.bits_[i];
  size_ += other.size_;  // an upper bound on the union's distinct count; documented as approximate
  return Status::Ok();
}

double ContextSketch::false_positive_rate() const {
  if (kind_ == SketchKind::kExact) return static_cast<double>(size_) / 0x1.0p64;
  uint64_t set = 0;
  for (uint64_t w : bits_) set += static_cast<uint64_t>(std::popcount(w));
  return std::pow(static_cast<double>(set) / static_cast<double>(bloom_bits_), probes_);
}

std::string ContextSketch::Serialize() const {
  std::string s(kMagic, sizeof kMagic);
  PutU32(s, kVersion);
  PutU32(s, static_cast<uint32_t>(kind_));
  const std::string id = spec_.PrfIdentity();
  PutU32(s, static_cast<uint32_t>(id.size()));
  s += id;
  PutU32(s, static_cast<uint32_t>(key_id_.size()));
  s += key_id_;
  PutU64(s, size_);
  if (kind_ == SketchKind::kExact) {
    std::vector<uint64_t> v;
    v.reserve(size_);
    if (has_zero_) v.push_back(0);
    for (uint64_t x : table_) {
      if (x != 0) v.push_back(x);
    }
    std::sort(v.begin(), v.end());
    PutU64(s, v.size());
    for (uint64_t x : v) PutU64(s, x);
  } else {
    PutU64(s, bloom_bits_);
    PutU32(s, probes_);
    PutU32(s, 0);
    for (uint64_t w : bits_) PutU64(s, w);
  }
  uint8_t d[kChecksumBytes];
  crypto_hash_sha256(d, reinterpret_cast<const uint8_t*>(s.data()), s.size());
  s.append(reinterpret_cast<const char*>(d), sizeof d);
  return s;
}

Status ContextSketch::Save(const std::string& path) const { return WriteFileAtomically(path, Serialize(), 0644); }

std::string ContextSketch::Digest() const { return ShaHex(Serialize()); }

StatusOr<ContextSketch> ContextSketch::Parse(std::string_view bytes, const SecretKey& key, const SchemeSpec& spec,
                                             const std::string& origin) {
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return Status::InvalidArgument(origin + ": not a telltale context sketch (bad magic)");
  }
  if (bytes.size() < sizeof kMagic + kChecksumBytes) {
    return Status::DataLoss(origin + ": context sketch truncated (no checksum)");
  }
  const std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
  uint8_t d[kChecksumBytes];
  crypto_hash_sha256(d, reinterpret_cast<const uint8_t*>(body.data()), body.size());
  if (std::memcmp(d, bytes.data() + body.size(), kChecksumBytes) != 0) {
    return Status::DataLoss(origin + ": context sketch checksum mismatch (truncated or altered file)");
  }
  Reader r(body, origin);
  TT_ASSIGN_OR_RETURN(uint64_t magic, r.U(8, "magic"));
  static_cast<void>(magic);  // compared above
  TT_ASSIGN_OR_RETURN(uint64_t version, r.U(4, "version"));
  if (version != kVersion) {
    return Status::InvalidArgument(origin + ": context sketch version " + std::to_string(version) +
                                   " is not supported (this build reads version 1)");
  }
  TT_ASSIGN_OR_RETURN(uint64_t kind, r.U(4, "kind"));
  if (kind != static_cast<uint64_t>(SketchKind::kExact) && kind != static_cast<uint64_t>(SketchKind::kBloom)) {
    return Status::InvalidArgument(origin + ": unknown context sketch kind " + std::to_string(kind));
  }
  TT_ASSIGN_OR_RETURN(std::string prf_identity, r.Lp("scheme identity"));
  TT_ASSIGN_OR_RETURN(std::string key_id, r.Lp("key id"));
  if (prf_identity != spec.PrfIdentity()) {
    return Status::FailedPrecondition(origin + ": context sketch was recorded for scheme " + prf_identity +
                                      ", not " + spec.PrfIdentity());
  }
  if (key_id != key.KeyId()) {
    return Status::FailedPrecondition(origin + ": context sketch was recorded under key " + key_id + ", not " +
                                      key.KeyId());
  }
  TT_ASSIGN_OR_RETURN(uint64_t size, r.U(8, "size"));
  SketchOptions opt;
  opt.kind = static_cast<SketchKind>(kind);
  if (opt.kind == SketchKind::kBloom) opt.expected_contexts = 1, opt.target_fpr = 0.5;  // resized below
  TT_ASSIGN_OR_RETURN(ContextSketch s, Create(key, spec, opt));
  if (opt.kind == SketchKind::kExact) {
    TT_ASSIGN_OR_RETURN(uint64_t count, r.U(8, "entry count"));
    if (count != size || r.left() != count * 8) {
      return Status::InvalidArgument(origin + ": context sketch entry count " + std::to_string(count) +
                                     " does not match its size field or the file length");
    }
    uint64_t prev = 0;
    for (uint64_t i = 0; i < count; ++i) {
      TT_ASSIGN_OR_RETURN(uint64_t v, r.U(8, "entry"));
      if (i > 0 && v <= prev) {
        return Status::InvalidArgument(origin + ": context sketch entries are not strictly increasing at entry " +
                                       std::to_string(i));
      }
      prev = v;
      s.InsertExact(v);
    }
  } else {
    TT_ASSIGN_OR_RETURN(uint64_t m, r.U(8, "bloom bit count"));
    TT_ASSIGN_OR_RETURN(uint64_t k, r.U(4, "bloom probe count"));
    TT_ASSIGN_OR_RETURN(uint64_t reserved, r.U(4, "reserved word"));
    if (m == 0 || m % 64 != 0 || m > kMaxBloomBits || k == 0 || k > kMaxProbes || reserved != 0 ||
        r.left() != m / 8) {
      return Status::InvalidArgument(origin + ": context sketch bloom header is invalid (m=" + std::to_string(m) +
                                     ", k=" + std::to_string(k) + ", " + std::to_string(r.left()) +
                                     " bytes of bits)");
    }
    s.bloom_bits_ = m;
    s.probes_ = static_cast<uint32_t>(k);
    s.bits_.assign(m / 64, 0);
    for (uint64_t& w : s.bits_) {
      TT_ASSIGN_OR_RETURN(w, r.U(8, "bloom word"));
    }
    s.size_ = size;
  }
  return s;
}

StatusOr<ContextSketch> ContextSketch::Load(const std::string& path, const SecretKey& key, const SchemeSpec& spec) {
  TT_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return Parse(bytes, key, spec, path);
}

}  // namespace telltale
