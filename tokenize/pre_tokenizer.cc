#include "tokenize/pre_tokenizer.h"

#include <algorithm>

#include "tokenize/utf8.h"

namespace telltale::tokenize {

Status PreTokenizer::AddSplit(std::shared_ptr<const Regex> regex, std::string literal, Behavior behavior,
                              bool invert) {
  if (!regex && literal.empty()) return Status::InvalidArgument("Split: empty pattern");
  stages_.push_back(Stage{std::move(regex), std::move(literal), behavior, invert});
  return Status::Ok();
}

Status PreTokenizer::AddByteLevel(bool add_prefix_space, bool use_regex) {
  if (add_prefix_space) {
    if (!stages_.empty() || rewrite_) {
      return Status::Unimplemented("ByteLevel.add_prefix_space=true is supported only as the first pre-tokenizer");
    }
    rewrite_ = true;
    prefix_space_ = true;
  }
  if (use_regex) {
    TT_ASSIGN_OR_RETURN(auto re, Regex::Compile(kGpt2Pattern));
    stages_.push_back(Stage{std::move(re), "", Behavior::kIsolated, false});
  }
  return Status::Ok();
}

Status PreTokenizer::AddMetaspace(std::string replacement, Prepend prepend, bool split) {
  if (!stages_.empty() || rewrite_) {
    return Status::Unimplemented("Metaspace is supported only as the first pre-tokenizer");
  }
  if (replacement.empty()) return Status::InvalidArgument("Metaspace.replacement is empty");
  rewrite_ = true;
  metaspace_ = replacement;
  prepend_ = prepend;
  if (split) stages_.push_back(Stage{nullptr, replacement, Behavior::kMergedWithNext, false});
  return Status::Ok();
}

void PreTokenizer::SplitOne(const std::string& text, Piece in, const Stage& st, Scratch* scratch,
                            std::vector<Piece>* out) const {
  // Alternating (span, is_match) marks covering the piece, as HF's
  // find_matches produces them.
  auto& marks = scratch->marks;
  marks.clear();
  std::string_view subject(text.data() + in.begin, in.end - in.begin);
  uint32_t gap = 0, p = 0;
  const uint32_t n = static_cast<uint32_t>(subject.size());
  // An isolated, not inverted split makes every mark a piece, in order: the
  // marks go straight to `out`, and ASCII stretches of a known pattern are
  // split in one call (SplitKnownPatternAscii).
  const bool direct = st.behavior == Behavior::kIsolated && !st.invert;
  const KnownPattern known = direct && st.regex ? st.regex->known_pattern() : KnownPattern::kNone;
  auto mark = [&](Piece piece, bool is_match) {
    if (direct) {
      out->push_back(piece);
    } else {
      marks.push_back({piece, is_match});
    }
  };
  while (p < n) {
    if (known != KnownPattern::kNone && static_cast<unsigned char>(subject[p]) < 0x80) {
      size_t g = gap;
      p = static_cast<uint32_t>(SplitKnownPatternAscii(known, subject, p, &g, in.begin, out));
      gap = static_cast<uint32_t>(g);
      if (p >= n) break;
      // A non-ASCII byte, or one the ASCII matcher leaves undecided: the
      // general engine takes the next match.
    }
    int64_t len;
    if (st.regex) {
      // Bytes no match can start at belong to the gap; stepping over them
      // here saves a call per byte in splits that rarely match (DeepSeek's
      // digit groups and CJK runs over English text).
      while (p < n && st.regex->CannotStartWith(static_cast<unsigned char>(subject[p]))) ++p;
      if (p >= n) break;
      len = st.regex->MatchAt(subject, p, &scratch->regex);
    } else {
      // The next occurrence of the literal (a valid UTF-8 string, so it
      // starts at a code point); what lies before it is gap. A one-byte
      // literal (SentencePiece's " ") is found by a plain loop: the gaps
      // are words, too short for a call per search to pay.
      if (st.literal.size() == 1) {
        while (p < n && subject[p] != st.literal[0]) ++p;
      } else {
        const size_t hit = subject.find(st.literal, p);
        p = hit == std::string_view::npos ? n : static_cast<uint32_t>(hit);
      }
      if (p >= n) break;
      len = static_cast<int64_t>(st.literal.size());
    }
    if (len > 0) {
      if (gap < p) mark(Piece{in.begin + gap, in.begin + p}, false);
      mark(Piece{in.begin + p, in.begin + p + static_cast<uint32_t>(len)}, true);
      p += static_cast<uint32_t>(len);
      gap = p;
    } else {
      p += static_cast<uint32_t>(Utf8SeqLen(static_cast<unsigned char>(subject[p])));
    }
  }
  if (gap < n) mark(Piece{in.begin + gap, in.begin + n}, false);
  if (direct) return;
  if (st.invert) {
    for (auto& m : marks) m.second = !m.second;
  }
  switch (st.behavior) {
    case Behavior::kIsolated:
      for (const auto& m : marks) out->push_back(m.first);
      break;
    case Behavior::kRemoved:
      for (const auto& m : marks) {
        if (!m.second) out->push_back(m.first);
      }
      break;
    case Behavior::kMergedWithPrevious: {
      bool prev_match = false;
      size_t first = out->size();
      for (const auto& m : marks) {
        if (m.second && !prev_match && out->size() > first) out->back().end = m.first.end;
        else out->push_back(m.first);
        prev_match = m.second;
      }
      break;
    }
    case Behavior::kMergedWithNext: {
      // Walk backwards: a match joins the piece after it unless that piece is
      // itself a match.
      size_t first = out->size();
      bool next_match = false;
      for (size_t k = marks.size(); k-- > 0;) {
        const auto& m = marks[k];
        if (m.second && !next_match && out->size() > first) out->back().begin = m.first.begin;
        else out->push_back(m.first);
        next_match = m.second;
      }
      std::reverse(out->begin() + static_cast<ptrdiff_t>(first), out->end());
      break;
    }
    case Behavior::kContiguous: {
      bool prev_match = false;
      size_t first = out->size();
      for (const auto& m : marks) {
        if (m.second == prev_match && out->size() > first) out->back().end = m.first.end;
        else out->push_back(m.first);
        prev_match = m.second;
      }
      break;
    }
  }
}

Status PreTokenizer::Run(NormalizedText* text, Scratch* scratch, std::vector<Piece>* pieces) const {
  pieces->clear();
  if (rewrite_ && !text->text().empty()) {
    if (prefix_space_ && text->text()[0] != ' ') {
      NormalizedText r;
      r.StartExplicit(text->base());
      uint32_t ob = text->OrigBegin(0);
      r.AppendMapped(" ", ob, ob);
      r.AppendFrom(*text, 0, text->text().size());
      *text = std::move(r);
    }
    if (!metaspace_.empty()) {
      const std::string& src = text->text();
      NormalizedText r;
      r.StartExplicit(text->base());
      bool first_segment = text->OrigBegin(0) == 0;
      bool starts = src[0] == ' ' || src.compare(0, metaspace_.size(), metaspace_) == 0;
      if (!starts && (prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && first_segment))) {
        uint32_t ob = text->OrigBegin(0);
        r.AppendMapped(metaspace_, ob, ob);
      }
      size_t i = 0, sp = src.find(' ');
      while (sp != std::string::npos) {
        r.AppendFrom(*text, i, sp);
        r.AppendMapped(metaspace_, text->OrigBegin(sp), text->OrigEnd(sp));
        i = sp + 1;
        sp = src.find(' ', i);
      }
      r.AppendFrom(*text, i, src.size());
      *text = std::move(r);
    }
  }
  const std::string& t = text->text();
  if (t.empty()) return Status::Ok();
  if (stages_.empty()) {
    pieces->push_back(Piece{0, static_cast<uint32_t>(t.size())});
    return Status::Ok();
  }
  SplitOne(t, Piece{0, static_cast<uint32_t>(t.size())}, stages_[0], scratch, pieces);
  for (size_t s = 1; s < stages_.size(); ++s) {
    scratch->tmp.clear();
    for (const Piece& p : *pieces) SplitOne(t, p, stages_[s], scratch, &scratch->tmp);
    pieces->swap(scratch->tmp);
  }
  return Status::Ok();
}

}  // namespace telltale::tokenize
