#include "tokenize/normalized_text.h"

#include <algorithm>
#include <cstddef>

namespace telltale::tokenize {

void NormalizedText::OrigRange(size_t b, size_t e, uint32_t* ob, uint32_t* oe) const {
  if (e <= b) {
    *ob = *oe = b < text_.size() ? OrigBegin(b) : (text_.empty() ? base_ : OrigEnd(text_.size() - 1));
    return;
  }
  *ob = OrigBegin(b);
  *oe = OrigEnd(e - 1);
  if (*oe < *ob) *oe = *ob;
}

void NormalizedText::AppendMapped(std::string_view bytes, uint32_t ob, uint32_t oe) {
  text_.append(bytes);
  begin_.insert(begin_.end(), bytes.size(), ob);
  end_.insert(end_.end(), bytes.size(), oe);
}

void NormalizedText::AppendFrom(const NormalizedText& from, size_t b, size_t e) {
  text_.append(from.text_, b, e - b);
  if (from.identity()) {
    const size_t at = begin_.size();
    begin_.resize(at + (e - b));
    end_.resize(at + (e - b));
    for (size_t j = b; j < e; ++j) {
      begin_[at + j - b] = from.base_ + static_cast<uint32_t>(j);
      end_[at + j - b] = from.base_ + static_cast<uint32_t>(j) + 1;
    }
  } else {
    begin_.insert(begin_.end(), from.begin_.begin() + static_cast<std::ptrdiff_t>(b),
                  from.begin_.begin() + static_cast<std::ptrdiff_t>(e));
    end_.insert(end_.end(), from.end_.begin() + static_cast<std::ptrdiff_t>(b), from.end_.begin() + static_cast<std::ptrdiff_t>(e));
  }
}

void NormalizedText::ReplaceByte(char from, std::string_view to, std::string_view prefix) {
  const size_t n = text_.size(), p = prefix.size();
  const size_t hits = static_cast<size_t>(std::count(text_.begin(), text_.end(), from));
  if (hits == 0 && p == 0) return;
  const size_t m = p + n - hits + hits * to.size();
  std::string out(m, '\0');
  std::vector<uint32_t> b(m), e(m);
  const uint32_t at = n > 0 ? OrigBegin(0) : base_;
  for (size_t k = 0; k < p; ++k) {
    out[k] = prefix[k];
    b[k] = e[k] = at;
  }
  // The identity test is hoisted: this loop runs over every byte.
  auto run = [&](auto orig_begin, auto orig_end) {
    size_t k = p;
    for (size_t j = 0; j < n; ++j) {
      const uint32_t ob = orig_begin(j), oe = orig_end(j);
      if (text_[j] != from) {
        out[k] = text_[j];
        b[k] = ob;
        e[k] = oe;
        ++k;
        continue;
      }
      for (char c : to) {
        out[k] = c;
        b[k] = ob;
        e[k] = std::max(oe, ob);
        ++k;
      }
    }
  };
  if (identity()) {
    run([&](size_t j) { return base_ + static_cast<uint32_t>(j); },
        [&](size_t j) { return base_ + static_cast<uint32_t>(j) + 1; });
  } else {
    run([&](size_t j) { return begin_[j]; }, [&](size_t j) { return end_[j]; });
  }
  text_ = std::move(out);
  begin_ = std::move(b);
  end_ = std::move(e);
}

void NormalizedText::Prepend(std::string_view prefix) {
  const size_t n = text_.size(), p = prefix.size();
  const uint32_t at = OrigBegin(0);
  std::vector<uint32_t> b(n + p, at), e(n + p, at);
  for (size_t j = 0; j < n; ++j) {
    b[p + j] = OrigBegin(j);
    e[p + j] = OrigEnd(j);
  }
  text_.insert(0, prefix);
  begin_ = std::move(b);
  end_ = std::move(e);
}

}  // namespace telltale::tokenize
