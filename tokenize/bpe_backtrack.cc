// The backtracking BPE encoder: same ids as the merge loop, without a heap.
//
// Why it is exact (byte-level BPE, merges = adjacent pair of lowest rank,
// leftmost first):
//  1. Inside the span of an output token no merge ever crossed the span's
//     edges, so the merges inside it ran as they would on its bytes alone:
//     every output token is "valid" (BPE of its bytes is itself) and is built
//     by the same merge tree as in isolation.
//  2. If no merge crosses the edge between two output tokens a|b, none
//     crosses it in BPE(bytes(a) + bytes(b)) either, whose pairs are a subset
//     of those in the full text. So every adjacent pair is "valid".
//  3. Conversely, a sequence of valid tokens whose adjacent pairs are all
//     valid is the BPE output: the first merge of the full text that crossed
//     an edge would also be the first to cross it in the two-token text.
// So the output is the unique all-valid sequence; any complete search finds
// it. A position proven dead (no valid continuation) stays dead, because the
// valid sequence for every prefix, and so its last token, is unique too.
//
// ValidPair replays the two merge trees backwards from the finished tokens.
// That needs merges inside a token to fire in rank order, which holds when
// every merge in its tree has a higher rank than its two parts' (checked per
// token at load); pairs with other tokens run BPE on their bytes instead.
#include <algorithm>
#include <cstring>
#include <system_error>
#include <thread>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "tokenize/bpe_model.h"

namespace telltale::tokenize {

bool BpeModel::SlowBpe(std::string_view bytes, std::vector<uint32_t>* syms, uint32_t* left,
                       uint32_t* right) const {
  // The merge rule of MergeLinear on ids alone; each pair's rank is looked
  // up once and again only when a merge changes it.
  thread_local std::vector<uint32_t> ranks, merged;
  syms->clear();
  for (char ch : bytes) {
    uint32_t id = byte_ids_[static_cast<unsigned char>(ch)];
    if (id == kNone) return false;
    syms->push_back(id);
  }
  auto& y = *syms;
  ranks.assign(y.size(), UINT32_MAX);
  merged.assign(y.size(), kNone);
  auto look = [&](size_t i) {
    uint32_t r, m;
    if (i + 1 < y.size() && LookupPair(y[i], y[i + 1], &r, &m)) {
      ranks[i] = r;
      merged[i] = m;
    } else {
      ranks[i] = UINT32_MAX;
    }
  };
  for (size_t i = 0; i + 1 < y.size(); ++i) look(i);
  *left = *right = kNone;
  while (y.size() > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < y.size(); ++i) {
      if (ranks[i] < ranks[best]) best = i;
    }
    if (ranks[best] == UINT32_MAX) break;
    *left = y[best];
    *right = y[best + 1];
    y[best] = merged[best];
    y.erase(y.begin() + static_cast<ptrdiff_t>(best) + 1);
    ranks.erase(ranks.begin() + static_cast<ptrdiff_t>(best) + 1);
    merged.erase(merged.begin() + static_cast<ptrdiff_t>(best) + 1);
    look(best);
    if (best > 0) look(best - 1);
  }
  return true;
}

void BpeModel::BuildBacktrack() {
  trie_.clear();
  trie_labels_.clear();
  tree_.clear();
  if (!byte_level_ || tokens_.empty()) return;
  const size_t n = tokens_.size();
  tree_.assign(n, TokenTree{0, kNone, kNone, kNone, 0, 0});
  std::vector<uint8_t> is_valid(n, 0);
  // Each token's own BPE is independent of the others' and is most of the
  // build (10^5 quadratic merge loops over a table that misses cache), so
  // the ids are cut into contiguous ranges, one per thread; the ranges'
  // lists are joined in order, as a single pass would make them.
  struct Range {
    uint32_t lo, hi;
    std::vector<uint32_t> valid, spelled;  // spelled: every reachable token
  };
  const auto classify = [&](Range* range) {
    std::vector<uint32_t> syms;
    for (uint32_t t = range->lo; t < range->hi; ++t) {
      if (!present_[t] || tokens_[t].empty() || Find(tokens_[t]) != t) continue;
      range->spelled.push_back(t);
      tree_[t].len = static_cast<uint32_t>(tokens_[t].size());
      if (tokens_[t].size() > 1) {
        uint32_t l, r, rank, merged;
        if (!SlowBpe(tokens_[t], &syms, &l, &r) || syms.size() != 1 || syms[0] != t) continue;
        if (!LookupPair(l, r, &rank, &merged)) continue;
        tree_[t].rank = rank + 1;
        tree_[t].left = l;
        tree_[t].right = r;
      } else if (byte_ids_[static_cast<unsigned char>(tokens_[t][0])] != t) {
        continue;
      }
      is_valid[t] = 1;
      range->valid.push_back(t);
    }
  };
  const size_t workers = n < 8192 ? 1 : std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  std::vector<Range> ranges(workers);
  for (size_t k = 0; k < workers; ++k) {
    ranges[k].lo = static_cast<uint32_t>(n * k / workers);
    ranges[k].hi = static_cast<uint32_t>(n * (k + 1) / workers);
  }
  {
    std::vector<std::thread> helpers;
    for (size_t k = 1; k < workers; ++k) {
      try {
        helpers.emplace_back(classify, &ranges[k]);
      } catch (const std::system_error&) {
        classify(&ranges[k]);  // no thread to be had: do it here
      }
    }
    classify(&ranges[0]);
    for (std::thread& h : helpers) h.join();
  }
  std::vector<uint32_t> valid, spelled;
  for (const Range& range : ranges) {
    valid.insert(valid.end(), range.valid.begin(), range.valid.end());
    spelled.insert(spelled.end(), range.spelled.begin(), range.spelled.end());
  }
  // A token is regular when every merge in its tree has a higher rank than
  // the merges below it, so the tree's merges fire in rank order; then
  // ValidPair can replay two trees by rank. Pairs with an irregular token
  // (81 of 128k in Llama 3, from merges added after tiktoken's) are checked
  // by running BPE on their bytes. Parts are shorter, so go by length.
  std::vector<uint32_t> by_len = valid;
  std::stable_sort(by_len.begin(), by_len.end(),
                   [&](uint32_t a, uint32_t b) { return tokens_[a].size() < tokens_[b].size(); });
  for (uint32_t t : by_len) {
    TokenTree& x = tree_[t];
    if (x.rank == 0) continue;
    if (!is_valid[x.left] || !is_valid[x.right]) {  // cannot happen for BPE; stay off if it does
      trie_.clear();
      tree_.clear();
      return;
    }
    const TokenTree& l = tree_[x.left];
    const TokenTree& r = tree_[x.right];
    x.irregular = l.irregular || r.irregular || x.rank <= l.rank || x.rank <= r.rank;
  }
  // The trie spells every reachable token (for ignore_merges' whole-piece
  // rule); only valid ones are matches.
  // Byte order, compared on a big-endian 8-byte prefix first: 10^5 string
  // compares through memcmp were a tenth of the build.
  const auto prefix = [&](uint32_t t) {
    const std::string& s = tokens_[t];
    uint64_t key = 0;
    for (size_t i = 0; i < 8; ++i) key = (key << 8) | (i < s.size() ? static_cast<unsigned char>(s[i]) : 0u);
    return key;
  };
  std::vector<std::pair<uint64_t, uint32_t>> keyed(spelled.size());
  for (size_t i = 0; i < spelled.size(); ++i) keyed[i] = {prefix(spelled[i]), spelled[i]};
  std::sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return tokens_[a.second] < tokens_[b.second];  // zero padding ties "a" with "a\0": the strings decide
  });
  for (size_t i = 0; i < keyed.size(); ++i) spelled[i] = keyed[i].second;
  // Trie with each node's children contiguous and sorted by label, built
  // depth-first over the sorted token list.
  trie_.push_back(TrieNode{0, kNone, kNone, 0});
  trie_labels_.push_back(0);
  struct Frame {
    uint32_t node, depth, lo, hi;
  };
  std::vector<Frame> stack{{0, 0, 0, static_cast<uint32_t>(spelled.size())}};
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    uint32_t lo = f.lo;
    if (lo < f.hi && tokens_[spelled[lo]].size() == f.depth) {
      uint32_t t = spelled[lo++];
      trie_[f.node].whole = t;
      if (is_valid[t]) trie_[f.node].token = t;
    }
    uint32_t first = static_cast<uint32_t>(trie_.size());
    uint32_t count = 0;
    for (uint32_t i = lo; i < f.hi;) {
      unsigned char c = static_cast<unsigned char>(tokens_[spelled[i]][f.depth]);
      uint32_t j = i + 1;
      while (j < f.hi && static_cast<unsigned char>(tokens_[spelled[j]][f.depth]) == c) ++j;
      trie_.push_back(TrieNode{0, kNone, kNone, 0});
      trie_labels_.push_back(c);
      stack.push_back({first + count, f.depth + 1, i, j});
      ++count;
      i = j;
    }
    trie_[f.node].first = first;
    trie_[f.node].count = count;
  }
  trie_labels_.resize(trie_labels_.size() + 16, 0);  // Child reads 16 labels at a time
  std::fill(std::begin(trie_root_), std::end(trie_root_), 0);
  for (uint32_t k = 0; k < trie_[0].count; ++k) trie_root_[trie_labels_[trie_[0].first + k]] = trie_[0].first + k;
  // shorter: the last valid token met on the way down to a token's node.
  for (uint32_t t : valid) {
    const std::string& b = tokens_[t];
    uint32_t node = trie_root_[static_cast<unsigned char>(b[0])];
    uint32_t best = kNone;
    for (size_t i = 1; i < b.size(); ++i) {
      if (trie_[node].token != kNone) best = trie_[node].token;
      node = Child(node, static_cast<unsigned char>(b[i]));
    }
    tree_[t].shorter = best;
  }
}

uint32_t BpeModel::Child(uint32_t node, unsigned char c) const {
  const TrieNode& nd = trie_[node];
  const unsigned char* labels = trie_labels_.data() + nd.first;
#if defined(__SSE2__)
  // 16 labels per compare; trie_labels_ has 16 bytes of padding at its end.
  const __m128i needle = _mm_set1_epi8(static_cast<char>(c));
  for (uint32_t k = 0; k < nd.count; k += 16) {
    __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(labels + k));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, needle)));
    if (nd.count - k < 16) mask &= (1u << (nd.count - k)) - 1;
    if (mask != 0) return nd.first + k + static_cast<uint32_t>(__builtin_ctz(mask));
  }
  return 0;
#else
  const unsigned char* it = std::lower_bound(labels, labels + nd.count, c);
  return it != labels + nd.count && *it == c ? nd.first + static_cast<uint32_t>(it - labels) : 0;
#endif
}

uint32_t BpeModel::LongestMatch(const unsigned char* p, size_t n, uint32_t* whole) const {
  *whole = kNone;
  uint32_t node = trie_root_[p[0]];
  if (node == 0) return kNone;
  uint32_t best = trie_[node].token;
  size_t i = 1;
  for (; i < n && trie_[node].count != 0; ++i) {
    uint32_t child = Child(node, p[i]);
    if (child == 0) break;
    node = child;
    if (trie_[node].token != kNone) best = trie_[node].token;
  }
  if (i == n) *whole = trie_[node].whole;
  return best;
}

bool BpeModel::ValidPair(uint32_t a, uint32_t b) const {
  if (tree_[a].irregular || tree_[b].irregular) {
    thread_local std::string both;
    thread_local std::vector<uint32_t> syms;
    both.assign(tokens_[a]).append(tokens_[b]);
    uint32_t l, r;
    return SlowBpe(both, &syms, &l, &r) && syms.size() == 2 && syms[0] == a && syms[1] == b;
  }
  // Replays BPE(bytes(a) + bytes(b)) backwards: (a, b) is the state after
  // the last merge; undoing the later of the two tokens' last merges gives
  // the state before it. The cross pair of a state fires (invalid) if its
  // rank is below the rank of the merge that ends the state; at equal rank
  // the leftmost wins, so it fires only against a merge inside b.
  uint32_t limit = UINT32_MAX;
  bool limit_in_b = false;
  for (;;) {
    uint32_t r, m;
    if (LookupPair(a, b, &r, &m)) {
      uint32_t rank = r + 1;
      if (rank < limit || (rank == limit && limit_in_b)) return false;
    }
    uint32_t ra = tree_[a].rank, rb = tree_[b].rank;
    if (ra == 0 && rb == 0) return true;
    if (ra > rb) {
      limit = ra;
      limit_in_b = false;
      a = tree_[a].right;
    } else {
      // Equal ranks: the same merge in both tokens; a's (leftmost) came first.
      limit = rb;
      limit_in_b = true;
      b = tree_[b].left;
    }
  }
}

bool BpeModel::ValidPairMemo(uint32_t a, uint32_t b, Scratch* s) const {
  // Adjacent token pairs repeat (common bigrams), and ValidPair walks two
  // trees with a pair lookup per level.
  if (s->pair_memo.empty()) s->pair_memo.assign(Scratch::kPairMemoSlots, 0);
  uint64_t key = (uint64_t{a} << 32) | b;
  uint64_t& slot = s->pair_memo[Mix(key) & (Scratch::kPairMemoSlots - 1)];
  constexpr uint64_t kSet = uint64_t{1} << 63, kValid = uint64_t{1} << 62;
  if ((slot & ~(kSet | kValid)) == key && (slot & kSet) != 0) return (slot & kValid) != 0;
  bool valid = ValidPair(a, b);
  slot = key | kSet | (valid ? kValid : 0);
  return valid;
}

bool BpeModel::EncodeBacktrack(std::string_view piece, uint32_t begin, Scratch* s,
                               std::vector<TokenOut>* out) const {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(piece.data());
  const size_t n = piece.size();
  auto& toks = s->track;
  auto& alive = s->alive;
  toks.clear();
  alive.assign(n / 64 + 1, ~uint64_t{0});
  size_t pos = 0;
  uint32_t whole;
  uint32_t next = LongestMatch(p, n, &whole);
  if (ignore_merges_ && whole != kNone) {
    out->push_back({whole, begin, begin + static_cast<uint32_t>(n)});
    return true;
  }
  if (next == kNone) return false;
  while (pos < n) {
    uint32_t token = next;
    uint32_t last = toks.empty() ? kNone : toks.back();
    for (;;) {
      size_t end = pos + tree_[token].len;
      if (((alive[end >> 6] >> (end & 63)) & 1) != 0 && (last == kNone || ValidPairMemo(last, token, s))) {
        toks.push_back(token);
        pos = end;
        if (pos < n) {
          next = LongestMatch(p + pos, n - pos, &whole);
          if (next == kNone) return false;
        }
        break;
      }
      token = tree_[token].shorter;
      if (token == kNone) {
        alive[pos >> 6] &= ~(uint64_t{1} << (pos & 63));
        if (last == kNone) return false;
        toks.pop_back();
        pos -= tree_[last].len;
        next = last;
        break;
      }
    }
  }
  uint32_t at = begin;
  for (uint32_t t : toks) {
    out->push_back({t, at, at + tree_[t].len});
    at += tree_[t].len;
  }
  return true;
}

}  // namespace telltale::tokenize
