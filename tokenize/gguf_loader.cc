// Tokenizer::FromGguf: reads the vocabulary of a llama.cpp GGUF file
// (tokenizer.ggml.* keys; tensors are ignored).
//
// tokenizer.ggml.model "gpt2": byte-level BPE with merges; the pre-tokenizer
// is chosen by tokenizer.ggml.pre (the split patterns of the original
// tokenizer.json, which the llama.cpp test vectors were generated from).
// tokenizer.ggml.model "llama": SentencePiece BPE driven by scores (highest
// score merges first, leftmost on ties), spaces escaped to U+2581, a space
// prefix (tokenizer.ggml.add_space_prefix, default true) and <0xXX> byte
// fallback. Control tokens are special added tokens; user-defined tokens are
// always matched, as in llama.cpp.
#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

#include "tokenize/known_patterns.h"
#include "tokenize/tokenizer.h"
#include "tokenize/utf8.h"

namespace telltale::tokenize {

namespace {

enum GgufType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kString = 8, kArray = 9,
  kU64 = 10, kI64 = 11, kF64 = 12,
};

struct Value {
  uint32_t type = 0;
  std::string str;
  double num = 0;
  uint32_t elem_type = 0;
  std::vector<std::string> strs;
  std::vector<double> nums;
};

class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  Status Need(size_t n, const std::string& what) {
    if (d_.size() - p_ < n) return Status::DataLoss("GGUF: truncated while reading " + what + " at byte " + std::to_string(p_));
    return Status::Ok();
  }
  template <typename T>
  StatusOr<T> Get(const std::string& what) {
    TT_RETURN_IF_ERROR(Need(sizeof(T), what));
    T v;
    std::memcpy(&v, d_.data() + p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  StatusOr<std::string> Str(const std::string& what) {
    TT_ASSIGN_OR_RETURN(uint64_t n, Get<uint64_t>(what));
    if (n > d_.size() - p_) return Status::DataLoss("GGUF: " + what + ": string length " + std::to_string(n) + " exceeds the file");
    std::string s(d_.substr(p_, n));
    p_ += n;
    return s;
  }
  StatusOr<double> Scalar(uint32_t type, const std::string& what) {
    switch (type) {
      case kU8: { TT_ASSIGN_OR_RETURN(uint8_t v, Get<uint8_t>(what)); return double(v); }
      case kI8: { TT_ASSIGN_OR_RETURN(int8_t v, Get<int8_t>(what)); return double(v); }
      case kU16: { TT_ASSIGN_OR_RETURN(uint16_t v, Get<uint16_t>(what)); return double(v); }
      case kI16: { TT_ASSIGN_OR_RETURN(int16_t v, Get<int16_t>(what)); return double(v); }
      case kU32: { TT_ASSIGN_OR_RETURN(uint32_t v, Get<uint32_t>(what)); return double(v); }
      case kI32: { TT_ASSIGN_OR_RETURN(int32_t v, Get<int32_t>(what)); return double(v); }
      case kF32: { TT_ASSIGN_OR_RETURN(float v, Get<float>(what)); return double(v); }
      case kBool: { TT_ASSIGN_OR_RETURN(uint8_t v, Get<uint8_t>(what)); return double(v != 0); }
      case kU64: { TT_ASSIGN_OR_RETURN(uint64_t v, Get<uint64_t>(what)); return double(v); }
      case kI64: { TT_ASSIGN_OR_RETURN(int64_t v, Get<int64_t>(what)); return double(v); }
      case kF64: { TT_ASSIGN_OR_RETURN(double v, Get<double>(what)); return v; }
      default: return Status::DataLoss("GGUF: " + what + ": unknown value type " + std::to_string(type));
    }
  }
  StatusOr<Value> Read(const std::string& what) {
    Value v;
    TT_ASSIGN_OR_RETURN(v.type, Get<uint32_t>(what));
    if (v.type == kString) {
      TT_ASSIGN_OR_RETURN(v.str, Str(what));
    } else if (v.type == kArray) {
      TT_ASSIGN_OR_RETURN(v.elem_type, Get<uint32_t>(what));
      TT_ASSIGN_OR_RETURN(uint64_t n, Get<uint64_t>(what));
      if (n > d_.size() - p_) return Status::DataLoss("GGUF: " + what + ": array length exceeds the file");
      for (uint64_t i = 0; i < n; ++i) {
        if (v.elem_type == kString) {
          TT_ASSIGN_OR_RETURN(std::string s, Str(what));
          v.strs.push_back(std::move(s));
        } else if (v.elem_type == kArray) {
          return Status::Unimplemented("GGUF: " + what + ": nested arrays");
        } else {
          TT_ASSIGN_OR_RETURN(double x, Scalar(v.elem_type, what));
          v.nums.push_back(x);
        }
      }
    } else {
      TT_ASSIGN_OR_RETURN(v.num, Scalar(v.type, what));
    }
    return v;
  }

 private:
  std::string_view d_;
  size_t p_ = 0;
};

// Split patterns (applied in order, Isolated) for tokenizer.ggml.pre.
bool PrePatterns(const std::string& pre, std::vector<std::string>* out) {
  if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3" || pre == "dbrx" || pre == "smaug-bpe") {
    *out = {kLlama3Pattern};
  } else if (pre == "qwen2" || pre == "stablelm2") {
    *out = {kQwen2Pattern};
  } else if (pre == "qwen35") {
    *out = {kQwen35Pattern};
  } else if (pre == "gpt-2" || pre == "mpt" || pre == "olmo" || pre == "default") {
    *out = {kGpt2Pattern};
  } else if (pre == "starcoder" || pre == "refact" || pre == "command-r" || pre == "smollm") {
    *out = {"\\p{N}", kGpt2Pattern};
  } else if (pre == "deepseek-v3") {
    *out = {kDigits3Pattern, kDeepSeekCjkPattern, kDeepSeek3Pattern};
  } else {
    return false;
  }
  return true;
}

StatusOr<std::shared_ptr<const Tokenizer>> Build(const std::map<std::string, Value>& kv) {
  auto get = [&](const std::string& k) -> const Value* {
    auto it = kv.find(k);
    return it == kv.end() ? nullptr : &it->second;
  };
  const Value* model = get("tokenizer.ggml.model");
  if (!model || model->type != kString) return Status::InvalidArgument("GGUF: tokenizer.ggml.model: missing or not a string");
  const Value* tokens = get("tokenizer.ggml.tokens");
  if (!tokens || tokens->type != kArray || tokens->elem_type != kString || tokens->strs.empty()) {
    return Status::InvalidArgument("GGUF: tokenizer.ggml.tokens: missing or not an array of strings");
  }
  const size_t n = tokens->strs.size();
  const Value* types = get("tokenizer.ggml.token_type");
  if (types && (types->type != kArray || types->nums.size() != n)) {
    return Status::InvalidArgument("GGUF: tokenizer.ggml.token_type: not an array of " + std::to_string(n) + " numbers");
  }
  auto type_of = [&](size_t i) { return types ? static_cast<int>(types->nums[i]) : 1; };

  Tokenizer::Parts parts;
  BpeModel& m = parts.model;
  if (model->str == "gpt2") {
    const Value* pre = get("tokenizer.ggml.pre");
    std::string pre_name = pre && pre->type == kString ? pre->str : "default";
    std::vector<std::string> patterns;
    if (!PrePatterns(pre_name, &patterns)) {
      return Status::Unimplemented("GGUF: tokenizer.ggml.pre: pre-tokenizer \"" + pre_name + "\" is not supported");
    }
    for (const std::string& p : patterns) {
      TT_ASSIGN_OR_RETURN(auto re, Regex::Compile(p));
      TT_RETURN_IF_ERROR(parts.pre_tokenizer.AddSplit(std::move(re), "", PreTokenizer::Behavior::kIsolated, false));
    }
    // Byte-level alphabet (GPT-2 bytes_to_unicode).
    char32_t forward[256];
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      forward[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + extra++);
    }
    std::map<char32_t, int> back;
    for (int b = 0; b < 256; ++b) back[forward[b]] = b;
    m.set_byte_level(true);
    std::unordered_map<std::string, uint32_t> raw;
    for (size_t i = 0; i < n; ++i) {
      const std::string& s = tokens->strs[i];
      int t = type_of(i);
      raw.emplace(s, static_cast<uint32_t>(i));
      if (t == 3 || t == 4) {
        parts.added.Add({s, static_cast<uint32_t>(i), t == 3});
        continue;
      }
      std::string bytes;
      bool ok = ValidUtf8Prefix(s) == s.size();
      for (size_t k = 0; ok && k < s.size();) {
        size_t len;
        char32_t c = DecodeUtf8(s.data() + k, &len);
        k += len;
        auto it = back.find(c);
        if (it == back.end()) ok = false;
        else bytes.push_back(static_cast<char>(it->second));
      }
      // Tokens outside the byte-level alphabet can never come out of BPE;
      // keep them for decoding only.
      Status st = ok ? m.AddToken(std::move(bytes), static_cast<uint32_t>(i)) : m.AddToken(s, static_cast<uint32_t>(i), false);
      if (!st.ok()) return st.WithContext("GGUF: tokenizer.ggml.tokens[" + std::to_string(i) + "]");
    }
    const Value* merges = get("tokenizer.ggml.merges");
    if (!merges || merges->type != kArray || merges->elem_type != kString) {
      return Status::InvalidArgument("GGUF: tokenizer.ggml.merges: missing or not an array of strings");
    }
    for (size_t r = 0; r < merges->strs.size(); ++r) {
      const std::string& line = merges->strs[r];
      const std::string field = "GGUF: tokenizer.ggml.merges[" + std::to_string(r) + "]";
      size_t sp = line.find(' ', 1);
      if (sp == std::string::npos) return Status::InvalidArgument(field + ": \"" + line + "\" has no space");
      auto a = raw.find(line.substr(0, sp)), b = raw.find(line.substr(sp + 1));
      if (a == raw.end() || b == raw.end()) return Status::InvalidArgument(field + ": \"" + line + "\" names an unknown token");
      Status st = m.AddMerge(a->second, b->second, static_cast<uint32_t>(r));
      if (!st.ok()) return Status::InvalidArgument(field + ": " + st.message());
    }
    // llama.cpp (like tokenizer.json's ignore_merges) takes a whole piece
    // that is itself a token for the Llama 3 pre-tokenizer.
    m.set_ignore_merges(pre_name == "llama-bpe" || pre_name == "llama3" || pre_name == "llama-v3");
    parts.decoder.byte_level = true;
    parts.kind = "gguf:gpt2:" + pre_name;
  } else if (model->str == "llama") {
    const Value* scores = get("tokenizer.ggml.scores");
    if (!scores || scores->type != kArray || scores->nums.size() != n) {
      return Status::InvalidArgument("GGUF: tokenizer.ggml.scores: missing or not an array of " + std::to_string(n) + " numbers");
    }
    const Value* prefix = get("tokenizer.ggml.add_space_prefix");
    bool add_prefix = !prefix || prefix->num != 0;
    const std::string meta = "\xE2\x96\x81";
    TT_RETURN_IF_ERROR(parts.normalizer.AddStep({Normalizer::Kind::kReplace, " ", meta}));
    if (add_prefix) TT_RETURN_IF_ERROR(parts.normalizer.AddStep({Normalizer::Kind::kPrepend, "", meta}));
    m.set_byte_fallback(true);
    for (size_t i = 0; i < n; ++i) {
      int t = type_of(i);
      if (t == 3 || t == 4) parts.added.Add({tokens->strs[i], static_cast<uint32_t>(i), t == 3});
      if (t == 2) m.set_unk(static_cast<uint32_t>(i), false);
      Status st = m.AddToken(tokens->strs[i], static_cast<uint32_t>(i));
      if (!st.ok()) return st.WithContext("GGUF: tokenizer.ggml.tokens[" + std::to_string(i) + "]");
    }
    // Rank = position in descending score order; equal scores share a rank
    // so that ties go to the leftmost pair, as in llama.cpp.
    std::vector<uint32_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return scores->nums[a] > scores->nums[b]; });
    std::vector<uint32_t> rank_of(n);
    uint32_t rank = 0;
    for (size_t k = 0; k < n; ++k) {
      if (k > 0 && scores->nums[order[k]] != scores->nums[order[k - 1]]) rank = static_cast<uint32_t>(k);
      rank_of[order[k]] = rank;
    }
    m.AddAllSplits(rank_of);
    parts.decoder.metaspace = meta;
    parts.decoder.strip_leading_spaces = add_prefix ? 1 : 0;
    parts.kind = "gguf:llama";
  } else {
    return Status::Unimplemented("GGUF: tokenizer.ggml.model: \"" + model->str + "\" is not supported (gpt2, llama are)");
  }
  TT_RETURN_IF_ERROR(m.Finalize());
  return std::shared_ptr<const Tokenizer>(std::make_shared<Tokenizer>(std::move(parts)));
}

}  // namespace

StatusOr<std::shared_ptr<const Tokenizer>> Tokenizer::FromGguf(std::string_view data) {
  Reader r(data);
  TT_ASSIGN_OR_RETURN(uint32_t magic, r.Get<uint32_t>("magic"));
  if (magic != 0x46554747u) return Status::InvalidArgument("GGUF: bad magic");
  TT_ASSIGN_OR_RETURN(uint32_t version, r.Get<uint32_t>("version"));
  if (version < 2 || version > 3) return Status::Unimplemented("GGUF: version " + std::to_string(version) + " (2 and 3 are supported)");
  TT_ASSIGN_OR_RETURN(uint64_t tensors, r.Get<uint64_t>("tensor count"));
  (void)tensors;
  TT_ASSIGN_OR_RETURN(uint64_t count, r.Get<uint64_t>("key/value count"));
  std::map<std::string, Value> kv;
  for (uint64_t i = 0; i < count; ++i) {
    TT_ASSIGN_OR_RETURN(std::string key, r.Str("key " + std::to_string(i)));
    TT_ASSIGN_OR_RETURN(Value v, r.Read(key));
    kv.emplace(std::move(key), std::move(v));
  }
  return Build(kv);
}

}  // namespace telltale::tokenize
