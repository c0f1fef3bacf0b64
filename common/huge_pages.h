// HugePageAllocator: backs large, randomly accessed tables with transparent
// huge pages (2 MiB) where the kernel offers them.
//
// Why: the tokenizer's piece memo (5 MiB per thread), its vocabulary and
// merge hash tables and the corpus test's recent-tuple cache are probed at
// random, once per token. On 4 KiB pages each probe is likely a TLB miss and
// each first touch a page fault (costly under a hypervisor); 2 MiB pages cut
// both by 512x. Debian's default THP mode is "madvise", so the memory must
// ask for it: allocations of kMinHugePageBytes or more are mapped on their
// own, 2 MiB aligned, and advised MADV_HUGEPAGE. Smaller ones go to
// operator new, as with std::allocator.
//
// Edge cases: where THP is off ("never", or a kernel without it) the advice
// is ignored and the memory is ordinary anonymous memory. A large allocation
// uses whole 2 MiB pages, so its resident size rounds up to a multiple of
// 2 MiB: keep it for tables that are large anyway. Memory is zeroed by the
// kernel (the allocator's users construct their elements regardless).
// Failure throws std::bad_alloc, as std::allocator does. Allocations of this
// kind are invisible to AddressSanitizer's bounds checks (they are mmap'ed).
//
// Thread-safety: stateless; allocate and deallocate are safe from any thread.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace telltale {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;
inline constexpr size_t kMinHugePageBytes = size_t{1} << 20;

// `bytes` must be >= kMinHugePageBytes; the same `bytes` goes to the free.
void* HugePageMap(size_t bytes);
void HugePageUnmap(void* p, size_t bytes) noexcept;

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() noexcept = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    const size_t bytes = n * sizeof(T);
    if (bytes >= kMinHugePageBytes) return static_cast<T*>(HugePageMap(bytes));
    return static_cast<T*>(::operator new(bytes, std::align_val_t(alignof(T))));
  }
  void deallocate(T* p, size_t n) noexcept {
    const size_t bytes = n * sizeof(T);
    if (bytes >= kMinHugePageBytes) {
      HugePageUnmap(p, bytes);
    } else {
      ::operator delete(p, std::align_val_t(alignof(T)));
    }
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

template <class T>
using HugePageVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace telltale
