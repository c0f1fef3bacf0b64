#include "tokenize/regex.h"

#include <unicode/uchar.h>

#include <climits>
#include <cctype>
#include <cstring>

#include "tokenize/utf8.h"

namespace telltale::tokenize {

namespace {

constexpr uint32_t kInf = UINT32_MAX;

struct Node {
  enum Kind { kClass, kConcat, kAlt, kRepeat, kLook, kNegLook, kBegin, kEnd } kind;
  uint32_t cls = 0;
  uint32_t min = 1, max = 1;
  bool possessive = false;
  std::vector<std::unique_ptr<Node>> kids;
  explicit Node(Kind k) : kind(k) {}
};

struct FirstSet {
  uint64_t bits[2] = {0, 0};
  bool non_ascii = false;
  bool nullable = false;
};

// Maps \p{...} names to ICU general-category masks.
bool CategoryMask(std::string_view name, uint32_t* mask) {
  struct Entry { const char* name; uint32_t mask; };
  static const Entry kEntries[] = {
      {"L", U_GC_L_MASK}, {"Letter", U_GC_L_MASK}, {"Lu", U_GC_LU_MASK}, {"Uppercase_Letter", U_GC_LU_MASK},
      {"Ll", U_GC_LL_MASK}, {"Lowercase_Letter", U_GC_LL_MASK}, {"Lt", U_GC_LT_MASK},
      {"Titlecase_Letter", U_GC_LT_MASK}, {"Lm", U_GC_LM_MASK}, {"Modifier_Letter", U_GC_LM_MASK},
      {"Lo", U_GC_LO_MASK}, {"Other_Letter", U_GC_LO_MASK}, {"M", U_GC_M_MASK}, {"Mark", U_GC_M_MASK},
      {"Mn", U_GC_MN_MASK}, {"Mc", U_GC_MC_MASK}, {"Me", U_GC_ME_MASK}, {"N", U_GC_N_MASK},
      {"Number", U_GC_N_MASK}, {"Nd", U_GC_ND_MASK}, {"Decimal_Number", U_GC_ND_MASK}, {"Nl", U_GC_NL_MASK},
      {"No", U_GC_NO_MASK}, {"P", U_GC_P_MASK}, {"Punctuation", U_GC_P_MASK}, {"Pc", U_GC_PC_MASK},
      {"Pd", U_GC_PD_MASK}, {"Ps", U_GC_PS_MASK}, {"Pe", U_GC_PE_MASK}, {"Pi", U_GC_PI_MASK},
      {"Pf", U_GC_PF_MASK}, {"Po", U_GC_PO_MASK}, {"S", U_GC_S_MASK}, {"Symbol", U_GC_S_MASK},
      {"Sm", U_GC_SM_MASK}, {"Sc", U_GC_SC_MASK}, {"Sk", U_GC_SK_MASK}, {"So", U_GC_SO_MASK},
      {"Z", U_GC_Z_MASK}, {"Separator", U_GC_Z_MASK}, {"Zs", U_GC_ZS_MASK}, {"Zl", U_GC_ZL_MASK},
      {"Zp", U_GC_ZP_MASK}, {"C", U_GC_C_MASK}, {"Other", U_GC_C_MASK}, {"Cc", U_GC_CC_MASK},
      {"Cf", U_GC_CF_MASK}, {"Co", U_GC_CO_MASK}, {"Cn", U_GC_CN_MASK}, {"Cs", U_GC_CS_MASK},
  };
  for (const Entry& e : kEntries) {
    if (name == e.name) { *mask = e.mask; return true; }
  }
  return false;
}

}  // namespace

class RegexCompiler {
 public:
  explicit RegexCompiler(std::string_view pattern) : p_(pattern) {}

  StatusOr<std::shared_ptr<const Regex>> Compile() {
    auto re = std::make_shared<Regex>();
    re_ = re.get();
    re_->pattern_ = std::string(p_);
    re_->known_ = RecognizePattern(p_);
    std::unique_ptr<Node> root;
    TT_ASSIGN_OR_RETURN(root, ParseAlt());
    if (i_ != p_.size()) return Error("unbalanced ')'");
    for (CharClass& c : re_->classes_) c.Build();
    std::vector<const Node*> alts;
    if (root->kind == Node::kAlt) {
      for (auto& k : root->kids) alts.push_back(k.get());
    } else {
      alts.push_back(root.get());
    }
    for (const Node* a : alts) {
      Regex::Alternative alt{};
      alt.start = static_cast<uint32_t>(re_->code_.size());
      TT_RETURN_IF_ERROR(Emit(*a));
      Push({Regex::Op::kMatch});
      FirstSet f = First(*a);
      if (f.nullable) {
        alt.first_ascii[0] = alt.first_ascii[1] = ~uint64_t{0};
        alt.first_non_ascii = true;
      } else {
        alt.first_ascii[0] = f.bits[0];
        alt.first_ascii[1] = f.bits[1];
        alt.first_non_ascii = f.non_ascii;
      }
      re_->alts_.push_back(alt);
    }
    re_->start_ascii_[0] = re_->start_ascii_[1] = 0;
    for (const Regex::Alternative& a : re_->alts_) {
      re_->start_ascii_[0] |= a.first_ascii[0];
      re_->start_ascii_[1] |= a.first_ascii[1];
    }
    // Sub-programs of lookaheads and atomic groups go after the main code.
    while (!deferred_.empty()) {
      auto [at, node] = deferred_.back();
      deferred_.pop_back();
      re_->code_[at].x = static_cast<uint32_t>(re_->code_.size());
      TT_RETURN_IF_ERROR(Emit(*node));
      Push({Regex::Op::kMatch});
    }
    return std::shared_ptr<const Regex>(std::move(re));
  }

 private:
  Status Error(const std::string& why) const {
    return Status::InvalidArgument("pattern \"" + std::string(p_) + "\" at offset " + std::to_string(i_) + ": " + why);
  }
  bool AtEnd() const { return i_ >= p_.size(); }
  char Peek() const { return p_[i_]; }

  uint32_t AddClass(CharClass c) {
    re_->classes_.push_back(std::move(c));
    return static_cast<uint32_t>(re_->classes_.size() - 1);
  }
  std::unique_ptr<Node> ClassNode(CharClass c) {
    auto n = std::make_unique<Node>(Node::kClass);
    n->cls = AddClass(std::move(c));
    return n;
  }
  CharClass LiteralClass(char32_t c) const {
    CharClass cc;
    CharClass::Item it{};
    if (ci_ && (u_foldCase(static_cast<UChar32>(c), U_FOLD_CASE_DEFAULT) != static_cast<UChar32>(c) ||
                u_toupper(static_cast<UChar32>(c)) != static_cast<UChar32>(c))) {
      it.kind = CharClass::ItemKind::kFold;
    } else {
      it.kind = CharClass::ItemKind::kRange;
      it.hi = c;
    }
    it.lo = c;
    cc.Add(it);
    return cc;
  }

  StatusOr<char32_t> ReadLiteralChar() {
    size_t len;
    if (static_cast<unsigned char>(p_[i_]) >= 0x80 && ValidUtf8Prefix(p_.substr(i_, 4)) == 0) {
      return Error("pattern is not valid UTF-8");
    }
    char32_t c = DecodeUtf8(p_.data() + i_, &len);
    if (i_ + len > p_.size()) return Error("truncated UTF-8 in pattern");
    i_ += len;
    return c;
  }

  // Parses an escape after '\'. Either fills `cls` (for class escapes) and
  // returns true, or stores a literal code point in `lit`.
  Status ParseEscape(CharClass* cls, bool* is_class, char32_t* lit) {
    if (AtEnd()) return Error("trailing backslash");
    char e = p_[i_++];
    *is_class = true;
    CharClass::Item it{};
    switch (e) {
      case 'p': case 'P': {
        std::string name;
        if (!AtEnd() && Peek() == '{') {
          size_t close = p_.find('}', i_);
          if (close == std::string_view::npos) return Error("unterminated \\p{");
          name = std::string(p_.substr(i_ + 1, close - i_ - 1));
          i_ = close + 1;
        } else if (!AtEnd()) {
          name = std::string(1, p_[i_++]);
        }
        bool neg = e == 'P';
        if (!name.empty() && name[0] == '^') { neg = !neg; name.erase(0, 1); }
        uint32_t mask;
        if (!CategoryMask(name, &mask)) return Error("unsupported property \\p{" + name + "}");
        it.kind = CharClass::ItemKind::kCategories;
        it.mask = mask;
        it.negated = neg;
        cls->Add(it);
        return Status::Ok();
      }
      case 's': case 'S':
        it.kind = CharClass::ItemKind::kWhiteSpace; it.negated = e == 'S'; cls->Add(it); return Status::Ok();
      case 'd': case 'D':
        it.kind = CharClass::ItemKind::kCategories; it.mask = U_GC_ND_MASK; it.negated = e == 'D';
        cls->Add(it); return Status::Ok();
      case 'w': case 'W':
        it.kind = CharClass::ItemKind::kWord; it.negated = e == 'W'; cls->Add(it); return Status::Ok();
      default: break;
    }
    *is_class = false;
    switch (e) {
      case 'r': *lit = '\r'; return Status::Ok();
      case 'n': *lit = '\n'; return Status::Ok();
      case 't': *lit = '\t'; return Status::Ok();
      case 'f': *lit = '\f'; return Status::Ok();
      case 'v': *lit = '\v'; return Status::Ok();
      case '0': *lit = 0; return Status::Ok();
      case 'x': {
        std::string hex;
        if (!AtEnd() && Peek() == '{') {
          size_t close = p_.find('}', i_);
          if (close == std::string_view::npos) return Error("unterminated \\x{");
          hex = std::string(p_.substr(i_ + 1, close - i_ - 1));
          i_ = close + 1;
        } else {
          hex = std::string(p_.substr(i_, 2));
          i_ += 2;
        }
        char* endp = nullptr;
        unsigned long v = std::strtoul(hex.c_str(), &endp, 16);
        if (hex.empty() || *endp != 0 || v > 0x10FFFF) return Error("bad \\x escape");
        *lit = static_cast<char32_t>(v);
        return Status::Ok();
      }
      default:
        if (std::isalnum(static_cast<unsigned char>(e))) return Error(std::string("unsupported escape \\") + e);
        --i_;
        TT_ASSIGN_OR_RETURN(*lit, ReadLiteralChar());
        return Status::Ok();
    }
  }

  StatusOr<std::unique_ptr<Node>> ParseBracket() {
    CharClass cc;
    if (!AtEnd() && Peek() == '^') { cc.SetNegated(true); ++i_; }
    bool first = true;
    for (;;) {
      if (AtEnd()) return Error("unterminated character class");
      if (Peek() == ']' && !first) { ++i_; break; }
      if (Peek() == '[') return Error("nested character classes are not supported");
      first = false;
      char32_t lo;
      if (Peek() == '\\') {
        ++i_;
        bool is_class;
        TT_RETURN_IF_ERROR(ParseEscape(&cc, &is_class, &lo));
        if (is_class) continue;
      } else {
        TT_ASSIGN_OR_RETURN(lo, ReadLiteralChar());
      }
      char32_t hi = lo;
      if (i_ + 1 < p_.size() && Peek() == '-' && p_[i_ + 1] != ']') {
        ++i_;
        if (Peek() == '\\') {
          ++i_;
          bool is_class;
          CharClass dummy;
          TT_RETURN_IF_ERROR(ParseEscape(&dummy, &is_class, &hi));
          if (is_class) return Error("class escape used as a range bound");
        } else {
          TT_ASSIGN_OR_RETURN(hi, ReadLiteralChar());
        }
        if (hi < lo) return Error("reversed range in character class");
      }
      if (lo == hi) {
        cc.Merge(LiteralClass(lo));
      } else {
        CharClass::Item it{};
        it.kind = CharClass::ItemKind::kRange;
        it.lo = lo;
        it.hi = hi;
        cc.Add(it);
        if (ci_) cc.SetCaseInsensitive(true);
      }
    }
    return ClassNode(std::move(cc));
  }

  StatusOr<std::unique_ptr<Node>> ParseAtom() {
    char c = Peek();
    if (c == '(') {
      ++i_;
      Node::Kind look = Node::kConcat;
      bool saved_ci = ci_;
      if (p_.substr(i_, 2) == "?:") {
        i_ += 2;
      } else if (p_.substr(i_, 3) == "?i:") {
        i_ += 3;
        ci_ = true;
      } else if (p_.substr(i_, 3) == "?i)") {
        i_ += 3;
        ci_ = true;  // applies to the rest of the enclosing group
        return std::make_unique<Node>(Node::kConcat);
      } else if (p_.substr(i_, 2) == "?=") {
        i_ += 2;
        look = Node::kLook;
      } else if (p_.substr(i_, 2) == "?!") {
        i_ += 2;
        look = Node::kNegLook;
      } else if (!AtEnd() && Peek() == '?') {
        return Error("unsupported group syntax (lookbehind, named or flag groups)");
      }
      std::unique_ptr<Node> inner;
      TT_ASSIGN_OR_RETURN(inner, ParseAlt());
      ci_ = saved_ci;
      if (AtEnd() || Peek() != ')') return Error("missing ')'");
      ++i_;
      if (look == Node::kConcat) return inner;
      auto n = std::make_unique<Node>(look);
      n->kids.push_back(std::move(inner));
      return n;
    }
    if (c == '[') {
      ++i_;
      return ParseBracket();
    }
    if (c == '.') {
      ++i_;
      CharClass cc;
      CharClass::Item it{};
      it.kind = CharClass::ItemKind::kRange;
      it.lo = it.hi = '\n';
      cc.Add(it);
      cc.SetNegated(true);
      return ClassNode(std::move(cc));
    }
    if (c == '^' || c == '$') {
      ++i_;
      return std::make_unique<Node>(c == '^' ? Node::kBegin : Node::kEnd);
    }
    if (c == '\\') {
      ++i_;
      CharClass cc;
      bool is_class;
      char32_t lit;
      TT_RETURN_IF_ERROR(ParseEscape(&cc, &is_class, &lit));
      if (is_class) return ClassNode(std::move(cc));
      return ClassNode(LiteralClass(lit));
    }
    if (c == '*' || c == '+' || c == '?' || c == '{') return Error("quantifier without a target");
    char32_t lit;
    TT_ASSIGN_OR_RETURN(lit, ReadLiteralChar());
    return ClassNode(LiteralClass(lit));
  }

  StatusOr<bool> ParseQuantifier(uint32_t* min, uint32_t* max) {
    if (AtEnd()) return false;
    char c = Peek();
    if (c == '?') { *min = 0; *max = 1; }
    else if (c == '*') { *min = 0; *max = kInf; }
    else if (c == '+') { *min = 1; *max = kInf; }
    else if (c == '{') {
      size_t close = p_.find('}', i_);
      if (close == std::string_view::npos) return Error("unterminated {m,n}");
      std::string body(p_.substr(i_ + 1, close - i_ - 1));
      size_t comma = body.find(',');
      auto num = [](const std::string& s, uint32_t* v) {
        if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos) return false;
        *v = static_cast<uint32_t>(std::stoul(s));
        return true;
      };
      if (comma == std::string::npos) {
        if (!num(body, min)) return Error("bad {m}");
        *max = *min;
      } else {
        if (!num(body.substr(0, comma), min)) return Error("bad {m,n}");
        std::string rest = body.substr(comma + 1);
        if (rest.empty()) *max = kInf;
        else if (!num(rest, max) || *max < *min) return Error("bad {m,n}");
      }
      i_ = close;
    } else {
      return false;
    }
    ++i_;
    return true;
  }

  StatusOr<std::unique_ptr<Node>> ParseConcat() {
    auto seq = std::make_unique<Node>(Node::kConcat);
    while (!AtEnd() && Peek() != '|' && Peek() != ')') {
      std::unique_ptr<Node> atom;
      TT_ASSIGN_OR_RETURN(atom, ParseAtom());
      uint32_t min, max;
      bool q;
      TT_ASSIGN_OR_RETURN(q, ParseQuantifier(&min, &max));
      if (q) {
        auto rep = std::make_unique<Node>(Node::kRepeat);
        rep->min = min;
        rep->max = max;
        if (!AtEnd() && Peek() == '?') return Error("lazy quantifiers are not supported");
        if (!AtEnd() && Peek() == '+') { rep->possessive = true; ++i_; }
        if (atom->kind == Node::kLook || atom->kind == Node::kNegLook || atom->kind == Node::kBegin ||
            atom->kind == Node::kEnd) {
          return Error("quantified assertion");
        }
        rep->kids.push_back(std::move(atom));
        atom = std::move(rep);
        uint32_t m2, x2;
        bool q2;
        TT_ASSIGN_OR_RETURN(q2, ParseQuantifier(&m2, &x2));
        if (q2) return Error("nested quantifier");
      }
      seq->kids.push_back(std::move(atom));
    }
    if (seq->kids.size() == 1) return std::move(seq->kids[0]);
    return seq;
  }

  StatusOr<std::unique_ptr<Node>> ParseAlt() {
    std::unique_ptr<Node> first;
    TT_ASSIGN_OR_RETURN(first, ParseConcat());
    if (AtEnd() || Peek() != '|') return first;
    auto alt = std::make_unique<Node>(Node::kAlt);
    alt->kids.push_back(std::move(first));
    while (!AtEnd() && Peek() == '|') {
      ++i_;
      std::unique_ptr<Node> next;
      TT_ASSIGN_OR_RETURN(next, ParseConcat());
      alt->kids.push_back(std::move(next));
    }
    return alt;
  }

  size_t Push(Regex::Inst in) {
    re_->code_.push_back(in);
    return re_->code_.size() - 1;
  }
  uint32_t Here() const { return static_cast<uint32_t>(re_->code_.size()); }

  bool Nullable(const Node& n) const { return First(n).nullable; }

  void SetSplitFilter(size_t split, const Node& x) {
    FirstSet f = First(x);
    Regex::Inst& in = re_->code_[split];
    in.x_nullable = f.nullable;
    if (!f.nullable) {
      in.first_x[0] = f.bits[0];
      in.first_x[1] = f.bits[1];
      in.first_x_non_ascii = f.non_ascii;
    }
  }

  Status Emit(const Node& n) {
    using Op = Regex::Op;
    switch (n.kind) {
      case Node::kClass: {
        Regex::Inst in{Op::kClass};
        in.cls = n.cls;
        Push(in);
        return Status::Ok();
      }
      case Node::kConcat:
        for (const auto& k : n.kids) TT_RETURN_IF_ERROR(Emit(*k));
        return Status::Ok();
      case Node::kAlt: {
        std::vector<size_t> jumps;
        for (size_t i = 0; i < n.kids.size(); ++i) {
          if (i + 1 < n.kids.size()) {
            size_t split = Push({Op::kSplit});
            SetSplitFilter(split, *n.kids[i]);
            re_->code_[split].x = Here();
            TT_RETURN_IF_ERROR(Emit(*n.kids[i]));
            jumps.push_back(Push({Op::kJmp}));
            re_->code_[split].y = Here();
          } else {
            TT_RETURN_IF_ERROR(Emit(*n.kids[i]));
          }
        }
        for (size_t j : jumps) re_->code_[j].x = Here();
        return Status::Ok();
      }
      case Node::kRepeat: {
        const Node& kid = *n.kids[0];
        if (kid.kind == Node::kClass) {
          Regex::Inst in{Op::kClass};
          in.cls = kid.cls;
          in.min = n.min;
          in.max = n.max;
          in.possessive = n.possessive;
          Push(in);
          return Status::Ok();
        }
        if (n.possessive) {
          // X{m,n}+ == (?>X{m,n}): run greedily once, never backtrack into it.
          auto* copy = new Node(Node::kRepeat);
          owned_.emplace_back(copy);
          copy->min = n.min;
          copy->max = n.max;
          copy->kids.push_back(Clone(kid));
          size_t at = Push({Op::kAtomic});
          deferred_.push_back({at, copy});
          return Status::Ok();
        }
        if (n.max == kInf && Nullable(kid)) return Error("unbounded repetition of an empty-matching group");
        if (n.min > 64 || (n.max != kInf && n.max > 64)) return Error("repetition count too large");
        for (uint32_t i = 0; i < n.min; ++i) TT_RETURN_IF_ERROR(Emit(kid));
        if (n.max == kInf) {
          uint32_t loop = Here();
          size_t split = Push({Op::kSplit});
          SetSplitFilter(split, kid);
          re_->code_[split].x = Here();
          TT_RETURN_IF_ERROR(Emit(kid));
          size_t j = Push({Op::kJmp});
          re_->code_[j].x = loop;
          re_->code_[split].y = Here();
        } else {
          std::vector<size_t> splits;
          for (uint32_t i = n.min; i < n.max; ++i) {
            size_t split = Push({Op::kSplit});
            SetSplitFilter(split, kid);
            re_->code_[split].x = Here();
            splits.push_back(split);
            TT_RETURN_IF_ERROR(Emit(kid));
          }
          for (size_t s : splits) re_->code_[s].y = Here();
        }
        return Status::Ok();
      }
      case Node::kLook:
      case Node::kNegLook: {
        size_t at = Push({n.kind == Node::kLook ? Op::kLook : Op::kNegLook});
        deferred_.push_back({at, n.kids[0].get()});
        return Status::Ok();
      }
      case Node::kBegin:
        Push({Op::kBegin});
        return Status::Ok();
      case Node::kEnd:
        Push({Op::kEnd});
        return Status::Ok();
    }
    return Status::Internal("regex: unknown node");
  }

  std::unique_ptr<Node> Clone(const Node& n) {
    auto c = std::make_unique<Node>(n.kind);
    c->cls = n.cls;
    c->min = n.min;
    c->max = n.max;
    c->possessive = n.possessive;
    for (const auto& k : n.kids) c->kids.push_back(Clone(*k));
    return c;
  }

  FirstSet First(const Node& n) const {
    FirstSet f;
    switch (n.kind) {
      case Node::kClass: {
        const CharClass& cc = re_->classes_[n.cls];
        for (char32_t c = 0; c < 128; ++c) {
          if (cc.Matches(c)) f.bits[c >> 6] |= uint64_t{1} << (c & 63);
        }
        f.non_ascii = !cc.AsciiOnly();
        return f;
      }
      case Node::kConcat:
        f.nullable = true;
        for (const auto& k : n.kids) {
          FirstSet g = First(*k);
          f.bits[0] |= g.bits[0];
          f.bits[1] |= g.bits[1];
          f.non_ascii |= g.non_ascii;
          if (!g.nullable) { f.nullable = false; break; }
        }
        return f;
      case Node::kAlt:
        for (const auto& k : n.kids) {
          FirstSet g = First(*k);
          f.bits[0] |= g.bits[0];
          f.bits[1] |= g.bits[1];
          f.non_ascii |= g.non_ascii;
          f.nullable |= g.nullable;
        }
        return f;
      case Node::kRepeat:
        f = First(*n.kids[0]);
        f.nullable |= n.min == 0;
        return f;
      default:
        f.nullable = true;
        return f;
    }
  }

  std::string_view p_;
  size_t i_ = 0;
  bool ci_ = false;
  Regex* re_ = nullptr;
  std::vector<std::pair<size_t, const Node*>> deferred_;
  std::vector<std::unique_ptr<Node>> owned_;
};

StatusOr<std::shared_ptr<const Regex>> Regex::Compile(std::string_view pattern) {
  RegexCompiler c(pattern);
  return c.Compile();
}

bool Regex::Run(std::string_view text, uint32_t pc, size_t pos, size_t* end, Scratch* st) const {
  const size_t base = st->size();
  const size_t n = text.size();
  const char* s = text.data();
  for (;;) {
    const Inst& in = code_[pc];
    bool ok = true;
    switch (in.op) {
      case Op::kClass: {
        const CharClass& cc = classes_[in.cls];
        size_t p = pos, min_pos = pos;
        uint32_t count = 0;
        while (count < in.max && p < n) {
          unsigned char b = static_cast<unsigned char>(s[p]);
          char32_t c;
          size_t len = 1;
          if (b < 0x80) c = b;
          else c = DecodeUtf8(s + p, &len);
          if (!cc.Matches(c)) break;
          p += len;
          if (++count == in.min) min_pos = p;
        }
        if (count < in.min) { ok = false; break; }
        if (!in.possessive && count > in.min) {
          st->push_back({pc + 1, static_cast<uint32_t>(p), static_cast<uint32_t>(min_pos), 1});
        }
        pos = p;
        ++pc;
        break;
      }
      case Op::kSplit: {
        bool can = in.x_nullable;
        if (!can && pos < n) {
          unsigned char b = static_cast<unsigned char>(s[pos]);
          can = b < 0x80 ? ((in.first_x[b >> 6] >> (b & 63)) & 1) != 0 : in.first_x_non_ascii;
        }
        if (!can) {
          pc = in.y;
          break;
        }
        st->push_back({in.y, static_cast<uint32_t>(pos), 0, 0});
        pc = in.x;
        break;
      }
      case Op::kJmp:
        pc = in.x;
        break;
      case Op::kLook:
      case Op::kNegLook: {
        size_t e;
        bool m = Run(text, in.x, pos, &e, st);
        if (m == (in.op == Op::kLook)) ++pc;
        else ok = false;
        break;
      }
      case Op::kAtomic: {
        size_t e;
        if (Run(text, in.x, pos, &e, st)) {
          pos = e;
          ++pc;
        } else {
          ok = false;
        }
        break;
      }
      case Op::kBegin:
        if (pos == 0) ++pc;
        else ok = false;
        break;
      case Op::kEnd:
        if (pos == n) ++pc;
        else ok = false;
        break;
      case Op::kMatch:
        *end = pos;
        st->resize(base);
        return true;
    }
    if (ok) continue;
    if (st->size() == base) return false;
    Frame& f = st->back();
    pc = f.pc;
    if (f.kind == 0) {
      pos = f.pos;
      st->pop_back();
    } else {
      size_t p = f.pos - 1;
      while ((static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
      pos = p;
      if (p <= f.min_pos) st->pop_back();
      else f.pos = static_cast<uint32_t>(p);
    }
  }
}

int64_t Regex::MatchAt(std::string_view text, size_t pos, Scratch* scratch) const {
  if (known_ != KnownPattern::kNone && pos < text.size() && static_cast<unsigned char>(text[pos]) < 0x80) {
    const int64_t len = MatchKnownPatternAscii(known_, text, pos);
    if (len != kUndecided) return len;
  }
  return MatchAtGeneral(text, pos, scratch);
}

int64_t Regex::MatchAtGeneral(std::string_view text, size_t pos, Scratch* scratch) const {
  if (pos >= text.size()) return -1;
  unsigned char b = static_cast<unsigned char>(text[pos]);
  for (const Alternative& a : alts_) {
    if (b < 0x80) {
      if (!((a.first_ascii[b >> 6] >> (b & 63)) & 1)) continue;
    } else if (!a.first_non_ascii) {
      continue;
    }
    size_t end;
    if (Run(text, a.start, pos, &end, scratch)) return static_cast<int64_t>(end - pos);
  }
  return -1;
}

}  // namespace telltale::tokenize
