#include "tokenize/bpe_model.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "tokenize/utf8.h"

namespace telltale::tokenize {

namespace {
constexpr size_t kLinearMax = 16;       // pieces up to this many symbols use the rank scan
constexpr uint32_t kNoRank = UINT32_MAX;

bool BytesEqual(const char* a, const char* b, size_t n) noexcept {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    if (x != y) return false;
  }
  return LoadUpTo8(a + i, n - i) == LoadUpTo8(b + i, n - i);
}

}  // namespace

Status BpeModel::AddToken(std::string bytes, uint32_t id, bool reachable) {
  if (id >= (1u << 30)) return Status::InvalidArgument("token id " + std::to_string(id) + " is too large");
  if (id >= tokens_.size()) {
    tokens_.resize(id + 1);
    present_.resize(id + 1, false);
  }
  if (present_[id]) return Status::InvalidArgument("token id " + std::to_string(id) + " appears twice");
  tokens_[id] = std::move(bytes);
  present_[id] = true;
  if (reachable) IndexToken(id);
  return Status::Ok();
}

void BpeModel::IndexToken(uint32_t id) {
  if ((index_used_ + 1) * 2 > index_.size()) {
    HugePageVector<IndexSlot> old(std::max<size_t>(index_.size() * 2, 1024), IndexSlot{0, 0, 0});
    old.swap(index_);
    index_used_ = 0;
    for (const IndexSlot& slot : old) {
      if (slot.id1 != 0) IndexToken(slot.id1 - 1);
    }
  }
  const std::string& text = tokens_[id];
  const size_t mask = index_.size() - 1;
  const uint64_t head = LoadUpTo8(text.data(), std::min<size_t>(text.size(), 8));
  size_t i = StringHash()(text) & mask;
  for (; index_[i].id1 != 0; i = (i + 1) & mask) {
    IndexSlot& slot = index_[i];
    if (slot.len == text.size() && slot.head == head && tokens_[slot.id1 - 1] == text) {
      slot.id1 = std::min(slot.id1, id + 1);
      return;
    }
  }
  index_[i] = IndexSlot{id + 1, static_cast<uint32_t>(text.size()), head};
  ++index_used_;
  max_token_len_ = std::max(max_token_len_, text.size());
}

uint32_t BpeModel::Find(std::string_view bytes) const {
  const size_t n = bytes.size();
  if (n > max_token_len_ || index_.empty()) return kNone;
  const uint64_t head = LoadUpTo8(bytes.data(), std::min<size_t>(n, 8));
  size_t mask = index_.size() - 1;
  for (size_t i = StringHash()(bytes) & mask;; i = (i + 1) & mask) {
    const IndexSlot& slot = index_[i];
    if (slot.id1 == 0) return kNone;
    if (slot.len != n || slot.head != head) continue;
    if (n <= 8 || BytesEqual(tokens_[slot.id1 - 1].data() + 8, bytes.data() + 8, n - 8)) return slot.id1 - 1;
  }
}

Status BpeModel::AddMerge(uint32_t a, uint32_t b, uint32_t rank) {
  if (!has_token(a) || !has_token(b)) return Status::InvalidArgument("merge refers to an unknown token");
  merge_buf_.assign(tokens_[a]).append(tokens_[b]);  // reused: 10^5 merges at load
  uint32_t m = Find(merge_buf_);
  if (m == kNone) return Status::InvalidArgument("merge result is not in the vocabulary");
  pending_merges_.emplace_back(a, b, rank, m);
  return Status::Ok();
}

void BpeModel::AddAllSplits(const std::vector<uint32_t>& rank_of) {
  for (uint32_t t = 0; t < tokens_.size(); ++t) {
    if (!present_[t] || t >= rank_of.size()) continue;
    const std::string& s = tokens_[t];
    for (size_t k = 1; k < s.size(); ++k) {
      uint32_t a = Find(std::string_view(s).substr(0, k));
      if (a == kNone) continue;
      uint32_t b = Find(std::string_view(s).substr(k));
      if (b == kNone) continue;
      pending_merges_.emplace_back(a, b, rank_of[t], t);
    }
  }
}

Status BpeModel::Finalize() {
  size_t cap = 16;
  while (cap < pending_merges_.size() * 2 + 16) cap <<= 1;
  pairs_.assign(cap, PairSlot{kEmptyKey, 0, 0});
  merge_count_ = 0;
  for (const auto& [a, b, rank, merged] : pending_merges_) {
    uint64_t key = (uint64_t{a} << 32) | b;
    size_t i = Mix(key) & (cap - 1);
    while (pairs_[i].key != kEmptyKey && pairs_[i].key != key) i = (i + 1) & (cap - 1);
    if (pairs_[i].key == key) {
      if (rank < pairs_[i].rank) { pairs_[i].rank = rank; pairs_[i].merged = merged; }
      continue;
    }
    pairs_[i] = PairSlot{key, rank, merged};
    ++merge_count_;
  }
  pending_merges_.clear();
  pending_merges_.shrink_to_fit();
  size_t bits = 64;
  while (bits < merge_count_ * 16) bits <<= 1;
  pair_filter_.assign(bits / 64, 0);
  pair_filter_mask_ = bits - 1;
  for (const PairSlot& slot : pairs_) {
    if (slot.key == kEmptyKey) continue;
    size_t f = (Mix(slot.key) >> 32) & pair_filter_mask_;
    pair_filter_[f >> 6] |= uint64_t{1} << (f & 63);
  }
  have_byte_fallback_ = byte_fallback_;
  for (int b = 0; b < 256; ++b) {
    if (byte_level_) {
      byte_ids_[b] = Find(std::string(1, static_cast<char>(b)));
      // Bytes that never occur in valid UTF-8 (C0, C1, F5..FF) may be
      // missing: input is repaired to valid UTF-8 before encoding.
      bool occurs = !(b == 0xC0 || b == 0xC1 || b >= 0xF5);
      if (byte_ids_[b] == kNone && occurs) {
        return Status::InvalidArgument("byte-level vocabulary has no token for byte " + std::to_string(b));
      }
    } else {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      byte_ids_[b] = Find(name);
      if (byte_ids_[b] == kNone) have_byte_fallback_ = false;
    }
  }
  if (!byte_level_ && byte_fallback_ && !have_byte_fallback_ && unk_id_ == kNone) {
    return Status::InvalidArgument("byte_fallback is set but the vocabulary lacks <0x00>..<0xFF> tokens");
  }
  bmp_ids_.clear();
  if (!byte_level_) {
    bmp_ids_.assign(0x10000, kNone);
    std::string utf8;
    for (char32_t c = 0; c < 0x10000; ++c) {
      utf8.clear();
      AppendUtf8(c, &utf8);
      bmp_ids_[c] = Find(utf8);
    }
  }
  static const std::string kMeta = "\xE2\x96\x81";
  metaspace_split_ = !byte_level_ && !ignore_merges_ && Find(kMeta) != kNone;
  if (metaspace_split_) {
    for (uint32_t t = 0; t < tokens_.size(); ++t) {
      if (!present_[t]) continue;
      const std::string& s = tokens_[t];
      for (size_t i = s.find(kMeta, 1); i != std::string::npos; i = s.find(kMeta, i + 1)) {
        if (i >= 3 && s.compare(i - 3, 3, kMeta) == 0) continue;
        joins_metaspace_[static_cast<unsigned char>(s[i - 1])] = true;
      }
    }
  }
  BuildBacktrack();
  return Status::Ok();
}

Status BpeModel::InitialSymbols(std::string_view piece, uint32_t begin, Scratch* s) const {
  auto& syms = s->syms;
  syms.clear();
  const size_t n = piece.size();
  if (byte_level_) {
    for (size_t i = 0; i < n; ++i) {
      syms.push_back({byte_ids_[static_cast<unsigned char>(piece[i])], begin + static_cast<uint32_t>(i), 1, 0, 0});
    }
    return Status::Ok();
  }
  bool prev_unk = false;
  for (size_t i = 0; i < n;) {
    size_t len = Utf8SeqLen(static_cast<unsigned char>(piece[i]));
    if (i + len > n) len = n - i;
    uint32_t id = BmpLookup(piece.data() + i, len);
    if (id == kBmpMiss) id = Find(piece.substr(i, len));
    uint32_t at = begin + static_cast<uint32_t>(i);
    if (id != kNone) {
      syms.push_back({id, at, static_cast<uint32_t>(len), 0, 0});
      prev_unk = false;
    } else if (have_byte_fallback_) {
      for (size_t k = 0; k < len; ++k) {
        syms.push_back({byte_ids_[static_cast<unsigned char>(piece[i + k])], at + static_cast<uint32_t>(k), 1, 0, 0});
      }
      prev_unk = false;
    } else if (unk_id_ != kNone) {
      if (fuse_unk_ && prev_unk) {
        syms.back().len += static_cast<uint32_t>(len);
      } else {
        syms.push_back({unk_id_, at, static_cast<uint32_t>(len), 0, 0});
      }
      prev_unk = true;
    } else {
      return Status::InvalidArgument("character at byte " + std::to_string(at) +
                                     " has no token and the model has neither byte fallback nor an unknown token");
    }
    i += len;
  }
  return Status::Ok();
}

void BpeModel::MergeLinear(Scratch* s) const {
  auto& parts = s->parts;
  parts.clear();
  for (const auto& y : s->syms) parts.push_back({y.id, y.begin, y.len, kNoRank, 0});
  auto rank_at = [&](size_t i) {
    uint32_t r, m;
    if (i + 1 < parts.size() && LookupPair(parts[i].id, parts[i + 1].id, &r, &m)) {
      parts[i].rank = r;
      parts[i].merged = m;
    } else {
      parts[i].rank = kNoRank;
    }
  };
  for (size_t i = 0; i < parts.size(); ++i) rank_at(i);
  while (parts.size() > 1) {
    size_t best = 0;
    uint32_t best_rank = kNoRank;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (parts[i].rank < best_rank) { best_rank = parts[i].rank; best = i; }
    }
    if (best_rank == kNoRank) break;
    parts[best].id = parts[best].merged;
    parts[best].len += parts[best + 1].len;
    parts.erase(parts.begin() + static_cast<ptrdiff_t>(best) + 1);
    rank_at(best);
    if (best > 0) rank_at(best - 1);
  }
}

void BpeModel::MergeHeap(Scratch* s) const {
  auto& syms = s->syms;
  auto& heap = s->heap;
  heap.clear();
  const int32_t n = static_cast<int32_t>(syms.size());
  for (int32_t i = 0; i < n; ++i) {
    syms[i].prev = i - 1;
    syms[i].next = i + 1 < n ? i + 1 : -1;
  }
  // Min-heap on (rank, pos): lowest rank first, leftmost among equals.
  auto later = [](const Scratch::HeapEntry& x, const Scratch::HeapEntry& y) {
    return x.rank != y.rank ? x.rank > y.rank : x.pos > y.pos;
  };
  auto push = [&](int32_t i) {
    if (i < 0 || syms[i].next < 0) return;
    uint32_t r, m;
    const uint32_t a = syms[i].id, b = syms[syms[i].next].id;
    if (LookupPair(a, b, &r, &m)) {
      heap.push_back({r, static_cast<uint32_t>(i), m, a, b});
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    Scratch::HeapEntry top = heap.back();
    heap.pop_back();
    auto& left = syms[top.pos];
    if (left.len == 0 || left.next < 0) continue;
    auto& right = syms[left.next];
    // Same ids, same pair: its rank and result are the entry's.
    if (left.id != top.left || right.id != top.right) continue;
    const uint32_t m = top.merged;
    left.id = m;
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (left.next >= 0) syms[left.next].prev = static_cast<int32_t>(top.pos);
    push(left.prev);
    push(static_cast<int32_t>(top.pos));
  }
  auto& parts = s->parts;
  parts.clear();
  for (int32_t i = 0; i >= 0 && n > 0; i = syms[i].next) parts.push_back({syms[i].id, syms[i].begin, syms[i].len, 0, 0});
}

namespace {

// Whether `slot` holds `piece` (MemoStore zero-pads the key).
template <class Slot>
bool MemoHolds(const Slot& slot, std::string_view piece) {
  return slot.key_len == piece.size() && BytesEqual(slot.key, piece.data(), piece.size());
}

// Stores `piece`'s tokens when they fit the slot and tile the piece (which
// is what MemoHit rebuilds); anything else is simply not memoized.
template <class Slot>
void MemoStore(Slot* slot, std::string_view piece, uint32_t begin, const TokenOut* toks, size_t n) {
  if (n == 0 || n > Slot::kTokMax || piece.size() > Slot::kKeyMax) return;
  uint32_t at = begin;
  for (size_t k = 0; k < n; ++k) {
    if (toks[k].begin != at || toks[k].end < at) return;
    at = toks[k].end;
  }
  if (at != begin + piece.size()) return;
  slot->key_len = static_cast<uint8_t>(piece.size());
  std::memset(slot->key, 0, sizeof slot->key);
  std::memcpy(slot->key, piece.data(), piece.size());
  slot->count = static_cast<uint8_t>(n);
  for (size_t k = 0; k < n; ++k) slot->ids[k] = toks[k].id;
  for (size_t k = 0; k + 1 < n; ++k) slot->lens[k] = static_cast<uint8_t>(toks[k].end - toks[k].begin);
}

bool ShortInLong(const BpeModel::Scratch& s, size_t hash) {
  const size_t i = BpeModel::Scratch::ShortIndex(hash);
  return (s.short_in_long[i / 64] >> (i % 64)) & 1;
}
void SetShortInLong(BpeModel::Scratch* s, size_t hash) {
  const size_t i = BpeModel::Scratch::ShortIndex(hash);
  s->short_in_long[i / 64] |= uint64_t{1} << (i % 64);
}

}  // namespace

Status BpeModel::EncodePiece(std::string_view text, uint32_t begin, uint32_t end, size_t hash, Scratch* s,
                             std::vector<TokenOut>* out) const {
  std::string_view piece = text.substr(begin, end - begin);
  if (piece.empty()) return Status::Ok();
  Scratch::ShortSlot* short_slot = nullptr;
  Scratch::LongSlot* long_slot = nullptr;
  if (piece.size() <= Scratch::LongSlot::kKeyMax && s->use_memo) {
    if (s->short_memo.empty()) s->ClearCache();
    if (piece.size() <= Scratch::ShortSlot::kKeyMax) {
      if (EncodeShortHit(text, begin, end, hash, *s, out)) return Status::Ok();
      short_slot = &s->short_memo[Scratch::ShortIndex(hash)];
    }
    // A short piece of more than 3 tokens lives in the long tier.
    long_slot = &s->long_memo[Scratch::LongIndex(hash)];
    if ((short_slot == nullptr || ShortInLong(*s, hash)) && MemoHolds(*long_slot, piece)) {
      EmitMemo(*long_slot, begin, end, out);
      return Status::Ok();
    }
  }
  size_t first_out = out->size();
  uint32_t whole = kNone;
  // Short pieces take the merge loop even where the backtracking encoder
  // exists: for a few symbols its pair lookups (mostly answered by the pair
  // filter, which stays in cache) touch fewer cold lines than the encoder's
  // trie walks and merge-tree replays. Alternating A/B, 2026-12-05, one pass
  // with a cold memo, against backtracking every piece: English +10-16%,
  // mixed text +3-19% (Llama 3, o200k); a cut at 17 or 33 bytes measures
  // about the same, at 49 worse.
  if (backtracking() && piece.size() >= backtrack_min_bytes_ && EncodeBacktrack(piece, begin, s, out)) {
    // done; it also applied ignore_merges
  } else if (ignore_merges_ && (whole = Find(piece)) != kNone) {
    out->push_back({whole, begin, end});
  } else {
    TT_RETURN_IF_ERROR(InitialSymbols(piece, begin, s));
    if (s->syms.size() <= kLinearMax) MergeLinear(s);
    else MergeHeap(s);
    for (const auto& p : s->parts) out->push_back({p.id, p.begin, p.begin + p.len});
  }
  const size_t produced = out->size() - first_out;
  const TokenOut* toks = out->data() + first_out;
  if (short_slot != nullptr && produced <= Scratch::ShortSlot::kTokMax) {
    MemoStore(short_slot, piece, begin, toks, produced);
  } else if (long_slot != nullptr) {
    MemoStore(long_slot, piece, begin, toks, produced);
    if (short_slot != nullptr) SetShortInLong(s, hash);
  }
  return Status::Ok();
}

}  // namespace telltale::tokenize
