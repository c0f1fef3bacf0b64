// Tokenizer::FromTiktoken: reads a tiktoken rank file ("<base64 bytes> <rank>"
// per line) and attaches the named encoding's exact split pattern and
// special tokens (the values of tiktoken's openai_public.py).
#include <string>

#include "common/base64.h"
#include "tokenize/known_patterns.h"
#include "tokenize/tokenizer.h"

namespace telltale::tokenize {

namespace {

struct NamedEncoding {
  const char* name;
  size_t ranks;  // number of mergeable ranks, used to infer the encoding
  const char* pattern;
  std::vector<std::pair<const char*, uint32_t>> specials;
};

const std::vector<NamedEncoding>& Encodings() {
  static const std::vector<NamedEncoding> kAll = {
      {"r50k_base", 50256, kGpt2Pattern, {{"<|endoftext|>", 50256}}},
      {"gpt2", 50256, kGpt2Pattern, {{"<|endoftext|>", 50256}}},
      {"p50k_base", 50280, kGpt2Pattern, {{"<|endoftext|>", 50256}}},
      {"cl100k_base", 100256, kCl100kPattern,
       {{"<|endoftext|>", 100257}, {"<|fim_prefix|>", 100258}, {"<|fim_middle|>", 100259},
        {"<|fim_suffix|>", 100260}, {"<|endofprompt|>", 100276}}},
      {"o200k_base", 199998, kO200kPattern, {{"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}}},
  };
  return kAll;
}

}  // namespace

StatusOr<std::shared_ptr<const Tokenizer>> Tokenizer::FromTiktoken(std::string_view data, const std::string& name) {
  Tokenizer::Parts parts;
  BpeModel& m = parts.model;
  m.set_byte_level(true);
  m.set_ignore_merges(true);  // tiktoken returns a piece's own rank when it has one
  std::vector<uint32_t> rank_of;
  size_t line_no = 0, count = 0;
  std::string bytes;
  for (size_t i = 0; i < data.size();) {
    size_t nl = data.find('\n', i);
    if (nl == std::string_view::npos) nl = data.size();
    std::string_view line = data.substr(i, nl - i);
    i = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::string where = "tiktoken line " + std::to_string(line_no);
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return Status::InvalidArgument(where + ": expected \"<base64> <rank>\"");
    auto decoded = Base64Decode(line.substr(0, sp), where + ": token");
    if (!decoded.ok()) return decoded.status();
    bytes = std::move(decoded).value();
    if (bytes.empty()) return Status::InvalidArgument(where + ": token is empty");
    std::string_view rank_text = line.substr(sp + 1);
    if (rank_text.empty() || rank_text.size() > 9 || rank_text.find_first_not_of("0123456789") != std::string_view::npos) {
      return Status::InvalidArgument(where + ": rank \"" + std::string(rank_text) + "\" is not a non-negative integer");
    }
    uint32_t rank = static_cast<uint32_t>(std::stoul(std::string(rank_text)));
    Status s = m.AddToken(bytes, rank);
    if (!s.ok()) return s.WithContext(where);
    if (rank >= rank_of.size()) rank_of.resize(rank + 1, BpeModel::kNone);
    rank_of[rank] = rank;
    ++count;
  }
  if (count == 0) return Status::InvalidArgument("tiktoken file holds no ranks");
  const NamedEncoding* enc = nullptr;
  for (const NamedEncoding& e : Encodings()) {
    if (name == e.name) enc = &e;
  }
  if (enc == nullptr) {
    for (const NamedEncoding& e : Encodings()) {
      if (e.ranks == count && std::string(e.name) != "gpt2") { enc = &e; break; }
    }
  }
  if (enc == nullptr) {
    return Status::InvalidArgument("tiktoken file with " + std::to_string(count) +
                                   " ranks: unknown encoding \"" + name +
                                   "\" (name the file r50k_base, p50k_base, cl100k_base or o200k_base)");
  }
  if (enc->ranks != count) {
    return Status::InvalidArgument(std::string("tiktoken encoding ") + enc->name + " expects " +
                                   std::to_string(enc->ranks) + " ranks, file has " + std::to_string(count));
  }
  m.AddAllSplits(rank_of);
  TT_RETURN_IF_ERROR(m.Finalize());
  TT_ASSIGN_OR_RETURN(auto re, Regex::Compile(enc->pattern));
  TT_RETURN_IF_ERROR(parts.pre_tokenizer.AddSplit(std::move(re), "", PreTokenizer::Behavior::kIsolated, false));
  for (const auto& [text, id] : enc->specials) parts.added.Add({text, id, true});
  parts.decoder.byte_level = true;
  parts.kind = std::string("tiktoken:") + enc->name;
  return std::shared_ptr<const Tokenizer>(std::make_shared<Tokenizer>(std::move(parts)));
}

}  // namespace telltale::tokenize
