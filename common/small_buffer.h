// SmallBuffer<T, N>: n value-initialized elements, held inline when n <= N
// and on the heap otherwise.
//
// Why: per-document work in a scan (per-key sums, Holm's order) needs a few
// elements per key, and a std::vector there was a malloc and a free for
// every document; with the usual few keys this costs neither.
//
// Edge cases: n == 0 gives an empty span; n > N allocates exactly n
// (std::bad_alloc as std::vector does). Not copyable or movable (data()
// points into the object itself).
// Thread-safety: none; a local buffer of one call.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace telltale {

template <class T, size_t N>
class SmallBuffer {
 public:
  explicit SmallBuffer(size_t n) : heap_(n > N ? n : 0), data_(n > N ? heap_.data() : inline_), size_(n) {}
  SmallBuffer(const SmallBuffer&) = delete;
  SmallBuffer& operator=(const SmallBuffer&) = delete;

  T* data() { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  std::span<T> span() { return {data_, size_}; }
  bool inline_storage() const { return data_ == inline_; }

 private:
  T inline_[N] = {};
  std::vector<T> heap_;
  T* data_;
  size_t size_;
};

}  // namespace telltale
