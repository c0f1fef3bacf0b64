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
#include <string>
#include <tuple>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace telltale::tokenize {

struct TokenOut {
  uint32_t id;
  uint32_t begin, end;  // byte range in the text the piece was cut from
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept;
};

class BpeModel {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Bounded memo of piece -> (id, length) sequences; cleared when full.
  struct Scratch {
    struct Sym {
      uint32_t id, begin, len;
      int32_t prev, next;
    };
    struct Part {
      uint32_t id, begin, len, rank, merged;
    };
    struct HeapEntry {
      uint32_t rank, pos, merged;
    };
    // Direct-mapped memo slot: a piece of up to kKeyMax bytes and its up to
    // kTokMax tokens, stored inline so a hit costs one hash and one compare.
    static constexpr size_t kKeyMax = 30;
    static constexpr size_t kTokMax = 7;
    struct CacheSlot {
      uint8_t key_len = 0xFF;  // 0xFF: empty
      uint8_t count = 0;
      char key[kKeyMax];
      uint32_t ids[kTokMax];
      uint8_t lens[kTokMax];
    };
    static constexpr size_t kCacheSlots = size_t{1} << 15;
    void ClearCache() { cache.assign(kCacheSlots, CacheSlot{}); }

    std::vector<Sym> syms;
    std::vector<Part> parts;
    std::vector<HeapEntry> heap;
    std::vector<CacheSlot> cache;  // allocated on first use
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
  // builds lookup tables.
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

  // Encodes `piece` (text[begin, end)) and appends its tokens to `out`.
  // Fails only for a SentencePiece-style character that has neither a token,
  // nor byte-fallback tokens, nor an unknown token.
  Status EncodePiece(std::string_view text, uint32_t begin, uint32_t end, Scratch* scratch,
                     std::vector<TokenOut>* out) const;

 private:
  struct PairSlot {
    uint64_t key;
    uint32_t rank, merged;
  };
  bool LookupPair(uint32_t a, uint32_t b, uint32_t* rank, uint32_t* merged) const {
    uint64_t key = (uint64_t{a} << 32) | b;
    size_t mask = pairs_.size() - 1;
    size_t i = Mix(key) & mask;
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

  Status InitialSymbols(std::string_view piece, uint32_t begin, Scratch* s) const;
  void MergeLinear(Scratch* s) const;
  void MergeHeap(Scratch* s) const;

  std::vector<std::string> tokens_;
  std::vector<bool> present_;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> ids_;
  // Open-addressing index over ids_ for the hot path: slot = id + 1 (0 empty).
  std::vector<uint32_t> index_;
  size_t max_token_len_ = 0;
  std::vector<std::tuple<uint32_t, uint32_t, uint32_t, uint32_t>> pending_merges_;  // a, b, rank, merged
  std::vector<PairSlot> pairs_;
  size_t merge_count_ = 0;
  bool byte_level_ = false;
  bool ignore_merges_ = false;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  uint32_t unk_id_ = kNone;
  uint32_t byte_ids_[256];
  bool have_byte_fallback_ = false;
  bool metaspace_split_ = false;
  bool joins_metaspace_[256] = {};
};

}  // namespace telltale::tokenize
