#include "tokenize/tokenizer.h"

#include <atomic>
#include <cstring>
#include <optional>
#include <thread>

#include "common/file_io.h"
#include "tokenize/utf8.h"

namespace telltale::tokenize {

namespace {

std::atomic<uint64_t> g_next_instance{1};

// Per-thread working memory, reused across calls so encoding allocates
// nothing per token in the steady state.
struct ThreadScratch {
  uint64_t owner = 0;
  PreTokenizer::Scratch pre;
  BpeModel::Scratch bpe;
  std::vector<Piece> pieces;
  std::vector<TokenOut> outs;
  NormalizedText seg;  // the segment being encoded; kept for its buffers
};

ThreadScratch& LocalScratch(uint64_t owner) {
  thread_local ThreadScratch s;
  if (s.owner != owner) {
    s.bpe.ForgetCache();
    s.owner = owner;
  }
  return s;
}

// Repairs invalid UTF-8 (U+FFFD per maximal subpart) keeping the alignment.
NormalizedText Repair(std::string_view in, size_t valid) {
  static constexpr char kReplacement[] = "\xEF\xBF\xBD";
  NormalizedText src(in.substr(0, valid), 0);
  NormalizedText out;
  out.StartExplicit(0);
  out.AppendFrom(src, 0, valid);
  size_t i = valid;
  while (i < in.size()) {
    size_t bad = MaximalSubpartAt(in, i);
    out.AppendMapped(kReplacement, static_cast<uint32_t>(i), static_cast<uint32_t>(i + bad));
    i += bad;
    size_t ok = ValidUtf8Prefix(in.substr(i));
    NormalizedText good(in.substr(i, ok), static_cast<uint32_t>(i));
    out.AppendFrom(good, 0, ok);
    i += ok;
  }
  return out;
}

}  // namespace

Tokenizer::Tokenizer(Parts parts)
    : kind_(std::move(parts.kind)),
      normalizer_(std::move(parts.normalizer)),
      pre_tokenizer_(std::move(parts.pre_tokenizer)),
      model_(std::move(parts.model)),
      added_(std::move(parts.added)),
      decoder_(std::move(parts.decoder)),
      instance_id_(g_next_instance.fetch_add(1)) {}

size_t Tokenizer::vocab_size() const {
  size_t n = model_.size();
  for (const auto& t : added_.tokens()) n = std::max<size_t>(n, size_t{t.id} + 1);
  return n;
}

Status Tokenizer::EncodeSegment(std::string_view text, const NormalizedText* repaired, uint32_t begin, uint32_t end,
                                Encoding* out) const {
  if (end <= begin) return Status::Ok();
  ThreadScratch& s = LocalScratch(instance_id_);
  NormalizedText& seg = s.seg;
  if (repaired == nullptr) {
    seg.AssignIdentity(text.substr(begin, end - begin), begin);
  } else {
    seg.StartExplicit(repaired->OrigBegin(begin));
    seg.AppendFrom(*repaired, begin, end);
  }
  TT_RETURN_IF_ERROR(normalizer_.Apply(&seg));
  TT_RETURN_IF_ERROR(pre_tokenizer_.Run(&seg, &s.pre, &s.pieces));
  const std::string& t = seg.text();
  if (model_.metaspace_split()) {
    // Cut pieces before each U+2581 run where no merge can cross (see
    // BpeModel::metaspace_split); the ids are unchanged and the pieces become
    // short enough for the linear merge and the memo.
    s.pre.tmp.clear();
    for (const Piece& p : s.pieces) {
      uint32_t start = p.begin;
      for (size_t i = t.find("\xE2\x96\x81", p.begin + 1); i != std::string::npos && i < p.end;
           i = t.find("\xE2\x96\x81", i + 3)) {
        if (i >= p.begin + 3 && t.compare(i - 3, 3, "\xE2\x96\x81") == 0) continue;
        if (!model_.SafeBoundaryAfter(static_cast<unsigned char>(t[i - 1]))) continue;
        s.pre.tmp.push_back({start, static_cast<uint32_t>(i)});
        start = static_cast<uint32_t>(i);
      }
      s.pre.tmp.push_back({start, p.end});
    }
    s.pieces.swap(s.pre.tmp);
  }
  // Tokens gather in s.outs a few thousand at a time and are then mapped in
  // one pass: one call per token to OrigRange (and a flush per piece) cost
  // more than the encoding of a memo hit, and the buffer stays small.
  auto flush = [&] {
    const size_t first = out->ids.size();
    out->ids.resize(first + s.outs.size());
    out->offsets.resize(first + s.outs.size());
    uint32_t* ids = out->ids.data() + first;
    TokenSpan* offsets = out->offsets.data() + first;
    if (seg.identity()) {
      // What OrigRange gives for an identity alignment.
      const uint32_t base = seg.base();
      for (const TokenOut& o : s.outs) {
        *ids++ = o.id;
        *offsets++ = {base + o.begin, base + std::max(o.begin, o.end)};
      }
    } else {
      for (const TokenOut& o : s.outs) {
        uint32_t ob, oe;
        seg.OrigRange(o.begin, o.end, &ob, &oe);
        *ids++ = o.id;
        *offsets++ = {ob, oe};
      }
    }
    s.outs.clear();
  };
  constexpr size_t kFlushTokens = 4096;
  s.outs.clear();
  // Each piece's memo slot is fetched kAhead pieces before it is needed:
  // the slot loads were the largest stall of a scan (most of EncodePiece's
  // time with the lookups in order). 8, not 4, since a memo hit became
  // branch-free and inline (about 45 ns a piece on English, less than a
  // miss to memory takes here): paired runs +1-4% cold, +2-8% warm.
  constexpr size_t kAhead = 8;
  const Piece* pieces = s.pieces.data();
  const size_t n = s.pieces.size();
  size_t ring[kAhead];
  auto stage = [&](size_t i) {
    const size_t len = pieces[i].end - pieces[i].begin;
    const size_t h = BpeModel::PieceHash(t, pieces[i].begin, pieces[i].end);
    BpeModel::PrefetchMemo(h, len, &s.bpe);
    ring[i % kAhead] = h;
  };
  for (size_t i = 0; i < std::min(n, kAhead); ++i) stage(i);
  for (size_t i = 0; i < n; ++i) {
    const size_t h = ring[i % kAhead];
    if (i + kAhead < n) stage(i + kAhead);
    if (!BpeModel::EncodeShortHit(t, pieces[i].begin, pieces[i].end, h, s.bpe, &s.outs)) {
      TT_RETURN_IF_ERROR(model_.EncodePiece(t, pieces[i].begin, pieces[i].end, h, &s.bpe, &s.outs));
    }
    if (s.outs.size() >= kFlushTokens) flush();
  }
  flush();
  // The buffers are kept for the next segment, but not a long segment's.
  if (seg.text().capacity() > (size_t{4} << 20)) seg = NormalizedText();
  if (s.pieces.capacity() > (size_t{1} << 20)) std::vector<Piece>().swap(s.pieces);
  return Status::Ok();
}

StatusOr<Encoding> Tokenizer::Encode(std::string_view text, const EncodeOptions& options) const {
  Encoding enc;
  TT_RETURN_IF_ERROR(EncodeInto(text, &enc, options));
  return enc;
}

Status Tokenizer::EncodeInto(std::string_view text, Encoding* out, const EncodeOptions& options) const {
  out->ids.clear();
  out->offsets.clear();
  if (text.size() >= UINT32_MAX) return Status::OutOfRange("text of " + std::to_string(text.size()) + " bytes exceeds the 4 GiB limit");
  // Valid UTF-8 (the common case) is encoded in place: only the segment
  // being encoded is copied, into a per-thread buffer.
  const size_t valid = ValidUtf8Prefix(text);
  std::optional<NormalizedText> repaired;
  if (valid != text.size()) repaired = Repair(text, valid);
  const NormalizedText* alignment = repaired ? &*repaired : nullptr;
  const std::string_view t = repaired ? std::string_view(repaired->text()) : text;
  Encoding& enc = *out;
  enc.ids.reserve(text.size() / 3 + 8);
  enc.offsets.reserve(text.size() / 3 + 8);
  size_t at = 0, pos, len;
  uint32_t token;
  while (added_.FindNext(t, at, options.match_special, &pos, &len, &token)) {
    TT_RETURN_IF_ERROR(EncodeSegment(t, alignment, static_cast<uint32_t>(at), static_cast<uint32_t>(pos), &enc));
    uint32_t ob = static_cast<uint32_t>(pos), oe = static_cast<uint32_t>(pos + len);
    if (alignment != nullptr) alignment->OrigRange(pos, pos + len, &ob, &oe);
    enc.ids.push_back(added_.tokens()[token].id);
    enc.offsets.push_back({ob, oe});
    at = pos + len;
  }
  return EncodeSegment(t, alignment, static_cast<uint32_t>(at), static_cast<uint32_t>(t.size()), &enc);
}

StatusOr<std::vector<Encoding>> Tokenizer::EncodeBatch(const std::vector<std::string_view>& texts, unsigned threads,
                                                       const EncodeOptions& options) const {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, std::max<size_t>(texts.size(), 1)));
  std::vector<Encoding> results(texts.size());
  std::vector<Status> errors(texts.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < texts.size(); i = next.fetch_add(1)) {
      StatusOr<Encoding> e = Encode(texts[i], options);
      if (e.ok()) results[i] = std::move(e).value();
      else errors[i] = e.status();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned k = 1; k < threads; ++k) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!errors[i].ok()) return errors[i].WithContext("text " + std::to_string(i));
  }
  return results;
}

StatusOr<std::string> Tokenizer::Decode(std::span<const uint32_t> ids, const DecodeOptions& options) const {
  std::string out;
  for (uint32_t id : ids) {
    int32_t a = added_.IndexOfId(id);
    if (a >= 0) {
      const auto& tok = added_.tokens()[static_cast<size_t>(a)];
      if (!(options.skip_special && tok.special)) out += tok.content;
      continue;
    }
    if (!model_.has_token(id)) {
      return Status::InvalidArgument("token id " + std::to_string(id) + " is not in the vocabulary (size " +
                                     std::to_string(vocab_size()) + ")");
    }
    const std::string& bytes = model_.token(id);
    if (decoder_.byte_level) {
      out += bytes;
      continue;
    }
    if (decoder_.byte_fallback && bytes.size() == 6 && bytes.compare(0, 3, "<0x") == 0 && bytes[5] == '>') {
      char* endp = nullptr;
      std::string hex = bytes.substr(3, 2);
      unsigned long v = std::strtoul(hex.c_str(), &endp, 16);
      if (*endp == 0) {
        out.push_back(static_cast<char>(v));
        continue;
      }
    }
    if (decoder_.metaspace.empty()) {
      out += bytes;
    } else {
      size_t i = 0, m = bytes.find(decoder_.metaspace);
      while (m != std::string::npos) {
        out.append(bytes, i, m - i);
        out.push_back(' ');
        i = m + decoder_.metaspace.size();
        m = bytes.find(decoder_.metaspace, i);
      }
      out.append(bytes, i, std::string::npos);
    }
  }
  size_t strip = 0;
  while (strip < decoder_.strip_leading_spaces && strip < out.size() && out[strip] == ' ') ++strip;
  out.erase(0, strip);
  return out;
}

StatusOr<std::shared_ptr<const Tokenizer>> Tokenizer::Load(const std::string& path) {
  TT_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  StatusOr<std::shared_ptr<const Tokenizer>> result = Status::InvalidArgument("unrecognized tokenizer format");
  size_t first = data.find_first_not_of(" \t\r\n");
  if (data.size() >= 4 && std::memcmp(data.data(), "GGUF", 4) == 0) {
    result = FromGguf(data);
  } else if (first != std::string::npos && data[first] == '{') {
    result = FromHuggingFaceJson(data);
  } else {
    std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
    std::string name = base.substr(0, base.find('.'));
    result = FromTiktoken(data, name);
  }
  if (!result.ok()) return result.status().WithContext("tokenizer " + path);
  return result;
}

}  // namespace telltale::tokenize
