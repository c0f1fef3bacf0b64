#include "crypto/provenance/dsse.h"

#include "common/base64.h"
#include "crypto/provenance/jcs.h"
#include "crypto/provenance/sha256.h"

namespace telltale::provenance {

std::string PreAuthEncoding(std::string_view type, std::string_view body) {
  std::string out = "DSSEv1 ";
  out.append(std::to_string(type.size()));
  out.push_back(' ');
  out.append(type);
  out.push_back(' ');
  out.append(std::to_string(body.size()));
  out.push_back(' ');
  out.append(body);
  return out;
}

std::string DsseKeyId(const PublicKey& key) { return HashHex(Sha256Of(key.bytes)); }

StatusOr<std::string> DsseEnvelope::Serialize() const {
  Json sigs = Json::array();
  for (const DsseSignature& s : signatures) sigs.push_back({{"keyid", s.keyid}, {"sig", Base64Encode(s.sig)}});
  Json j = {{"payload", Base64Encode(payload)}, {"payloadType", payload_type}, {"signatures", sigs}};
  TT_ASSIGN_OR_RETURN(std::string text, CanonicalJson(j));
  return text + "\n";
}

DsseEnvelope SignEnvelope(std::string_view payload_type, std::string_view payload, const SigningKey& key) {
  std::string pae = PreAuthEncoding(payload_type, payload);
  auto sig = key.Sign(AsByteSpan(pae));
  DsseEnvelope env;
  env.payload_type = std::string(payload_type);
  env.payload = std::string(payload);
  env.signatures.push_back({DsseKeyId(key.public_key()), std::string(reinterpret_cast<const char*>(sig.data()), sig.size())});
  return env;
}

StatusOr<DsseEnvelope> ParseEnvelope(std::string_view text) {
  auto bad = [](const std::string& why) { return Status::InvalidArgument("envelope: " + why); };
  if (text.empty() || text.back() != '\n') return bad("must be canonical JSON followed by one newline");
  std::string_view body = text.substr(0, text.size() - 1);
  TT_ASSIGN_OR_RETURN(Json j, ParseJsonStrict(body, "envelope"));
  TT_ASSIGN_OR_RETURN(std::string canon, CanonicalJson(j));
  if (canon != body) return bad("not in RFC 8785 canonical form");
  if (!j.is_object() || j.size() != 3 || !j.contains("payload") || !j.contains("payloadType") ||
      !j.contains("signatures")) {
    return bad("expected exactly the members payload, payloadType, signatures");
  }
  if (!j["payload"].is_string() || !j["payloadType"].is_string() || !j["signatures"].is_array()) {
    return bad("payload and payloadType must be strings, signatures an array");
  }
  DsseEnvelope env;
  env.payload_type = j["payloadType"].get<std::string>();
  TT_ASSIGN_OR_RETURN(env.payload, Base64Decode(j["payload"].get<std::string>(), "envelope payload"));
  if (j["signatures"].empty()) return bad("no signatures");
  for (const Json& s : j["signatures"]) {
    if (!s.is_object() || s.size() != 2 || !s.contains("keyid") || !s.contains("sig") || !s["keyid"].is_string() ||
        !s["sig"].is_string()) {
      return bad("each signature must have exactly the string members keyid and sig");
    }
    DsseSignature sig;
    sig.keyid = s["keyid"].get<std::string>();
    TT_ASSIGN_OR_RETURN(sig.sig, Base64Decode(s["sig"].get<std::string>(), "envelope signature"));
    env.signatures.push_back(std::move(sig));
  }
  return env;
}

Status VerifyEnvelope(const DsseEnvelope& envelope, const PublicKey& key) {
  std::string keyid = DsseKeyId(key);
  std::string pae = PreAuthEncoding(envelope.payload_type, envelope.payload);
  for (const DsseSignature& s : envelope.signatures) {
    if (s.keyid != keyid) continue;
    if (!VerifyEd25519(key, AsByteSpan(pae), AsByteSpan(s.sig))) {
      return Status::InvalidArgument("envelope: signature by key " + keyid.substr(0, 16) + "... does not verify");
    }
    return Status::Ok();
  }
  return Status::NotFound("envelope: no signature by key " + keyid.substr(0, 16) + "...");
}

}  // namespace telltale::provenance
