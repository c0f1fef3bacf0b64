// Tokenizer::FromHuggingFaceJson: reads tokenizer.json (BPE models).
//
// Everything that would change ids and is not implemented is refused with
// Unimplemented naming the field, never ignored; malformed fields give
// InvalidArgument naming the field.
#include <nlohmann/json.hpp>

#include "tokenize/hf_json_reader.h"
#include "tokenize/tokenizer.h"
#include "tokenize/utf8.h"

namespace telltale::tokenize {

namespace {

using json = nlohmann::json;

Status Bad(const std::string& field, const std::string& why) {
  return Status::InvalidArgument("tokenizer.json: " + field + ": " + why);
}
Status Unsupported(const std::string& field, const std::string& what) {
  return Status::Unimplemented("tokenizer.json: " + field + ": " + what + " is not supported");
}

StatusOr<std::string> GetString(const json& j, const std::string& key, const std::string& field) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return Bad(field + "." + key, "missing or not a string");
  return it->get<std::string>();
}

bool GetBool(const json& j, const std::string& key, bool def) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : def;
}

// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the
// rest to U+0100 onwards in byte order.
void ByteLevelAlphabet(char32_t forward[256]) {
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    forward[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
  }
}

// Appends the bytes that byte-level token `s` spells to *out; false when `s`
// is not valid UTF-8 or leaves the byte-level alphabet.
bool FromByteLevel(std::string_view s, const char32_t forward[256], std::string* out) {
  out->clear();
  if (ValidUtf8Prefix(s) != s.size()) return false;
  for (size_t i = 0; i < s.size();) {
    size_t len;
    char32_t c = DecodeUtf8(s.data() + i, &len);
    i += len;
    int b = -1;
    if (c < 256 && forward[c] == c) b = static_cast<int>(c);
    else if (c >= 256 && c < 256 + 68) {
      for (int k = 0; k < 256; ++k) {
        if (forward[k] == c) { b = k; break; }
      }
    }
    if (b < 0) return false;
    out->push_back(static_cast<char>(b));
  }
  return true;
}

StatusOr<std::shared_ptr<const Regex>> PatternRegex(const json& pattern, const std::string& field, std::string* literal) {
  if (!pattern.is_object()) return Bad(field, "must be {\"String\": ...} or {\"Regex\": ...}");
  if (pattern.contains("Regex") && pattern["Regex"].is_string()) {
    auto re = Regex::Compile(pattern["Regex"].get<std::string>());
    if (!re.ok()) return Status(re.status().code(), "tokenizer.json: " + field + ".Regex: " + re.status().message());
    return re;
  }
  if (pattern.contains("String") && pattern["String"].is_string()) {
    *literal = pattern["String"].get<std::string>();
    if (literal->empty()) return Bad(field + ".String", "empty");
    return std::shared_ptr<const Regex>();
  }
  return Bad(field, "must be {\"String\": ...} or {\"Regex\": ...}");
}

Status AddNormalizer(const json& j, const std::string& field, Normalizer* n) {
  if (j.is_null()) return Status::Ok();
  if (!j.is_object()) return Bad(field, "not an object");
  TT_ASSIGN_OR_RETURN(std::string type, GetString(j, "type", field));
  if (type == "Sequence") {
    auto it = j.find("normalizers");
    if (it == j.end() || !it->is_array()) return Bad(field + ".normalizers", "missing or not an array");
    for (size_t i = 0; i < it->size(); ++i) {
      TT_RETURN_IF_ERROR(AddNormalizer((*it)[i], field + ".normalizers[" + std::to_string(i) + "]", n));
    }
    return Status::Ok();
  }
  if (type == "NFC") return n->AddStep({Normalizer::Kind::kNfc, "", ""});
  if (type == "NFKC") return n->AddStep({Normalizer::Kind::kNfkc, "", ""});
  if (type == "NFD") return n->AddStep({Normalizer::Kind::kNfd, "", ""});
  if (type == "NFKD") return n->AddStep({Normalizer::Kind::kNfkd, "", ""});
  if (type == "Prepend") {
    TT_ASSIGN_OR_RETURN(std::string p, GetString(j, "prepend", field));
    return n->AddStep({Normalizer::Kind::kPrepend, "", p});
  }
  if (type == "Replace") {
    if (!j.contains("pattern")) return Bad(field + ".pattern", "missing");
    std::string literal;
    TT_ASSIGN_OR_RETURN(auto re, PatternRegex(j["pattern"], field + ".pattern", &literal));
    if (re) return Unsupported(field + ".pattern", "a Regex pattern in the Replace normalizer");
    TT_ASSIGN_OR_RETURN(std::string content, GetString(j, "content", field));
    return n->AddStep({Normalizer::Kind::kReplace, literal, content});
  }
  return Unsupported(field + ".type", "normalizer \"" + type + "\"");
}

Status AddPreTokenizer(const json& j, const std::string& field, PreTokenizer* p, bool* byte_level) {
  if (j.is_null()) return Status::Ok();
  if (!j.is_object()) return Bad(field, "not an object");
  TT_ASSIGN_OR_RETURN(std::string type, GetString(j, "type", field));
  if (type == "Sequence") {
    auto it = j.find("pretokenizers");
    if (it == j.end() || !it->is_array()) return Bad(field + ".pretokenizers", "missing or not an array");
    for (size_t i = 0; i < it->size(); ++i) {
      TT_RETURN_IF_ERROR(AddPreTokenizer((*it)[i], field + ".pretokenizers[" + std::to_string(i) + "]", p, byte_level));
    }
    return Status::Ok();
  }
  if (type == "Split") {
    if (!j.contains("pattern")) return Bad(field + ".pattern", "missing");
    std::string literal;
    TT_ASSIGN_OR_RETURN(auto re, PatternRegex(j["pattern"], field + ".pattern", &literal));
    TT_ASSIGN_OR_RETURN(std::string behavior, GetString(j, "behavior", field));
    PreTokenizer::Behavior b;
    if (behavior == "Isolated") b = PreTokenizer::Behavior::kIsolated;
    else if (behavior == "Removed") b = PreTokenizer::Behavior::kRemoved;
    else if (behavior == "MergedWithPrevious") b = PreTokenizer::Behavior::kMergedWithPrevious;
    else if (behavior == "MergedWithNext") b = PreTokenizer::Behavior::kMergedWithNext;
    else if (behavior == "Contiguous") b = PreTokenizer::Behavior::kContiguous;
    else return Bad(field + ".behavior", "unknown behavior \"" + behavior + "\"");
    Status s = p->AddSplit(std::move(re), literal, b, GetBool(j, "invert", false));
    return s.ok() ? s : s.WithContext("tokenizer.json: " + field);
  }
  if (type == "ByteLevel") {
    *byte_level = true;
    Status s = p->AddByteLevel(GetBool(j, "add_prefix_space", false), GetBool(j, "use_regex", true));
    return s.ok() ? s : s.WithContext("tokenizer.json: " + field);
  }
  if (type == "Metaspace") {
    std::string replacement = "\xE2\x96\x81";
    if (j.contains("replacement")) {
      TT_ASSIGN_OR_RETURN(replacement, GetString(j, "replacement", field));
    }
    PreTokenizer::Prepend prepend = GetBool(j, "add_prefix_space", true) ? PreTokenizer::Prepend::kAlways
                                                                          : PreTokenizer::Prepend::kNever;
    if (j.contains("prepend_scheme")) {
      TT_ASSIGN_OR_RETURN(std::string scheme, GetString(j, "prepend_scheme", field));
      if (scheme == "always") prepend = PreTokenizer::Prepend::kAlways;
      else if (scheme == "first") prepend = PreTokenizer::Prepend::kFirst;
      else if (scheme == "never") prepend = PreTokenizer::Prepend::kNever;
      else return Bad(field + ".prepend_scheme", "unknown scheme \"" + scheme + "\"");
    }
    Status s = p->AddMetaspace(replacement, prepend, GetBool(j, "split", true));
    return s.ok() ? s : s.WithContext("tokenizer.json: " + field);
  }
  return Unsupported(field + ".type", "pre-tokenizer \"" + type + "\"");
}

Status ReadDecoder(const json& j, const std::string& field, DecoderRules* d) {
  if (j.is_null()) return Status::Ok();
  if (!j.is_object()) return Bad(field, "not an object");
  TT_ASSIGN_OR_RETURN(std::string type, GetString(j, "type", field));
  if (type == "Sequence") {
    auto it = j.find("decoders");
    if (it == j.end() || !it->is_array()) return Bad(field + ".decoders", "missing or not an array");
    for (size_t i = 0; i < it->size(); ++i) {
      TT_RETURN_IF_ERROR(ReadDecoder((*it)[i], field + ".decoders[" + std::to_string(i) + "]", d));
    }
    return Status::Ok();
  }
  if (type == "ByteLevel") { d->byte_level = true; return Status::Ok(); }
  if (type == "ByteFallback") { d->byte_fallback = true; return Status::Ok(); }
  if (type == "Fuse") return Status::Ok();
  if (type == "Replace") {
    std::string literal;
    if (!j.contains("pattern")) return Bad(field + ".pattern", "missing");
    TT_ASSIGN_OR_RETURN(auto re, PatternRegex(j["pattern"], field + ".pattern", &literal));
    TT_ASSIGN_OR_RETURN(std::string content, GetString(j, "content", field));
    if (re || content != " ") return Unsupported(field, "a Replace decoder other than <literal> -> \" \"");
    d->metaspace = literal;
    return Status::Ok();
  }
  if (type == "Strip") {
    TT_ASSIGN_OR_RETURN(std::string content, GetString(j, "content", field));
    auto stop = j.value("stop", 0);
    if (content != " " || stop != 0) return Unsupported(field, "a Strip decoder other than leading spaces");
    d->strip_leading_spaces = j.value("start", size_t{0});
    return Status::Ok();
  }
  if (type == "Metaspace") {
    d->metaspace = j.value("replacement", std::string("\xE2\x96\x81"));
    std::string scheme = j.value("prepend_scheme", std::string(GetBool(j, "add_prefix_space", true) ? "always" : "never"));
    if (scheme != "never") d->strip_leading_spaces = 1;
    return Status::Ok();
  }
  return Unsupported(field + ".type", "decoder \"" + type + "\"");
}

StatusOr<std::shared_ptr<const Tokenizer>> ParseJson(const HfJson& in) {
  const json& root = in.root;
  if (!root.is_object()) return Bad("(root)", "not a JSON object");
  Tokenizer::Parts parts;
  parts.kind = "tokenizer.json";
  auto model_it = root.find("model");
  if (model_it == root.end() || !model_it->is_object()) return Bad("model", "missing or not an object");
  const json& model = *model_it;
  std::string type = model.value("type", std::string("BPE"));
  if (!model.contains("type") && !in.has_merges && !model.contains("merges")) return Bad("model.type", "missing");
  if (type != "BPE") return Unsupported("model.type", "model \"" + type + "\"");
  if (model.contains("dropout") && !model["dropout"].is_null() &&
      !(model["dropout"].is_number() && model["dropout"].get<double>() == 0.0)) {
    return Unsupported("model.dropout", "BPE dropout (non-deterministic)");
  }
  for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(k) && !model[k].is_null() && !(model[k].is_string() && model[k].get<std::string>().empty())) {
      return Unsupported(std::string("model.") + k, "a non-empty value");
    }
  }

  TT_RETURN_IF_ERROR(AddNormalizer(root.value("normalizer", json()), "normalizer", &parts.normalizer));
  bool byte_level = false;
  TT_RETURN_IF_ERROR(AddPreTokenizer(root.value("pre_tokenizer", json()), "pre_tokenizer", &parts.pre_tokenizer, &byte_level));
  TT_RETURN_IF_ERROR(ReadDecoder(root.value("decoder", json()), "decoder", &parts.decoder));
  byte_level = byte_level || parts.decoder.byte_level;
  parts.decoder.byte_level = byte_level;

  BpeModel& m = parts.model;
  m.set_byte_level(byte_level);
  m.set_ignore_merges(GetBool(model, "ignore_merges", false));
  m.set_byte_fallback(GetBool(model, "byte_fallback", false));
  char32_t forward[256];
  ByteLevelAlphabet(forward);

  if (!in.has_vocab) return Bad("model.vocab", "missing or not an object");
  if (in.vocab.empty()) return Bad("model.vocab", "empty");
  // Field names are built only for an error: 10^5 tokens and merges.
  const auto vocab_field = [](const std::string& key) { return "model.vocab[\"" + key + "\"]"; };
  // Merges name tokens by their JSON spelling. Open addressing: 10^5-10^6
  // lookups at load, where std::unordered_map's node hops were a quarter of
  // the load time. A slot holds the key's last entry (a repeated key keeps
  // its last value, as in a JSON object), then that entry's token id.
  constexpr uint32_t kAbsent = UINT32_MAX;
  std::vector<std::pair<std::string_view, uint32_t>> raw_ids;
  size_t raw_mask = 15;
  while (raw_mask + 1 < in.vocab.size() * 2) raw_mask = raw_mask * 2 + 1;
  raw_ids.assign(raw_mask + 1, {std::string_view(), kAbsent});
  const auto raw_slot = [&](std::string_view key) -> std::pair<std::string_view, uint32_t>& {
    for (size_t i = StringHash()(key) & raw_mask;; i = (i + 1) & raw_mask) {
      auto& slot = raw_ids[i];
      if (slot.second == kAbsent || slot.first == key) return slot;
    }
  };
  const auto raw_id = [&](std::string_view key) { return raw_slot(key).second; };
  for (uint32_t e = 0; e < in.vocab.size(); ++e) raw_slot(in.vocab[e].key) = {in.vocab[e].key, e};
  std::string converted;
  for (uint32_t e = 0; e < in.vocab.size(); ++e) {
    const HfVocabEntry& entry = in.vocab[e];
    auto& slot = raw_slot(entry.key);
    if (slot.second != e) continue;  // superseded by a later entry with this key
    if (entry.id < 0) return Bad(vocab_field(entry.key), "id must be a non-negative integer");
    if (entry.id >= (int64_t{1} << 30)) return Bad(vocab_field(entry.key), "id is too large");
    const auto id = static_cast<uint32_t>(entry.id);
    // Tokens outside the byte-level alphabet (DeepSeek-V3 keeps its special
    // tokens in the vocabulary) can never come out of BPE.
    const bool reachable = !byte_level || FromByteLevel(entry.key, forward, &converted);
    Status s = m.AddToken(byte_level && reachable ? converted : entry.key, id, reachable);
    if (!s.ok()) return Bad(vocab_field(entry.key), s.message());
    slot.second = id;
  }

  if (!in.has_merges) return Bad("model.merges", "missing or not an array");
  for (size_t r = 0; r < in.merges.size(); ++r) {
    const auto field = [r] { return "model.merges[" + std::to_string(r) + "]"; };
    const HfMergeEntry& merge = in.merges[r];
    std::string_view a, b;
    if (merge.form == HfMergeEntry::Form::kLine) {
      const std::string& line = merge.a;
      size_t sp = line.find(' ');
      if (sp == std::string::npos || line.find(' ', sp + 1) != std::string::npos) {
        return Bad(field(), "\"" + line + "\" is not two space-separated tokens");
      }
      a = std::string_view(line).substr(0, sp);
      b = std::string_view(line).substr(sp + 1);
    } else if (merge.form == HfMergeEntry::Form::kPair) {
      a = merge.a;
      b = merge.b;
    } else {
      return Bad(field(), "must be \"a b\" or [\"a\", \"b\"]");
    }
    const uint32_t ia = raw_id(a), ib = raw_id(b);
    if (ia == kAbsent) return Bad(field(), "token \"" + std::string(a) + "\" is not in model.vocab");
    if (ib == kAbsent) return Bad(field(), "token \"" + std::string(b) + "\" is not in model.vocab");
    Status s = m.AddMerge(ia, ib, static_cast<uint32_t>(r));
    if (!s.ok()) return Bad(field(), s.message() + " (\"" + std::string(a) + std::string(b) + "\")");
  }

  if (model.contains("unk_token") && !model["unk_token"].is_null()) {
    if (!model["unk_token"].is_string()) return Bad("model.unk_token", "not a string");
    const std::string& unk = model["unk_token"].get_ref<const std::string&>();
    const uint32_t u = raw_id(unk);
    if (u == kAbsent) return Bad("model.unk_token", "\"" + unk + "\" is not in model.vocab");
    m.set_unk(u, GetBool(model, "fuse_unk", false));
  }

  if (root.contains("added_tokens") && !root["added_tokens"].is_null()) {
    const json& added = root["added_tokens"];
    if (!added.is_array()) return Bad("added_tokens", "not an array");
    for (size_t i = 0; i < added.size(); ++i) {
      const std::string field = "added_tokens[" + std::to_string(i) + "]";
      const json& a = added[i];
      if (!a.is_object()) return Bad(field, "not an object");
      TT_ASSIGN_OR_RETURN(std::string content, GetString(a, "content", field));
      if (!a.contains("id") || !a["id"].is_number_integer() || a["id"].get<int64_t>() < 0) {
        return Bad(field + ".id", "missing or not a non-negative integer");
      }
      for (const char* k : {"single_word", "lstrip", "rstrip"}) {
        if (GetBool(a, k, false)) return Unsupported(field + "." + k, "true");
      }
      parts.added.Add({content, a["id"].get<uint32_t>(), GetBool(a, "special", false)});
    }
  }
  Status fin = m.Finalize();
  if (!fin.ok()) return Bad("model", fin.message());
  return std::shared_ptr<const Tokenizer>(std::make_shared<Tokenizer>(std::move(parts)));
}

}  // namespace

StatusOr<std::shared_ptr<const Tokenizer>> Tokenizer::FromHuggingFaceJson(std::string_view text) {
  HfJson in;
  TT_RETURN_IF_ERROR(ReadHfJson(text, &in));
  try {
    return ParseJson(in);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("tokenizer.json: unexpected value type: ") + e.what());
  }
}

}  // namespace telltale::tokenize
