// A 200 MB line through a pipe must not make the reader allocate more than
// about twice max_document_bytes. Heap use is measured by replacing global
// operator new/delete in this test binary (its own executable, so no other
// test pays for the bookkeeping).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <new>
#include <thread>

#include "scan/input/document_source.h"
#include "scan/input/tests/compress_helpers.h"

namespace {

std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_peak{0};
constexpr size_t kHeader = 16;  // keeps 16-byte alignment of the payload

void* Allocate(size_t n) {
  void* p = std::malloc(n + kHeader);
  if (p == nullptr) throw std::bad_alloc();
  *static_cast<size_t*>(p) = n;
  int64_t live = g_live.fetch_add(static_cast<int64_t>(n)) + static_cast<int64_t>(n);
  int64_t peak = g_peak.load();
  while (live > peak && !g_peak.compare_exchange_weak(peak, live)) {
  }
  return static_cast<char*>(p) + kHeader;
}

void Release(void* q) {
  if (q == nullptr) return;
  void* p = static_cast<char*>(q) - kHeader;
  g_live.fetch_sub(static_cast<int64_t>(*static_cast<size_t*>(p)));
  std::free(p);
}

}  // namespace

void* operator new(size_t n) { return Allocate(n); }
void* operator new[](size_t n) { return Allocate(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return Allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try {
    return Allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { Release(p); }
void operator delete[](void* p) noexcept { Release(p); }
void operator delete(void* p, size_t) noexcept { Release(p); }
void operator delete[](void* p, size_t) noexcept { Release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { Release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { Release(p); }

namespace telltale::scan {
namespace {

constexpr uint64_t kMax = 1 << 20;
constexpr size_t kHugeLine = 200u << 20;

// Writes `head`, a kHugeLine-byte line of `fill`, then `tail` into the pipe.
// `chunk` is allocated by the caller so the writer thread's heap use does
// not count against the reader.
void WriteHuge(int fd, const std::string& head, const std::string& chunk, const std::string& tail) {
  auto put = [&](const char* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd, p, n);
      if (w <= 0) return;
      p += w;
      n -= static_cast<size_t>(w);
    }
  };
  put(head.data(), head.size());
  for (size_t done = 0; done < kHugeLine; done += chunk.size()) put(chunk.data(), chunk.size());
  put(tail.data(), tail.size());
  ::close(fd);
}

struct PipeOnStdin {
  PipeOnStdin() {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    saved = ::dup(0);
    ::dup2(fds[0], 0);
    ::close(fds[0]);
    write_fd = fds[1];
  }
  ~PipeOnStdin() {
    ::dup2(saved, 0);
    ::close(saved);
  }
  int saved, write_fd;
};

std::vector<InputItem> Drain(InputFormat format, int64_t* peak_growth) {
  InputOptions o;
  o.paths = {"-"};
  o.format = format;
  o.max_document_bytes = kMax;
  auto src = DocumentSource::Open(o);
  EXPECT_TRUE(src.ok());
  std::vector<InputItem> items;
  int64_t base = g_live.load();
  g_peak.store(base);
  for (;;) {
    InputItem item;
    auto r = (*src)->Next(&item);
    EXPECT_TRUE(r.ok());
    if (!r.ok() || !*r) break;
    items.push_back(std::move(item));
  }
  *peak_growth = g_peak.load() - base;
  return items;
}

TEST(BoundedMemoryTest, HugeLineThroughPipeIsOneErrorWithBoundedHeap) {
  PipeOnStdin pipe;
  const std::string head = "short line\n", chunk(1 << 20, 'x'), tail = "\nafter\n";
  std::thread writer(WriteHuge, pipe.write_fd, std::cref(head), std::cref(chunk), std::cref(tail));
  int64_t growth = 0;
  auto items = Drain(InputFormat::kLines, &growth);
  writer.join();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].text, "short line");
  EXPECT_EQ(items[1].kind, ItemKind::kError);
  EXPECT_EQ(items[1].line, 2u);
  EXPECT_EQ(items[1].input_bytes, kHugeLine + 1);
  EXPECT_NE(items[1].reason.find(std::to_string(kHugeLine) + " bytes exceeds"), std::string::npos) << items[1].reason;
  EXPECT_EQ(items[2].text, "after");
  EXPECT_EQ(items[2].line, 3u);
  std::cout << "peak heap growth " << growth << " bytes for max_document_bytes " << kMax << "\n";
  EXPECT_LT(growth, static_cast<int64_t>(2 * kMax)) << "peak heap growth " << growth;
}

TEST(BoundedMemoryTest, HugeGzippedJsonlLineIsBoundedToo) {
  // 32 MB of one letter compress to ~32 KB; the decoder must not inflate the line whole.
  std::string big = "{\"text\": \"a\"}\n{\"text\": \"" + std::string(32u << 20, 'y') + "\"}\n{\"text\": \"b\"}\n";
  std::string gz = Gzip(big);
  big.clear();
  big.shrink_to_fit();
  PipeOnStdin pipe;
  std::thread writer([&] {
    const char* p = gz.data();
    size_t n = gz.size();
    while (n > 0) {
      ssize_t w = ::write(pipe.write_fd, p, n);
      if (w <= 0) break;
      p += w;
      n -= static_cast<size_t>(w);
    }
    ::close(pipe.write_fd);
  });
  int64_t growth = 0;
  auto items = Drain(InputFormat::kJsonl, &growth);
  writer.join();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].text, "a");
  EXPECT_EQ(items[1].kind, ItemKind::kError);
  EXPECT_EQ(items[2].text, "b");
  std::cout << "peak heap growth " << growth << " bytes for max_document_bytes " << kMax << "\n";
  EXPECT_LT(growth, static_cast<int64_t>(2 * kMax)) << "peak heap growth " << growth;
}

}  // namespace
}  // namespace telltale::scan
