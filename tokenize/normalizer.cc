#include "tokenize/normalizer.h"

#include <unicode/bytestream.h>
#include <unicode/edits.h>
#include <unicode/normalizer2.h>

namespace telltale::tokenize {

namespace {

const icu::Normalizer2* Instance(Normalizer::Kind kind, UErrorCode* err) {
  switch (kind) {
    case Normalizer::Kind::kNfc: return icu::Normalizer2::getNFCInstance(*err);
    case Normalizer::Kind::kNfkc: return icu::Normalizer2::getNFKCInstance(*err);
    case Normalizer::Kind::kNfd: return icu::Normalizer2::getNFDInstance(*err);
    case Normalizer::Kind::kNfkd: return icu::Normalizer2::getNFKDInstance(*err);
    default: return nullptr;
  }
}

Status ApplyUnicode(Normalizer::Kind kind, NormalizedText* t) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* norm = Instance(kind, &err);
  if (U_FAILURE(err) || norm == nullptr) return Status::Internal(std::string("ICU normalizer: ") + u_errorName(err));
  const std::string& src = t->text();
  if (norm->isNormalizedUTF8(icu::StringPiece(src.data(), static_cast<int32_t>(src.size())), err) && U_SUCCESS(err)) {
    return Status::Ok();
  }
  err = U_ZERO_ERROR;
  std::string out;
  icu::StringByteSink<std::string> sink(&out);
  icu::Edits edits;
  norm->normalizeUTF8(0, icu::StringPiece(src.data(), static_cast<int32_t>(src.size())), sink, &edits, err);
  if (U_FAILURE(err)) return Status::Internal(std::string("ICU normalizeUTF8: ") + u_errorName(err));
  NormalizedText result;
  result.StartExplicit(t->base());
  icu::Edits::Iterator it = edits.getFineIterator();
  while (it.next(err)) {
    size_t sb = static_cast<size_t>(it.sourceIndex()), sl = static_cast<size_t>(it.oldLength());
    size_t db = static_cast<size_t>(it.destinationIndex()), dl = static_cast<size_t>(it.newLength());
    if (!it.hasChange()) {
      result.AppendFrom(*t, sb, sb + sl);
    } else if (dl > 0) {
      uint32_t ob, oe;
      t->OrigRange(sb, sb + sl, &ob, &oe);
      result.AppendMapped(std::string_view(out).substr(db, dl), ob, oe);
    }
  }
  if (U_FAILURE(err)) return Status::Internal(std::string("ICU edits: ") + u_errorName(err));
  *t = std::move(result);
  return Status::Ok();
}

void ApplyReplace(const std::string& from, const std::string& to, NormalizedText* t) {
  if (from.size() == 1) return t->ReplaceByte(from[0], to);  // SentencePiece's " " -> U+2581
  const std::string& src = t->text();
  size_t hit = src.find(from);
  if (hit == std::string::npos) return;
  NormalizedText result;
  result.StartExplicit(t->base());
  size_t i = 0;
  while (hit != std::string::npos) {
    result.AppendFrom(*t, i, hit);
    uint32_t ob, oe;
    t->OrigRange(hit, hit + from.size(), &ob, &oe);
    result.AppendMapped(to, ob, oe);
    i = hit + from.size();
    hit = src.find(from, i);
  }
  result.AppendFrom(*t, i, src.size());
  *t = std::move(result);
}

void ApplyPrepend(const std::string& prefix, NormalizedText* t) {
  if (t->text().empty()) return;  // HF prepends only to non-empty text
  t->Prepend(prefix);
}

}  // namespace

Status Normalizer::AddStep(Step step) {
  if (step.kind == Kind::kReplace && step.from.empty()) {
    return Status::InvalidArgument("Replace normalizer: empty pattern");
  }
  steps_.push_back(std::move(step));
  return Status::Ok();
}

Status Normalizer::Apply(NormalizedText* text) const {
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& s = steps_[i];
    // SentencePiece's Sequence[Prepend U+2581, Replace " " -> U+2581] in
    // one pass (the order does not matter when the prefix has no " ").
    // The GGUF loader's Replace-then-Prepend is the same pass (its prefix is
    // not subject to the replacement), when the replaced text cannot be empty.
    if (s.kind == Kind::kPrepend && i + 1 < steps_.size() && steps_[i + 1].kind == Kind::kReplace &&
        steps_[i + 1].from.size() == 1 && s.to.find(steps_[i + 1].from[0]) == std::string::npos &&
        !text->text().empty()) {
      text->ReplaceByte(steps_[i + 1].from[0], steps_[i + 1].to, s.to);
      ++i;
      continue;
    }
    if (s.kind == Kind::kReplace && s.from.size() == 1 && !s.to.empty() && i + 1 < steps_.size() &&
        steps_[i + 1].kind == Kind::kPrepend && !text->text().empty()) {
      text->ReplaceByte(s.from[0], s.to, steps_[i + 1].to);
      ++i;
      continue;
    }
    switch (s.kind) {
      case Kind::kNfc: case Kind::kNfkc: case Kind::kNfd: case Kind::kNfkd:
        TT_RETURN_IF_ERROR(ApplyUnicode(s.kind, text));
        break;
      case Kind::kReplace:
        ApplyReplace(s.from, s.to, text);
        break;
      case Kind::kPrepend:
        ApplyPrepend(s.to, text);
        break;
    }
  }
  return Status::Ok();
}

}  // namespace telltale::tokenize
