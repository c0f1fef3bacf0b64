// NormalizedText: a string produced from a slice of the user's input, with a
// byte alignment back to that input (sentencepiece's norm_to_orig idea).
//
// Every byte j of text() came from the original byte range
// [OrigBegin(j), OrigEnd(j)). While no step has changed the text the
// alignment is the identity plus `base`, and no per-byte arrays are stored,
// so the common case (ASCII/NFC input, byte-level tokenizers) costs nothing.
//
// Thread-safety: a value type; not shared between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace telltale::tokenize {

class NormalizedText {
 public:
  NormalizedText() = default;
  // Identity alignment: text[j] came from original byte base + j.
  NormalizedText(std::string_view text, uint32_t base) : text_(text), base_(base) {}
  // The same as *this = NormalizedText(text, base), reusing this object's
  // buffers (hot loops keep one NormalizedText per thread).
  void AssignIdentity(std::string_view text, uint32_t base) {
    text_.assign(text.data(), text.size());
    begin_.clear();
    end_.clear();
    base_ = base;
  }

  const std::string& text() const { return text_; }
  bool identity() const { return begin_.empty(); }
  uint32_t OrigBegin(size_t j) const { return identity() ? base_ + static_cast<uint32_t>(j) : begin_[j]; }
  uint32_t OrigEnd(size_t j) const { return identity() ? base_ + static_cast<uint32_t>(j) + 1 : end_[j]; }
  // Original range covered by text bytes [b, e); e > b. An empty range maps to
  // the zero-length position before byte b.
  void OrigRange(size_t b, size_t e, uint32_t* ob, uint32_t* oe) const;
  // Start offset (in the original) of the whole text.
  uint32_t base() const { return base_; }

  // Builder used by normalizers: appends `bytes` whose source is the
  // original range [ob, oe) (every appended byte gets that range).
  void AppendMapped(std::string_view bytes, uint32_t ob, uint32_t oe);
  // Appends text()[b, e) of `from` with its alignment.
  void AppendFrom(const NormalizedText& from, size_t b, size_t e);
  // Switches to explicit per-byte arrays (before a builder appends to it).
  void StartExplicit(uint32_t base) { text_.clear(); begin_.clear(); end_.clear(); base_ = base; }

  // In-place steps of the SentencePiece-style normalizers, one pass each
  // (the general builders above cost a third of such a tokenizer's time).
  // Replaces every byte `from` by `to`; each output byte keeps the origin
  // of the byte it replaces (as AppendMapped(to, OrigRange(j, j + 1))).
  // A non-empty `prefix` is then inserted as by Prepend, in the same pass.
  void ReplaceByte(char from, std::string_view to, std::string_view prefix = {});
  // Inserts `prefix` before the first byte, mapped to the empty range at
  // OrigBegin(0). The text must not be empty.
  void Prepend(std::string_view prefix);

 private:
  std::string text_;
  uint32_t base_ = 0;
  std::vector<uint32_t> begin_, end_;
};

}  // namespace telltale::tokenize
