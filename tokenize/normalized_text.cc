#include "tokenize/normalized_text.h"

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
    for (size_t j = b; j < e; ++j) {
      begin_.push_back(from.base_ + static_cast<uint32_t>(j));
      end_.push_back(from.base_ + static_cast<uint32_t>(j) + 1);
    }
  } else {
    begin_.insert(begin_.end(), from.begin_.begin() + static_cast<std::ptrdiff_t>(b),
                  from.begin_.begin() + static_cast<std::ptrdiff_t>(e));
    end_.insert(end_.end(), from.end_.begin() + static_cast<std::ptrdiff_t>(b), from.end_.begin() + static_cast<std::ptrdiff_t>(e));
  }
}

}  // namespace telltale::tokenize
