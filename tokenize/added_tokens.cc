#include "tokenize/added_tokens.h"

#include <algorithm>
#include <cstring>

namespace telltale::tokenize {

void AddedTokens::Add(Token t) {
  if (t.content.empty()) return;
  int32_t index = static_cast<int32_t>(tokens_.size());
  int32_t node = 0;
  for (unsigned char c : t.content) {
    int32_t next = -1;
    for (const auto& e : nodes_[node].edges) {
      if (e.first == c) { next = e.second; break; }
    }
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_[node].edges.push_back({c, next});
      nodes_.emplace_back();
    }
    node = next;
  }
  first_all_.Mark(static_cast<unsigned char>(t.content[0]));
  if (!t.special) first_plain_.Mark(static_cast<unsigned char>(t.content[0]));
  if (nodes_[node].token < 0) nodes_[node].token = index;  // first definition wins
  auto it = std::lower_bound(by_id_.begin(), by_id_.end(), std::make_pair(t.id, int32_t{-1}));
  by_id_.insert(it, {t.id, index});
  tokens_.push_back(std::move(t));
}

int32_t AddedTokens::IndexOfId(uint32_t id) const {
  auto it = std::lower_bound(by_id_.begin(), by_id_.end(), std::make_pair(id, int32_t{-1}));
  return it != by_id_.end() && it->first == id ? it->second : -1;
}

bool AddedTokens::FindNext(std::string_view text, size_t from, bool match_special, size_t* pos, size_t* len,
                           uint32_t* token) const {
  const FirstBytes& first = match_special ? first_all_ : first_plain_;
  if (first.count == 0) return false;
  const size_t n = text.size();
  for (size_t i = from; i < n; ++i) {
    if (first.count == 1) {
      const void* hit = std::memchr(text.data() + i, first.only, n - i);
      if (hit == nullptr) return false;
      i = static_cast<size_t>(static_cast<const char*>(hit) - text.data());
    } else if (!first.any[static_cast<unsigned char>(text[i])]) {
      continue;
    }
    int32_t node = 0, best = -1;
    size_t best_len = 0;
    for (size_t j = i; j < n; ++j) {
      unsigned char c = static_cast<unsigned char>(text[j]);
      int32_t next = -1;
      for (const auto& e : nodes_[node].edges) {
        if (e.first == c) { next = e.second; break; }
      }
      if (next < 0) break;
      node = next;
      int32_t t = nodes_[node].token;
      if (t >= 0 && (match_special || !tokens_[t].special)) {
        best = t;
        best_len = j + 1 - i;
      }
    }
    if (best >= 0) {
      *pos = i;
      *len = best_len;
      *token = static_cast<uint32_t>(best);
      return true;
    }
  }
  return false;
}

}  // namespace telltale::tokenize
