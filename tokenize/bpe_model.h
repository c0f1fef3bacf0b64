// BpeModel: vocabulary, merge table and the BPE merge loop shared by every
// supported format (tokenizer.json BPE, tiktoken ranks, GGUF vocabularies).
//
// A merge is a pair of token ids (a, b) with a rank and the id of the merged
// token. Encoding a piece starts from one symbol per byte (byte-level models)
// or per character (SentencePiece-style models, with <0xXX> byte fallback or
// the unknown token), then repeatedly merges the adjacent pair of lowest rank,
// leftmost first, which is the rule of Hugging Face tokenizers, tiktoken (with
// rank = rank of the merged bytes) and llama.cpp's SPM (rank = score order).
// Short pieces use a linear rank scan; long ones a binary heap.
//
// Thread-safety: immutable after Finalize(); EncodePiece() is reentrant given
// its own Scratch (which holds a bounded per-thread cache of piece -> ids).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/huge_pages.h"
#include "common/status.h"

namespace telltale::tokenize {

struct TokenOut {
  uint32_t id;
  uint32_t begin, end;  // byte range in the text the piece was cut from
};

// Up to 8 bytes at p as a zero-extended little-endian word. Overlapping
// fixed-size loads instead of a variable-length memcpy, which compiles to a
// libc call: hashing and comparing short pieces is on the per-piece path.
inline uint64_t LoadUpTo8(const char* p, size_t n) noexcept {
  if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    return lo | (uint64_t{hi} << (8 * (n - 4)));
  }
  if (n == 0) return 0;
  const auto byte = [p](size_t i) { return uint64_t{static_cast<unsigned char>(p[i])}; };
  return byte(0) | (byte(n / 2) << (8 * (n / 2))) | (byte(n - 1) << (8 * (n - 1)));
}

// A piece of at most 16 bytes as two little-endian words, zero past its
// end: the short memo tier's key and its hash's input. Piece lengths vary
// from piece to piece, so the per-length branches of LoadUpTo8 and a word
// loop mispredicted about once a piece; with 16 readable bytes the words
// are two loads and two masks, whatever the length.
struct PieceWords {
  uint64_t lo, hi;
};

// p[0, n) as PieceWords, n <= 16. `readable`: how many bytes from p may be
// read (the bytes past n are masked off); fewer than 16 takes a copy.
inline PieceWords LoadPieceWords(const char* p, size_t n, size_t readable) noexcept {
  struct Masks {
    uint64_t lo[17], hi[17];
    constexpr Masks() : lo(), hi() {
      for (size_t k = 0; k <= 16; ++k) {
        lo[k] = k >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * k)) - 1;
        hi[k] = k >= 16 ? ~uint64_t{0} : k <= 8 ? 0 : (uint64_t{1} << (8 * (k - 8))) - 1;
      }
    }
  };
  static constexpr Masks kMasks;
  uint64_t lo, hi;
  if (readable >= 16) [[likely]] {
    std::memcpy(&lo, p, 8);
    std::memcpy(&hi, p + 8, 8);
    return {lo & kMasks.lo[n], hi & kMasks.hi[n]};
  }
  char buf[16] = {};
  std::memcpy(buf, p, n);
  std::memcpy(&lo, buf, 8);
  std::memcpy(&hi, buf + 8, 8);
  return {lo, hi};
}

inline size_t ShortPieceHash(PieceWords w, size_t n) noexcept {
  // Two independent products, then a finalizer that folds the high bits
  // into the low ones the memo indexes with.
  uint64_t x = (w.lo ^ 0x9E3779B97F4A7C15ULL) * 0xff51afd7ed558ccdULL ^ (w.hi + n) * 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 29;
  return static_cast<size_t>(x);
}

// Inline: the piece memo hashes every piece, and a call per piece cost more
// than the hash.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept {
    // 8 bytes at a time; good enough for short pieces and vocabulary strings.
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ s.size();
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      h = (h ^ w) * 0xff51afd7ed558ccdULL;
      h ^= h >> 32;
    }
    h = (h ^ LoadUpTo8(s.data() + i, s.size() - i)) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    return static_cast<size_t>(h);
  }
};

class BpeModel {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Per-thread working memory of EncodePiece, and its piece memo (below).
  struct Scratch {
    struct Sym {
      uint32_t id, begin, len;
      int32_t prev, next;
    };
    struct Part {
      uint32_t id, begin, len, rank, merged;
    };
    // left/right: the pair's ids when pushed. An entry is current while
    // both symbols still hold them, which saves a pair lookup per pop.
    struct HeapEntry {
      uint32_t rank, pos, merged, left, right;
    };
    // The piece memo: direct-mapped, in two tiers so that a probe touches
    // one cache line. Short pieces (up to 16 bytes and 3 tokens: 99.9% of
    // English lookups, 85% of Russian) take 32-byte slots, the rest (up to 32
    // bytes and 6 tokens) 64-byte slots. A slot holds the piece's bytes and
    // its tokens inline, so a hit costs one hash and one compare; the last
    // token ends where the piece ends, so its length is not stored.
    template <size_t KeyMax, size_t TokMax, size_t Bytes>
    struct alignas(Bytes) MemoSlot {
      static constexpr size_t kKeyMax = KeyMax, kTokMax = TokMax;
      uint8_t key_len = 0xFF;  // 0xFF: empty
      uint8_t count = 0;
      uint8_t lens[TokMax - 1];
      uint32_t ids[TokMax];
      char key[KeyMax];
    };
    using ShortSlot = MemoSlot<16, 3, 32>;
    using LongSlot = MemoSlot<32, 6, 64>;
    static_assert(sizeof(ShortSlot) == 32 && sizeof(LongSlot) == 64);
    // 4 MiB + 1 MiB per thread. One tier of 2^16 68-byte slots (4.4 MB)
    // missed 4.0% of English lookups, of which 95% were conflicts; 2^17
    // short slots in the same memory miss 2.9%. Larger tiers miss less
    // but cost more per hit in cache and TLB misses (2^17 68-byte slots ran
    // slower, alternating A/B, 2026-12-05); a two-way short tier ran 8%
    // slower on English (paired runs, 2026-12-06; docs/tokenize.md).
    static constexpr size_t kShortSlots = size_t{1} << 17;
    static constexpr size_t kLongSlots = size_t{1} << 14;
    // A piece's slot in each tier (and its bit in short_in_long).
    static size_t ShortIndex(size_t hash) { return hash & (kShortSlots - 1); }
    static size_t LongIndex(size_t hash) { return hash & (kLongSlots - 1); }
    // Allocates (first use) or empties both tiers.
    void ClearCache() {
      short_memo.assign(kShortSlots, ShortSlot{});
      long_memo.assign(kLongSlots, LongSlot{});
      short_in_long.assign(kShortSlots / 64, 0);
    }
    // Empties the memo without freeing it (a different tokenizer's pieces).
    void ForgetCache() {
      short_memo.clear();
      long_memo.clear();
      short_in_long.clear();
    }
    // One bit per short slot index: set once a short piece with that index
    // was stored in the long tier (more than 3 tokens). A short piece that
    // misses its short slot probes the long tier only when its bit is set:
    // that probe was not prefetched, and was a cache miss on every short
    // miss although almost no short piece lives there. Bits are never
    // cleared but with the memo (a stale bit costs one probe).
    std::vector<uint64_t> short_in_long;  // 16 KiB

    std::vector<Sym> syms;
    std::vector<Part> parts;
    std::vector<HeapEntry> heap;
    // false: every piece is encoded from scratch (tests compare against it).
    bool use_memo = true;
    // Allocated on first use; huge pages: probed at random.
    HugePageVector<ShortSlot> short_memo;
    HugePageVector<LongSlot> long_memo;
    std::vector<uint32_t> track;   // backtracking encoder: tokens so far
    std::vector<uint64_t> alive;   // backtracking encoder: positions not yet proven dead
    // Direct-mapped memo of ValidPair: bit 63 set, bit 62 the answer, low
    // bits a << 32 | b (ids are below 2^30). Allocated on first use.
    static constexpr size_t kPairMemoSlots = size_t{1} << 14;
    std::vector<uint64_t> pair_memo;
  };

  // --- building (loaders) ---
  void set_byte_level(bool v) { byte_level_ = v; }
  void set_ignore_merges(bool v) { ignore_merges_ = v; }
  void set_byte_fallback(bool v) { byte_fallback_ = v; }
  void set_unk(uint32_t id, bool fuse) { unk_id_ = id; fuse_unk_ = fuse; }
  // Adds a vocabulary entry: its bytes (raw bytes for byte-level models,
  // UTF-8 text with U+2581 for SentencePiece-style ones).
  // An unreachable token (e.g. a special token whose text is not byte-level
  // encoded) keeps its id and text for decoding but is never produced by
  // merges or whole-piece lookups.
  Status AddToken(std::string bytes, uint32_t id, bool reachable = true);
  // Adds merge (a, b) -> token(a + b) with `rank`; fails when a + b is not in
  // the vocabulary. A pair seen twice keeps its first (lowest) rank.
  Status AddMerge(uint32_t a, uint32_t b, uint32_t rank);
  // Adds every split of every token into two vocabulary tokens as a merge
  // whose rank is rank_of[token]: tiktoken's and SPM's merge rule.
  void AddAllSplits(const std::vector<uint32_t>& rank_of);
  // Checks completeness (every byte has a token in byte-level models) and
  // builds lookup tables. For a large byte-level vocabulary it runs the
  // per-token part of the backtracking tables on up to 4 threads (joined
  // before it returns; it falls back to this thread when none can start).
  Status Finalize();

  // --- queries ---
  uint32_t Find(std::string_view bytes) const;
  const std::string& token(uint32_t id) const { return tokens_[id]; }
  bool has_token(uint32_t id) const { return id < tokens_.size() && present_[id]; }
  size_t size() const { return tokens_.size(); }
  bool byte_level() const { return byte_level_; }
  bool byte_fallback() const { return byte_fallback_; }
  size_t merge_count() const { return merge_count_; }
  // SentencePiece-style models only: true when splitting text before a run
  // of U+2581 that follows byte `prev_last_byte` cannot change the result,
  // because no token contains that byte followed by U+2581 (so no merge can
  // cross the boundary). Lets whole-text pieces be cut into words.
  bool metaspace_split() const { return metaspace_split_; }
  bool SafeBoundaryAfter(unsigned char prev_last_byte) const { return !joins_metaspace_[prev_last_byte]; }

  // Byte-level models whose merge trees pass the checks in BuildBacktrack
  // encode long pieces with the backtracking encoder (bpe_backtrack.cc).
  bool backtracking() const { return !trie_.empty(); }
  // For tests and A/B runs: encode with the merge loop only.
  void DisableBacktracking() { trie_.clear(); }
  // Pieces shorter than this take the merge loop even in backtracking
  // models (faster for a few symbols; bpe_model.cc). Tests set 1 to run the
  // backtracking encoder on every piece.
  static constexpr size_t kBacktrackMinBytes = 25;
  void set_backtrack_min_bytes(size_t n) { backtrack_min_bytes_ = n; }
  // Backtracking models only, a and b valid tokens (BPE of each one's bytes
  // is itself): true when BPE of a's bytes followed by b's is [a, b].
  bool ValidPair(uint32_t a, uint32_t b) const;

  // Encodes `piece` (text[begin, end)) and appends its tokens to `out`.
  // Fails only for a SentencePiece-style character that has neither a token,
  // nor byte-fallback tokens, nor an unknown token.
  Status EncodePiece(std::string_view text, uint32_t begin, uint32_t end, Scratch* scratch,
                     std::vector<TokenOut>* out) const {
    return EncodePiece(text, begin, end, PieceHash(text, begin, end), scratch, out);
  }
  // The same, with `hash` == PieceHash(text[begin, end)) computed by the
  // caller (another value costs only speed: a slot answers only for its own
  // bytes). The memo slot of a piece is a cache miss more often than not
  // (4 MiB, probed at random), so a caller that knows the next pieces hashes
  // them a few ahead and calls PrefetchMemo, and the miss overlaps the work
  // on the pieces before.
  Status EncodePiece(std::string_view text, uint32_t begin, uint32_t end, size_t hash, Scratch* scratch,
                     std::vector<TokenOut>* out) const;
  static size_t PieceHash(std::string_view piece) { return HashPieceBytes(piece.data(), piece.size(), piece.size()); }
  // The same for text[begin, end): the bytes after the piece are readable,
  // which spares the short path its copy except at the end of the text.
  static size_t PieceHash(std::string_view text, uint32_t begin, uint32_t end) {
    return HashPieceBytes(text.data() + begin, end - begin, text.size() - begin);
  }
  // The memo-hit path of EncodePiece, inline for the per-piece loop (a call
  // and a Status per piece cost more than the hit): when the short tier
  // holds text[begin, end), appends its tokens and returns true; otherwise
  // leaves `out` alone and returns false (then call EncodePiece). `hash` as
  // for EncodePiece.
  static bool EncodeShortHit(std::string_view text, uint32_t begin, uint32_t end, size_t hash, const Scratch& s,
                             std::vector<TokenOut>* out) {
    const size_t n = end - begin;
    if (n == 0 || n > Scratch::ShortSlot::kKeyMax || !s.use_memo || s.short_memo.empty()) return false;
    const Scratch::ShortSlot& slot = s.short_memo[Scratch::ShortIndex(hash)];
    if (!ShortSlotHolds(slot, LoadPieceWords(text.data() + begin, n, text.size() - begin), n)) return false;
    EmitMemo(slot, begin, end, out);
    return true;
  }
  // A hint only: no effect on results. Allocates the memo on first use.
  static void PrefetchMemo(size_t hash, size_t piece_bytes, Scratch* s) {
    if (!s->use_memo) return;
    if (s->short_memo.empty()) s->ClearCache();
    if (piece_bytes <= Scratch::ShortSlot::kKeyMax) {
      __builtin_prefetch(&s->short_memo[Scratch::ShortIndex(hash)]);
    } else if (piece_bytes <= Scratch::LongSlot::kKeyMax) {
      __builtin_prefetch(&s->long_memo[Scratch::LongIndex(hash)]);
    }
  }

 private:
  // PieceHash of p[0, n), `readable` bytes from p readable (LoadPieceWords).
  static size_t HashPieceBytes(const char* p, size_t n, size_t readable) {
    if (n <= Scratch::ShortSlot::kKeyMax) return ShortPieceHash(LoadPieceWords(p, n, readable), n);
    return StringHash()(std::string_view(p, n));
  }
  // Appends the tokens memoized in `slot` for the piece text[begin, end).
  template <class Slot>
  static void EmitMemo(const Slot& slot, uint32_t begin, uint32_t end, std::vector<TokenOut>* out) {
    uint32_t at = begin;
    const size_t last = slot.count - 1u;
    for (size_t k = 0; k < last; ++k) {
      out->push_back({slot.ids[k], at, at + slot.lens[k]});
      at += slot.lens[k];
    }
    out->push_back({slot.ids[last], at, end});
  }
  // Whether a short slot holds the piece of `n` bytes whose words are `w`
  // (MemoStore zero-pads keys). One branch, not one per word.
  static bool ShortSlotHolds(const Scratch::ShortSlot& slot, PieceWords w, size_t n) {
    uint64_t lo, hi;
    std::memcpy(&lo, slot.key, 8);
    std::memcpy(&hi, slot.key + 8, 8);
    return ((lo ^ w.lo) | (hi ^ w.hi) | (slot.key_len ^ n)) == 0;
  }

  struct PairSlot {
    uint64_t key;
    uint32_t rank, merged;
  };
  bool LookupPair(uint32_t a, uint32_t b, uint32_t* rank, uint32_t* merged) const {
    uint64_t key = (uint64_t{a} << 32) | b;
    size_t h = Mix(key);
    // Most pairs asked about are not merges; the filter answers those from
    // cache instead of a miss into the big table.
    size_t f = (h >> 32) & pair_filter_mask_;
    if (((pair_filter_[f >> 6] >> (f & 63)) & 1) == 0) return false;
    size_t mask = pairs_.size() - 1;
    size_t i = h & mask;
    for (;;) {
      const PairSlot& s = pairs_[i];
      if (s.key == key) { *rank = s.rank; *merged = s.merged; return true; }
      if (s.key == kEmptyKey) return false;
      i = (i + 1) & mask;
    }
  }
  static size_t Mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return static_cast<size_t>(k);
  }
  static constexpr uint64_t kEmptyKey = ~uint64_t{0};

  // --- backtracking encoder (bpe_backtrack.cc) ---
  // Byte-level models only. A token is "valid" when BPE of its own bytes
  // gives it back; only valid tokens can appear in any output. The encoding
  // is the unique sequence of valid tokens whose every adjacent pair is
  // valid (BPE of the two tokens' bytes gives the two tokens), which a
  // longest-match-first search with backtracking finds.
  struct TrieNode {
    uint32_t first;  // index of the first child in trie_labels_/trie_
    uint32_t token;  // valid token spelled by the path, or kNone
    uint32_t whole;  // any reachable token spelled by the path, or kNone
    uint32_t count;  // number of children
  };
  // Per token, packed so one cache line serves the encoder and ValidPair.
  struct TokenTree {
    uint32_t rank;     // merge rank + 1 that forms it; 0 for a byte
    uint32_t left;     // the two tokens that merge into it
    uint32_t right;
    uint32_t shorter;  // longest valid proper prefix token, or kNone
    uint32_t len : 31;  // bytes
    uint32_t irregular : 1;  // some merge in its tree fires out of rank order
  };
  void BuildBacktrack();
  // Plain BPE of `bytes` into *syms (quadratic; load time and rare pairs);
  // *left/*right: the last merge's parts. False: a byte has no token.
  bool SlowBpe(std::string_view bytes, std::vector<uint32_t>* syms, uint32_t* left, uint32_t* right) const;
  uint32_t Child(uint32_t node, unsigned char c) const;  // 0: none
  // The longest valid token that p[0, n) starts with (kNone: none);
  // *whole: the reachable token spelling all of p[0, n), or kNone.
  uint32_t LongestMatch(const unsigned char* p, size_t n, uint32_t* whole) const;
  bool ValidPairMemo(uint32_t a, uint32_t b, Scratch* s) const;
  // Applies ignore_merges' whole-piece rule too. false: no valid encoding
  // found (a byte without a token); the caller then uses the merge loop.
  bool EncodeBacktrack(std::string_view piece, uint32_t begin, Scratch* s, std::vector<TokenOut>* out) const;

  size_t backtrack_min_bytes_ = kBacktrackMinBytes;
  std::vector<TrieNode> trie_;              // valid tokens; [0] is the root; empty: backtracking off
  std::vector<unsigned char> trie_labels_;  // the byte on the edge into each node
  uint32_t trie_root_[256] = {};            // the root's child per byte (0: none)
  std::vector<TokenTree> tree_;             // per token id

  // bmp_ids_[code point] when p[0, len) is the canonical UTF-8 of a BMP
  // code point (the same answer as Find), else kBmpMiss: ask Find.
  static constexpr uint32_t kBmpMiss = kNone - 1;
  uint32_t BmpLookup(const char* p, size_t len) const {
    if (bmp_ids_.empty()) return kBmpMiss;
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    if (len == 1) return u[0] < 0x80 ? bmp_ids_[u[0]] : kBmpMiss;
    if (len == 2) {
      if (u[0] < 0xC2 || u[0] >= 0xE0 || (u[1] & 0xC0) != 0x80) return kBmpMiss;
      return bmp_ids_[((u[0] & 0x1Fu) << 6) | (u[1] & 0x3Fu)];
    }
    if (len != 3 || (u[0] & 0xF0) != 0xE0 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80) return kBmpMiss;
    const uint32_t c = ((u[0] & 0x0Fu) << 12) | ((u[1] & 0x3Fu) << 6) | (u[2] & 0x3Fu);
    return c < 0x800 ? kBmpMiss : bmp_ids_[c];
  }
  Status InitialSymbols(std::string_view piece, uint32_t begin, Scratch* s) const;
  void MergeLinear(Scratch* s) const;
  void MergeHeap(Scratch* s) const;

  std::vector<std::string> tokens_;
  std::vector<bool> present_;
  // The only string -> id map, kept up to date by AddToken (Find works
  // while loading too). Open addressing: Find runs on every piece the memo
  // has not seen, and at load 10^5 merges each look up their result, where
  // a node-based map's allocations and hops were a fifth of the load. A slot
  // holds the token's length and first 8 bytes, so a probe settles tokens of
  // up to 8 bytes, and rules out most others, without touching tokens_.
  struct IndexSlot {
    uint32_t id1;   // id + 1; 0: empty
    uint32_t len;
    uint64_t head;  // the first min(len, 8) bytes, little-endian, zero-extended
  };
  // Inserts reachable token `id`; a string already indexed keeps the lower
  // id (Hugging Face's reverse lookup). Grows the table at half load.
  void IndexToken(uint32_t id);
  size_t index_used_ = 0;
  HugePageVector<IndexSlot> index_;  // huge pages: probed at random per piece
  size_t max_token_len_ = 0;
  HugePageVector<std::tuple<uint32_t, uint32_t, uint32_t, uint32_t>> pending_merges_;
  std::string merge_buf_;  // a, b, rank, merged
  HugePageVector<PairSlot> pairs_;  // huge pages: probed at random per merge
  std::vector<uint64_t> pair_filter_;  // one bit per hash of every merge pair (~16 bits per merge)
  size_t pair_filter_mask_ = 0;
  size_t merge_count_ = 0;
  bool byte_level_ = false;
  bool ignore_merges_ = false;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  uint32_t unk_id_ = kNone;
  uint32_t byte_ids_[256];
  // SentencePiece-style models: the token spelling each BMP code point
  // (kNone: none), so initial symbols skip the string hash table.
  std::vector<uint32_t> bmp_ids_;
  bool have_byte_fallback_ = false;
  bool metaspace_split_ = false;
  bool joins_metaspace_[256] = {};
};

}  // namespace telltale::tokenize
