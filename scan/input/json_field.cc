#include "scan/input/json_field.h"

#include <nlohmann/json.hpp>

#include <cstdint>

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
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return p;
}

JsonFieldPath::Result JsonFieldPath::Extract(std::string_view text) const {
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
