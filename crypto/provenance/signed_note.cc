#include "crypto/provenance/signed_note.h"

#include <cstring>

#include "common/hex.h"
#include "common/base64.h"
#include "crypto/provenance/sha256.h"

namespace telltale::provenance {
namespace {

constexpr std::string_view kDash = "\xe2\x80\x94 ";  // U+2014 EM DASH, then a space
constexpr size_t kMaxNoteBytes = 1 << 20;
constexpr size_t kMaxSignatures = 100;

Status CheckText(std::string_view text) {
  if (text.empty() || text.back() != '\n') return Status::InvalidArgument("signed note: text must end with a newline");
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f) {
      return Status::InvalidArgument("signed note: control character in the text at byte " + std::to_string(i));
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<SignedNote> ParseSignedNote(std::string_view note) {
  if (note.size() > kMaxNoteBytes) return Status::InvalidArgument("signed note: larger than 1 MiB");
  size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) return Status::InvalidArgument("signed note: no blank line before the signatures");
  SignedNote out;
  out.text = std::string(note.substr(0, split + 1));
  TT_RETURN_IF_ERROR(CheckText(out.text));
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') return Status::InvalidArgument("signed note: signature block must end with a newline");
  size_t line_no = 0;
  while (!sigs.empty()) {
    size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    ++line_no;
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument("signed note: signature line " + std::to_string(line_no) + ": " + why);
    };
    if (!line.starts_with(kDash)) return bad("must start with an em dash and a space");
    line.remove_prefix(kDash.size());
    size_t sp = line.rfind(' ');
    if (sp == std::string_view::npos) return bad("expected '<name> <base64 signature>'");
    NoteSignature sig;
    sig.name = std::string(line.substr(0, sp));
    if (!ValidateSignerName(sig.name).ok()) return bad("invalid key name '" + sig.name + "'");
    TT_ASSIGN_OR_RETURN(std::string raw, Base64Decode(line.substr(sp + 1), "signed note: signature of " + sig.name));
    if (raw.size() < 5) return bad("signature shorter than a key id");
    for (size_t k = 0; k < 4; ++k) sig.key_id[k] = static_cast<uint8_t>(raw[k]);
    sig.signature = raw.substr(4);
    out.signatures.push_back(std::move(sig));
    if (out.signatures.size() > kMaxSignatures) return bad("more than 100 signatures");
  }
  return out;
}

StatusOr<std::string> SignNote(std::string_view text, const SigningKey& key) {
  TT_RETURN_IF_ERROR(CheckText(text));
  auto sig = key.Sign(AsByteSpan(text));
  auto id = key.public_key().NoteKeyId();
  std::string raw(reinterpret_cast<const char*>(id.data()), id.size());
  raw.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  std::string out(text);
  out += "\n";
  out += kDash;
  out += key.name() + " " + Base64Encode(raw) + "\n";
  return out;
}

Status VerifySignedNote(const SignedNote& note, const PublicKey& verifier) {
  auto id = verifier.NoteKeyId();
  for (const NoteSignature& sig : note.signatures) {
    if (sig.name != verifier.name || sig.key_id != id) continue;
    if (!VerifyEd25519(verifier, AsByteSpan(note.text), AsByteSpan(sig.signature))) {
      return Status::InvalidArgument("signed note: signature by " + verifier.name + "+" + HexEncode(id) +
                                     " does not verify");
    }
    return Status::Ok();
  }
  return Status::NotFound("signed note: no signature by " + verifier.name + "+" + HexEncode(id));
}

}  // namespace telltale::provenance
