// TupleSet: an open-addressing set of 64-bit tuple fingerprints with both
// Insert and Contains (detect/FingerprintSet has Insert only). The audit
// needs membership tests without insertion for its exclusion sets.
// Fingerprints must be well mixed (fmix64 outputs): their low bits pick the
// slot. 0 is stored as a flag so the table can use it as the empty marker.
// Thread-safety: none; const Contains may run concurrently with itself.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace telltale {

class TupleSet {
 public:
  // Returns true if fp was new (and inserts it).
  bool Insert(uint64_t fp) {
    if (fp == 0) {
      const bool fresh = !has_zero_;
      has_zero_ = true;
      size_ += fresh;
      return fresh;
    }
    if (2 * (size_ + 1) > table_.size()) Grow();
    const size_t mask = table_.size() - 1;
    for (size_t i = static_cast<size_t>(fp) & mask;; i = (i + 1) & mask) {
      if (table_[i] == fp) return false;
      if (table_[i] == 0) {
        table_[i] = fp;
        ++size_;
        return true;
      }
    }
  }

  bool Contains(uint64_t fp) const {
    if (fp == 0) return has_zero_;
    if (table_.empty()) return false;
    const size_t mask = table_.size() - 1;
    for (size_t i = static_cast<size_t>(fp) & mask;; i = (i + 1) & mask) {
      if (table_[i] == fp) return true;
      if (table_[i] == 0) return false;
    }
  }

  void Clear() {
    std::fill(table_.begin(), table_.end(), 0);
    size_ = 0;
    has_zero_ = false;
  }

  size_t size() const { return size_; }

 private:
  [[gnu::noinline]] void Grow() {
    std::vector<uint64_t> old;
    old.swap(table_);
    table_.assign(old.empty() ? 64 : old.size() * 2, 0);
    const size_t mask = table_.size() - 1;
    for (uint64_t v : old) {
      if (v == 0) continue;
      size_t i = static_cast<size_t>(v) & mask;
      while (table_[i] != 0) i = (i + 1) & mask;
      table_[i] = v;
    }
  }

  std::vector<uint64_t> table_;
  size_t size_ = 0;
  bool has_zero_ = false;
};

}  // namespace telltale
