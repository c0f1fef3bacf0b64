// BufferPool: storage of finished documents, handed back to the threads that
// fill new ones (scanner.cc).
//
// In a scan, the reader allocates every document's text (and its path, when
// longer than a short string holds), a worker every result's key scores, and
// another thread frees them. With short documents that traffic between
// threads' malloc arenas took a third of the reader's time (English JSONL,
// ~220 bytes per document). Recycled, a buffer is allocated once and reused
// for as long as the documents fit it.
//
// Bounded: at most `max_items` buffers of each kind, texts only up to
// kMaxText bytes of capacity each and kMaxTextBytes in all; anything else is
// freed as before. Take* hands over everything pooled, so a thread reaches
// the pool (and its lock) once per batch, not once per document.
//
// Thread-safety: none; the scan guards it with its own mutex.
// Results never depend on it: a recycled buffer is cleared before use.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "scan/scan_result.h"

namespace telltale::scan {

class BufferPool {
 public:
  static constexpr size_t kMaxText = size_t{64} << 10;
  static constexpr size_t kMaxTextBytes = size_t{8} << 20;

  explicit BufferPool(size_t max_items) : max_items_(max_items) {}

  void GiveText(std::string&& s) {
    const size_t cap = s.capacity();
    if (cap <= ShortString() || cap > kMaxText || texts_.size() >= max_items_ || text_bytes_ + cap > kMaxTextBytes) {
      return;
    }
    text_bytes_ += cap;
    texts_.push_back(std::move(s));
  }
  void GiveSource(std::string&& s) {
    if (s.capacity() > ShortString() && s.capacity() <= kMaxSource && sources_.size() < max_items_) {
      sources_.push_back(std::move(s));
    }
  }
  void GiveKeys(std::vector<KeyScore>&& v) {
    if (v.capacity() > 0 && v.capacity() <= kMaxKeys && keys_.size() < max_items_) keys_.push_back(std::move(v));
  }

  // Moves every pooled buffer of the kind to *out when *out has none left.
  void TakeTexts(std::vector<std::string>* out) {
    if (!out->empty() || texts_.empty()) return;
    out->swap(texts_);
    text_bytes_ = 0;
  }
  void TakeSources(std::vector<std::string>* out) {
    if (out->empty()) out->swap(sources_);
  }
  void TakeKeys(std::vector<std::vector<KeyScore>>* out) {
    if (out->empty()) out->swap(keys_);
  }

  // Pops a buffer from a taken list into *into (cleared), if there is one.
  template <class T>
  static void Reuse(std::vector<T>* taken, T* into) {
    if (taken->empty()) return;
    *into = std::move(taken->back());
    taken->pop_back();
    into->clear();
  }

 private:
  // What std::string holds inline: nothing to gain from such a buffer.
  static size_t ShortString() { return std::string().capacity(); }
  static constexpr size_t kMaxSource = 4096;
  static constexpr size_t kMaxKeys = 1024;
  size_t max_items_;
  size_t text_bytes_ = 0;
  std::vector<std::string> texts_, sources_;
  std::vector<std::vector<KeyScore>> keys_;
};

}  // namespace telltale::scan
