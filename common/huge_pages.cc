#include "common/huge_pages.h"

#include <cstdint>
#include <sys/mman.h>

namespace telltale {
namespace {

size_t RoundUpToHugePage(size_t bytes) { return (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1); }

}  // namespace

void* HugePageMap(size_t bytes) {
  const size_t len = RoundUpToHugePage(bytes);
  if (len < bytes) throw std::bad_alloc();
  // Over-map by one huge page, then cut the unaligned ends off: mmap only
  // promises 4 KiB alignment, and a huge page needs a 2 MiB aligned range.
  void* raw = ::mmap(nullptr, len + kHugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t begin = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (begin + kHugePageBytes - 1) & ~uintptr_t{kHugePageBytes - 1};
  if (aligned > begin) ::munmap(raw, aligned - begin);
  const uintptr_t end = begin + len + kHugePageBytes;
  if (end > aligned + len) ::munmap(reinterpret_cast<void*>(aligned + len), end - (aligned + len));
  // Advice only: without THP the pages are ordinary ones.
  (void)::madvise(reinterpret_cast<void*>(aligned), len, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

void HugePageUnmap(void* p, size_t bytes) noexcept {
  if (p != nullptr) ::munmap(p, RoundUpToHugePage(bytes));
}

}  // namespace telltale
