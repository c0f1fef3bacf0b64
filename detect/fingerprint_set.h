// FingerprintSet: an open-addressing set of 64-bit fingerprints, used to
// deduplicate (context, token) tuples within a document. Fingerprints must
// be well mixed (e.g. fmix64 outputs): their low bits pick the slot.
//
// Why not std::unordered_set: dedup runs once per scored token on the
// detection hot path; a flat power-of-two table with linear probing is several
// times faster and allocates once. Fingerprint 0 is stored as a separate
// flag so the table can use 0 as its empty marker.
// Thread-safety: not thread-safe; one set per thread or per document.
#pragma once

#include <cstdint>
#include <vector>

namespace telltale {

class FingerprintSet {
 public:
  // Clears the set and sizes it for `expected` insertions at load factor
  // <= 1/4, where a probe almost always ends at its first slot; inserting
  // more is fine (the table doubles whenever the load would pass 1/2).
  void Reset(size_t expected) {
    size_t cap = 16;
    while (cap < 4 * expected) cap <<= 1;
    // A set reused across documents gives back what a long one made it take.
    if (table_.capacity() > (size_t{1} << 16) && table_.capacity() > 8 * cap) std::vector<uint64_t>().swap(table_);
    if (table_.size() != cap) table_.assign(cap, 0);
    else std::fill(table_.begin(), table_.end(), 0);
    mask_ = cap - 1;
    size_ = 0;
    has_zero_ = false;
  }

  // Returns true if fp was not yet present (and inserts it).
  //
  // Written so that the common cases (first probe empty, or first probe
  // equal) leave the probe loop on the same predicted branch: whether a tuple
  // is a duplicate is data-dependent (about a third of simulated LM bigrams
  // repeat), so callers should consume the result as a value, not branch on it.
  bool Insert(uint64_t fp) {
    if (fp == 0) [[unlikely]] {
      const bool fresh = !has_zero_;
      has_zero_ = true;
      return fresh;
    }
    if (2 * (size_ + 1) > table_.size()) [[unlikely]] Grow();
    // Callers pass well-mixed fingerprints (fmix64 outputs), so the low bits
    // index the table directly.
    size_t i = static_cast<size_t>(fp) & mask_;
    uint64_t cur = table_[i];
    while (cur != 0 && cur != fp) [[unlikely]] {
      i = (i + 1) & mask_;
      cur = table_[i];
    }
    table_[i] = fp;  // rewriting an equal fingerprint is harmless
    const bool fresh = cur == 0;
    size_ += fresh;
    return fresh;
  }

 private:
  [[gnu::noinline]] void Grow() {
    std::vector<uint64_t> old;
    old.swap(table_);
    table_.assign(old.empty() ? 16 : old.size() * 2, 0);
    mask_ = table_.size() - 1;
    size_ = 0;
    for (uint64_t v : old) {
      if (v != 0) Insert(v);
    }
  }

  std::vector<uint64_t> table_;
  size_t mask_ = 0;
  size_t size_ = 0;
  bool has_zero_ = false;
};

}  // namespace telltale
