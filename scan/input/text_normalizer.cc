#include "scan/input/text_normalizer.h"

#include <unicode/uchar.h>
#include <unicode/uversion.h>

#include <vector>

#include "scan/input/char_tables.h"
#include "scan/input/normalize_steps.h"

namespace telltale::scan {

std::string NormalizeOptions::Describe() const {
  std::string out;
  auto add = [&](const char* step) {
    if (!out.empty()) out += ',';
    out += step;
  };
  if (form == Form::kNfc) add("nfc");
  if (form == Form::kNfkc) add("nfkc");
  if (strip_invisible) add("strip-invisible");
  if (map_confusables) add("confusables");
  return out.empty() ? "none" : out;
}

StatusOr<NormalizeOptions> NormalizeOptions::Parse(std::string_view s) {
  NormalizeOptions o;
  o.form = Form::kNone;
  o.strip_invisible = false;
  o.map_confusables = false;
  if (s == "none") return o;
  if (s.empty()) return Status::InvalidArgument("normalization: empty string (use \"none\")");
  bool form_set = false;
  size_t start = 0;
  for (;;) {
    size_t comma = s.find(',', start);
    std::string_view step = s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    auto dup = [&]() { return Status::InvalidArgument("normalization '" + std::string(s) + "': '" + std::string(step) + "' given twice"); };
    if (step == "nfc" || step == "nfkc") {
      if (form_set) return Status::InvalidArgument("normalization '" + std::string(s) + "': more than one of nfc, nfkc");
      form_set = true;
      o.form = step == "nfc" ? Form::kNfc : Form::kNfkc;
    } else if (step == "strip-invisible") {
      if (o.strip_invisible) return dup();
      o.strip_invisible = true;
    } else if (step == "confusables") {
      if (o.map_confusables) return dup();
      o.map_confusables = true;
    } else {
      return Status::InvalidArgument("normalization '" + std::string(s) + "': unknown step '" + std::string(step) +
                                     "' (expected nfc, nfkc, strip-invisible, confusables or none)");
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return o;
}

StatusOr<TextNormalizer> TextNormalizer::Create(const NormalizeOptions& options) {
  // Build the shared tables now rather than inside the first Apply().
  if (options.strip_invisible || options.map_confusables) (void)CharTables::Get();
  return TextNormalizer(options);
}

Status TextNormalizer::Apply(std::string_view raw, tokenize::NormalizedText* out) const {
  if (raw.size() >= (uint64_t{1} << 32)) {
    return Status::OutOfRange("normalize: document of " + std::to_string(raw.size()) +
                              " bytes is too large (offsets are 32-bit)");
  }
  out->AssignIdentity(raw, 0);
  // Every step is the identity on ASCII; skip all ICU work.
  if (IsAscii(raw)) return Status::Ok();
  if (options_.strip_invisible) StripInvisible(out);
  bool nfkc = options_.form == NormalizeOptions::Form::kNfkc;
  bool changed = false;
  if (options_.form != NormalizeOptions::Form::kNone) TT_RETURN_IF_ERROR(NormalizeForm(nfkc, out, &changed));
  bool mark_follows = false;
  if (options_.map_confusables && MapConfusables(out, &mark_follows) && mark_follows &&
      options_.form != NormalizeOptions::Form::kNone) {
    // A mapped letter followed by a combining mark may now compose.
    TT_RETURN_IF_ERROR(NormalizeForm(nfkc, out, &changed));
  }
  return Status::Ok();
}

std::string TextNormalizer::DataVersion() {
  UVersionInfo icu, uni;
  u_getVersion(icu);
  u_getUnicodeVersion(uni);
  char a[U_MAX_VERSION_STRING_LENGTH], b[U_MAX_VERSION_STRING_LENGTH];
  u_versionToString(icu, a);
  u_versionToString(uni, b);
  return std::string("icu-") + a + ",unicode-" + b;
}

}  // namespace telltale::scan
