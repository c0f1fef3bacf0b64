#include "scan/input/json_field.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstdlib>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "tokenize/utf8.h"

namespace telltale::scan {

namespace {

using json = nlohmann::json;

bool ParseIndex(const std::string& s, uint64_t* index) {
  if (s.empty() || s.size() > 18) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *index = v;
  return true;
}

// Tracks where the parser is relative to the wanted path. Depth d means d
// containers are open; frame i describes container i and whether it lies
// on the path (all components before it matched).
class FieldSax {
 public:
  explicit FieldSax(const std::vector<std::string>& comps) : comps_(comps) {
    indexes_.resize(comps.size());
    has_index_.resize(comps.size());
    for (size_t i = 0; i < comps.size(); ++i) has_index_[i] = ParseIndex(comps[i], &indexes_[i]);
  }

  JsonFieldPath::Result TakeResult() { return std::move(result_); }

  bool null() { Scalar("null"); return true; }
  bool boolean(bool) { Scalar("boolean"); return true; }
  bool number_integer(json::number_integer_t) { Scalar("number"); return true; }
  bool number_unsigned(json::number_unsigned_t) { Scalar("number"); return true; }
  bool number_float(json::number_float_t, const json::string_t&) { Scalar("number"); return true; }
  bool binary(json::binary_t&) { Scalar("binary"); return true; }
  bool string(json::string_t& s) {
    Scalar("string", &s);
    return true;
  }
  bool start_object(std::size_t) { return Open(false); }
  bool start_array(std::size_t) { return Open(true); }
  bool key(json::string_t& k) {
    Frame& f = frames_.back();
    size_t depth = frames_.size();
    f.child_on_path = f.on_path && depth <= comps_.size() && k == comps_[depth - 1];
    return true;
  }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) {
    result_.outcome = JsonFieldPath::Outcome::kParseError;
    std::string what = ex.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 3: ..." -> the part after "]".
    size_t close = what.find("] ");
    if (close != std::string::npos) what = what.substr(close + 2);
    result_.detail = "JSON parse error at byte " + std::to_string(position) + ": " + what;
    return false;
  }

 private:
  struct Frame {
    bool is_array;
    bool on_path;         // this container is reached by comps_[0..depth)
    bool child_on_path;   // the next value (after key / at this index) matches
    uint64_t next_index;  // arrays: index of the next element
  };

  // Whether the value about to be parsed sits on the path, and at which depth.
  bool ValueOnPath(size_t* depth) {
    *depth = frames_.size();
    if (frames_.empty()) return true;  // the root
    Frame& f = frames_.back();
    if (f.is_array) {
      size_t d = frames_.size();
      f.child_on_path = f.on_path && d <= comps_.size() && has_index_[d - 1] && indexes_[d - 1] == f.next_index;
    }
    return f.child_on_path;
  }
  void Advance() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().next_index;
  }
  void Scalar(const char* type, json::string_t* str = nullptr) {
    size_t depth;
    bool on = ValueOnPath(&depth);
    if (on && depth == comps_.size()) {
      if (str != nullptr) {
        result_.outcome = JsonFieldPath::Outcome::kString;
        result_.value = std::move(*str);
        result_.detail.clear();
        Advance();
        return;
      }
      if (std::string_view(type) == "null") {
        result_.outcome = JsonFieldPath::Outcome::kNull;
        result_.detail.clear();
      } else {
        result_.outcome = JsonFieldPath::Outcome::kWrongType;
        result_.detail = type;
      }
      result_.value.clear();
    } else if (on && depth < comps_.size() && result_.outcome == JsonFieldPath::Outcome::kMissing) {
      // The path runs into a scalar before its end ("meta" is a string).
      blocked_ = true;
      blocked_type_ = type;
      blocked_depth_ = depth;
    }
    Advance();
  }
  bool Open(bool is_array) {
    size_t depth;
    bool on = ValueOnPath(&depth);
    if (on && depth == comps_.size()) {
      result_.outcome = JsonFieldPath::Outcome::kWrongType;
      result_.detail = is_array ? "array" : "object";
      result_.value.clear();
      on = false;  // nothing below the target matters
    }
    frames_.push_back({is_array, on, false, 0});
    return true;
  }
  bool Close() {
    frames_.pop_back();
    Advance();
    return true;
  }

 public:
  bool blocked_ = false;
  std::string blocked_type_;
  size_t blocked_depth_ = 0;

 private:
  const std::vector<std::string>& comps_;
  std::vector<uint64_t> indexes_;
  std::vector<bool> has_index_;
  std::vector<Frame> frames_;
  JsonFieldPath::Result result_;
};


// Validating recursive-descent scanner for the fast path. It accepts exactly
// RFC 8259 JSON with well-formed UTF-8 (what nlohmann accepts) and reports
// the same outcome as FieldSax; on anything it rejects it returns false and
// the caller reruns nlohmann for the message.
class JsonScanner {
 public:
  JsonScanner(std::string_view text, const std::vector<std::string>& comps, const std::vector<int64_t>& indexes,
              JsonFieldPath::Result* result)
      : p_(reinterpret_cast<const unsigned char*>(text.data())), e_(p_ + text.size()), comps_(comps),
        indexes_(indexes), r_(result) {}

  bool Run() {
    if (e_ - p_ >= 3 && p_[0] == 0xEF && p_[1] == 0xBB && p_[2] == 0xBF) return false;  // BOM: let nlohmann decide
    SkipWs();
    if (!Value(0, true)) return false;
    SkipWs();
    if (p_ != e_) return false;
    if (r_->outcome == JsonFieldPath::Outcome::kMissing && blocked_) {
      std::string prefix;
      for (size_t i = 0; i < blocked_depth_; ++i) prefix += (i ? "." : "") + comps_[i];
      r_->detail = prefix.empty() ? "the line is a JSON " + blocked_type_ + ", not an object or array"
                                  : "'" + prefix + "' is a " + blocked_type_;
    }
    return true;
  }

 private:
  static constexpr int kMaxDepth = 256;

  void SkipWs() {
    while (p_ != e_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  void Scalar(size_t depth, bool on, const char* type) {
    if (on && depth == comps_.size()) {
      if (std::string_view(type) == "null") {
        r_->outcome = JsonFieldPath::Outcome::kNull;
        r_->detail.clear();
      } else {
        r_->outcome = JsonFieldPath::Outcome::kWrongType;
        r_->detail = type;
      }
      r_->value.clear();
    } else if (on && depth < comps_.size() && r_->outcome == JsonFieldPath::Outcome::kMissing) {
      blocked_ = true;
      blocked_type_ = type;
      blocked_depth_ = depth;
    }
  }

  bool Value(size_t depth, bool on) {
    if (p_ == e_) return false;
    switch (*p_) {
      case '{': return Object(depth, on);
      case '[': return Array(depth, on);
      case '"': {
        bool target = on && depth == comps_.size();
        // The decoded string is at most what is left of the line: one
        // allocation instead of a regrowth at every escape (English JSONL
        // has a few \n or \" per document). At least 1 KiB, so that the
        // buffers a scan recycles (scan/buffer_pool.h) fit most documents.
        if (target) r_->value.reserve(std::max<size_t>(static_cast<size_t>(e_ - p_), 1024));
        if (!String(target ? &r_->value : nullptr)) return false;
        if (target) {
          // A short field early in a long line: give the rest back, so that a
          // document in flight (or kept for the report) holds only its text.
          if (r_->value.capacity() > 2 * r_->value.size() + 4096) r_->value.shrink_to_fit();
          r_->outcome = JsonFieldPath::Outcome::kString;
          r_->detail.clear();
        } else {
          Scalar(depth, on, "string");
        }
        return true;
      }
      case 't': if (!Literal("true")) return false; Scalar(depth, on, "boolean"); return true;
      case 'f': if (!Literal("false")) return false; Scalar(depth, on, "boolean"); return true;
      case 'n': if (!Literal("null")) return false; Scalar(depth, on, "null"); return true;
      default:
        if (!Number()) return false;
        Scalar(depth, on, "number");
        return true;
    }
  }

  bool Literal(std::string_view word) {
    if (static_cast<size_t>(e_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0) return false;
    p_ += word.size();
    return true;
  }

  static bool Digit(unsigned char c) { return c >= '0' && c <= '9'; }

  // nlohmann rejects a number that overflows a double ("1E400", or 400
  // digits); such tokens are checked with strtod.
  bool Number() {
    const unsigned char* start = p_;
    if (!NumberSyntax()) return false;
    size_t len = static_cast<size_t>(p_ - start);
    bool exp = std::memchr(start, 'e', len) != nullptr || std::memchr(start, 'E', len) != nullptr;
    if (exp || len > 15) {
      std::string tok(reinterpret_cast<const char*>(start), len);
      double v = std::strtod(tok.c_str(), nullptr);
      if (!std::isfinite(v)) return false;
    }
    return true;
  }

  bool NumberSyntax() {
    if (p_ != e_ && *p_ == '-') ++p_;
    if (p_ == e_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (Digit(*p_)) {
      while (p_ != e_ && Digit(*p_)) ++p_;
    } else {
      return false;
    }
    if (p_ != e_ && *p_ == '.') {
      ++p_;
      if (p_ == e_ || !Digit(*p_)) return false;
      while (p_ != e_ && Digit(*p_)) ++p_;
    }
    if (p_ != e_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != e_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == e_ || !Digit(*p_)) return false;
      while (p_ != e_ && Digit(*p_)) ++p_;
    }
    return true;
  }

  static int Hex(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
    return -1;
  }
  bool Hex4(uint32_t* v) {
    if (e_ - p_ < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = Hex(p_[i]);
      if (h < 0) return false;
      *v = (*v << 4) | static_cast<uint32_t>(h);
    }
    p_ += 4;
    return true;
  }

  // Length of the well-formed UTF-8 sequence at p_ (Unicode table 3-7), or 0.
  size_t Utf8Length() const {
    size_t avail = static_cast<size_t>(e_ - p_);
    unsigned char b = p_[0];
    auto cont = [&](size_t i, unsigned char lo, unsigned char hi) { return i < avail && p_[i] >= lo && p_[i] <= hi; };
    if (b >= 0xC2 && b <= 0xDF) return cont(1, 0x80, 0xBF) ? 2 : 0;
    if (b == 0xE0) return cont(1, 0xA0, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
    if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
    if (b == 0xED) return cont(1, 0x80, 0x9F) && cont(2, 0x80, 0xBF) ? 3 : 0;
    if (b == 0xF0) return cont(1, 0x90, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
    if (b >= 0xF1 && b <= 0xF3) return cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
    if (b == 0xF4) return cont(1, 0x80, 0x8F) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
    return 0;
  }

  // Validates a string at p_ (opening quote) and decodes it into *out if
  // out is not null.
  bool String(std::string* out) {
    ++p_;
    if (out != nullptr) out->clear();
    const unsigned char* run = p_;
    auto flush = [&] {
      if (out != nullptr) out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p_ - run));
    };
    while (p_ != e_) {
#if defined(__SSE2__)
      // Plain ASCII 16 bytes at a time: documents are long strings, and this
      // runs on the reader thread, which shares the cores with the workers.
      // A signed compare below 0x20 also catches the bytes >= 0x80.
      while (e_ - p_ >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
        const __m128i special = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
            _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
        const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(special));
        if (mask != 0) {
          p_ += __builtin_ctz(mask);
          break;
        }
        p_ += 16;
      }
      if (p_ == e_) break;
#endif
      unsigned char c = *p_;
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        ++p_;
        continue;
      }
      if (c == '"') {
        flush();
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        size_t n = Utf8Length();
        if (n == 0) return false;
        p_ += n;
        continue;
      }
      // Backslash escape.
      flush();
      ++p_;
      if (p_ == e_) return false;
      unsigned char esc = *p_++;
      char plain = 0;
      switch (esc) {
        case '"': plain = '"'; break;
        case '\\': plain = '\\'; break;
        case '/': plain = '/'; break;
        case 'b': plain = '\b'; break;
        case 'f': plain = '\f'; break;
        case 'n': plain = '\n'; break;
        case 'r': plain = '\r'; break;
        case 't': plain = '\t'; break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (e_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!Hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          if (out != nullptr) tokenize::AppendUtf8(static_cast<char32_t>(cp), out);
          run = p_;
          continue;
        }
        default:
          return false;
      }
      if (out != nullptr) out->push_back(plain);
      run = p_;
    }
    return false;
  }

  bool Object(size_t depth, bool on) {
    if (++nesting_ > kMaxDepth) return false;
    if (on && depth == comps_.size()) {
      r_->outcome = JsonFieldPath::Outcome::kWrongType;
      r_->detail = "object";
      r_->value.clear();
      on = false;
    }
    ++p_;
    SkipWs();
    if (p_ != e_ && *p_ == '}') {
      ++p_;
      --nesting_;
      return true;
    }
    for (;;) {
      if (p_ == e_ || *p_ != '"') return false;
      bool want_key = on && depth < comps_.size();
      if (!String(want_key ? &key_ : nullptr)) return false;
      bool child_on = want_key && key_ == comps_[depth];
      SkipWs();
      if (p_ == e_ || *p_ != ':') return false;
      ++p_;
      SkipWs();
      if (!Value(depth + 1, child_on)) return false;
      SkipWs();
      if (p_ == e_) return false;
      if (*p_ == ',') {
        ++p_;
        SkipWs();
        continue;
      }
      if (*p_ != '}') return false;
      ++p_;
      --nesting_;
      return true;
    }
  }

  bool Array(size_t depth, bool on) {
    if (++nesting_ > kMaxDepth) return false;
    if (on && depth == comps_.size()) {
      r_->outcome = JsonFieldPath::Outcome::kWrongType;
      r_->detail = "array";
      r_->value.clear();
      on = false;
    }
    ++p_;
    SkipWs();
    if (p_ != e_ && *p_ == ']') {
      ++p_;
      --nesting_;
      return true;
    }
    int64_t index = 0;
    for (;;) {
      bool child_on = on && depth < comps_.size() && indexes_[depth] == index;
      if (!Value(depth + 1, child_on)) return false;
      ++index;
      SkipWs();
      if (p_ == e_) return false;
      if (*p_ == ',') {
        ++p_;
        SkipWs();
        continue;
      }
      if (*p_ != ']') return false;
      ++p_;
      --nesting_;
      return true;
    }
  }

  const unsigned char* p_;
  const unsigned char* e_;
  const std::vector<std::string>& comps_;
  const std::vector<int64_t>& indexes_;
  JsonFieldPath::Result* r_;
  std::string key_;
  int nesting_ = 0;
  bool blocked_ = false;
  std::string blocked_type_;
  size_t blocked_depth_ = 0;
};

}  // namespace

StatusOr<JsonFieldPath> JsonFieldPath::Parse(std::string_view dotted) {
  if (dotted.empty()) return Status::InvalidArgument("JSON field path is empty");
  JsonFieldPath p;
  p.dotted_ = std::string(dotted);
  size_t start = 0;
  for (;;) {
    size_t dot = dotted.find('.', start);
    std::string_view comp = dotted.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (comp.empty()) {
      return Status::InvalidArgument("JSON field path '" + p.dotted_ + "': empty component");
    }
    p.components_.emplace_back(comp);
    uint64_t index = 0;
    p.indexes_.push_back(ParseIndex(p.components_.back(), &index) ? static_cast<int64_t>(index) : -1);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return p;
}

JsonFieldPath::Result JsonFieldPath::Extract(std::string_view text) const {
  Result r;
  ExtractInto(text, &r);
  return r;
}

void JsonFieldPath::ExtractInto(std::string_view text, Result* out) const {
  out->outcome = Outcome::kMissing;
  out->value.clear();
  out->detail.clear();
  JsonScanner scanner(text, components_, indexes_, out);
  if (!scanner.Run()) *out = ExtractReference(text);
}

JsonFieldPath::Result JsonFieldPath::ExtractReference(std::string_view text) const {
  FieldSax sax(components_);
  const char* b = text.data();
  const char* e = text.data() + text.size();
  json::sax_parse(b, e, &sax, nlohmann::detail::input_format_t::json, /*strict=*/true);
  Result r = sax.TakeResult();
  if (r.outcome == Outcome::kMissing && sax.blocked_) {
    std::string prefix;
    for (size_t i = 0; i < sax.blocked_depth_; ++i) prefix += (i ? "." : "") + components_[i];
    r.detail = prefix.empty() ? "the line is a JSON " + sax.blocked_type_ + ", not an object or array"
                              : "'" + prefix + "' is a " + sax.blocked_type_;
  }
  return r;
}

}  // namespace telltale::scan
