#include "tokenize/hf_json_reader.h"

#include <utility>

namespace telltale::tokenize {

namespace {

using json = nlohmann::json;

// nlohmann's SAX interface. Outside the two big fields it builds the DOM
// that json::parse would (a stack of open containers); inside them it
// appends entries and skips anything nested deeper than an entry.
class Handler {
 public:
  explicit Handler(HfJson* out) : out_(out) {}

  bool null() { return Scalar(json(nullptr)); }
  bool boolean(bool v) { return Scalar(json(v)); }
  bool number_integer(json::number_integer_t v) { return Number(v, json(v)); }
  bool number_unsigned(json::number_unsigned_t v) {
    return Number(v > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(v), json(v));
  }
  bool number_float(json::number_float_t v, const std::string&) { return Scalar(json(v)); }
  bool binary(json::binary_t&) { return Scalar(json(nullptr)); }  // not produced by text JSON

  bool string(std::string& v) {
    // Merge strings are the bulk of the file: moved, never wrapped in a json.
    if (mode_ != Mode::kMerges || skip_ > 0) return Scalar(json(std::move(v)));
    if (!pair_open_) {
      out_->merges.push_back({HfMergeEntry::Form::kLine, std::move(v), {}});
    } else {
      if (pair_count_ == 0) pair_.a = std::move(v);
      else if (pair_count_ == 1) pair_.b = std::move(v);
      ++pair_count_;
    }
    return true;
  }

  bool key(std::string& k) {
    if (mode_ == Mode::kVocab) {
      if (skip_ == 0) vocab_key_ = std::move(k);
      return true;
    }
    if (mode_ == Mode::kMerges) return true;  // only inside skipped objects
    pending_ = Pending::kNone;
    if (stack_.size() == 1 && k == "model") {
      // A later "model" replaces the earlier one whole.
      pending_ = Pending::kModel;
      model_ = nullptr;
      DropVocab();
      DropMerges();
    } else if (stack_.size() == 2 && stack_.back() == model_ && k == "vocab") {
      pending_ = Pending::kVocab;
      DropVocab();
      model_->erase("vocab");
    } else if (stack_.size() == 2 && stack_.back() == model_ && k == "merges") {
      pending_ = Pending::kMerges;
      DropMerges();
      model_->erase("merges");
    }
    key_ = std::move(k);
    return true;
  }

  bool start_object(std::size_t) {
    if (mode_ == Mode::kDom) {
      if (pending_ == Pending::kVocab) return BeginCapture(Mode::kVocab, &out_->has_vocab);
      const bool is_model = pending_ == Pending::kModel;
      if (!Insert(json::object(), true)) return false;
      if (is_model) model_ = stack_.back();
      return true;
    }
    return StartNested();
  }

  bool start_array(std::size_t) {
    if (mode_ == Mode::kDom) {
      if (pending_ == Pending::kMerges) return BeginCapture(Mode::kMerges, &out_->has_merges);
      return Insert(json::array(), true);
    }
    if (mode_ == Mode::kMerges && skip_ == 0 && !pair_open_) {
      pair_open_ = true;
      pair_count_ = 0;
      pair_bad_ = false;
      pair_ = HfMergeEntry{HfMergeEntry::Form::kPair, {}, {}};
      return true;
    }
    return StartNested();
  }

  bool end_object() { return End(); }
  bool end_array() { return End(); }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    error_ = e.what();
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  enum class Mode { kDom, kVocab, kMerges };
  enum class Pending { kNone, kModel, kVocab, kMerges };

  // The value of model.vocab or model.merges opens: its entries go to `out_`.
  bool BeginCapture(Mode mode, bool* has) {
    pending_ = Pending::kNone;
    mode_ = mode;
    *has = true;
    return true;
  }

  void DropVocab() {
    out_->has_vocab = false;
    out_->vocab.clear();
  }
  void DropMerges() {
    out_->has_merges = false;
    out_->merges.clear();
  }

  // Places `v` where the DOM expects the next value; a container becomes
  // the innermost open one.
  bool Insert(json&& v, bool open) {
    pending_ = Pending::kNone;
    json* at;
    if (stack_.empty()) {
      out_->root = std::move(v);
      at = &out_->root;
    } else if (stack_.back()->is_array()) {
      stack_.back()->push_back(std::move(v));
      at = &stack_.back()->back();
    } else {
      at = &(*stack_.back())[key_];
      *at = std::move(v);
    }
    if (open) stack_.push_back(at);
    return true;
  }

  bool Scalar(json&& v) {
    if (mode_ == Mode::kDom) return Insert(std::move(v), false);
    if (skip_ > 0) return true;
    if (mode_ == Mode::kVocab) {
      out_->vocab.push_back({std::move(vocab_key_), HfVocabEntry::kNotAnInteger});
    } else if (pair_open_) {
      pair_bad_ = true;
    } else {
      out_->merges.push_back({});
    }
    return true;
  }

  bool Number(int64_t id, json&& v) {
    if (mode_ == Mode::kVocab && skip_ == 0) {
      out_->vocab.push_back({std::move(vocab_key_), id});
      return true;
    }
    return Scalar(std::move(v));
  }

  // A container inside a vocabulary or merges entry, or one in place of an
  // entry: the entry is invalid and the container is skipped.
  bool StartNested() {
    if (skip_ == 0) {
      if (mode_ == Mode::kVocab) out_->vocab.push_back({std::move(vocab_key_), HfVocabEntry::kNotAnInteger});
      else if (pair_open_) pair_bad_ = true;
      else out_->merges.push_back({});
    }
    ++skip_;
    return true;
  }

  bool End() {
    if (mode_ == Mode::kDom) {
      stack_.pop_back();
      return true;
    }
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    if (pair_open_) {
      pair_open_ = false;
      if (pair_bad_ || pair_count_ != 2) pair_ = HfMergeEntry{};
      out_->merges.push_back(std::move(pair_));
      return true;
    }
    mode_ = Mode::kDom;  // the end of model.vocab or model.merges
    return true;
  }

  HfJson* out_;
  std::vector<json*> stack_;  // open containers of the DOM; back() is the innermost
  std::string key_;           // the key of the next value in an object
  Pending pending_ = Pending::kNone;
  json* model_ = nullptr;     // the root's "model" object, once open
  Mode mode_ = Mode::kDom;
  size_t skip_ = 0;           // open containers being skipped
  std::string vocab_key_;
  bool pair_open_ = false;    // inside a ["a", "b"] merge
  bool pair_bad_ = false;
  size_t pair_count_ = 0;
  HfMergeEntry pair_;
  std::string error_;
};

}  // namespace

Status ReadHfJson(std::string_view text, HfJson* out) {
  *out = HfJson();
  Handler handler(out);
  if (!json::sax_parse(text.begin(), text.end(), &handler)) {
    return Status::InvalidArgument("tokenizer.json: not valid JSON: " + handler.error());
  }
  return Status::Ok();
}

}  // namespace telltale::tokenize
