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
  // Clears the set and sizes it for up to `expected` insertions without
  // rehashing (load factor <= 1/2).
  void Reset(size_t expected) {
    size_t cap = 16;
    while (cap < 2 * expected) cap <<= 1;
    if (table_.size() != cap) table_.assign(cap, 0);
    else std::fill(table_.begin(), table_.end(), 0);
    mask_ = cap - 1;
    size_ = 0;
    has_zero_ = false;
  }

  // Returns true if fp was not yet present (and inserts it).
  bool Insert(uint64_t fp) {
    if (fp == 0) {
      if (has_zero_) return false;
      has_zero_ = true;
      return true;
    }
    if (2 * (size_ + 1) > table_.size()) Grow();
    // Callers pass well-mixed fingerprints (fmix64 outputs), so the low bits
    // index the table directly.
    size_t i = static_cast<size_t>(fp) & mask_;
    while (table_[i] != 0) {
      if (table_[i] == fp) return false;
      i = (i + 1) & mask_;
    }
    table_[i] = fp;
    ++size_;
    return true;
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
