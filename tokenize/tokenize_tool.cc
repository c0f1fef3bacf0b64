// telltale_tokenize_tool: encodes files for the conformance test and the
// benchmark. Not installed; `telltale tokenize` is the user-facing command.
//
//   telltale_tokenize_tool encode TOKENIZER INPUT OUT.u32 [match|plain]
//                          ids as little-endian uint32; special tokens matched
//                          (default, as HF tokenizers does) or plain text
//                          (as tiktoken's encode_ordinary)
//   telltale_tokenize_tool bench TOKENIZER INPUT [THREADS]  prints MB/s as JSON
//   telltale_tokenize_tool vectors GGUF INP OUT             llama.cpp test vectors
//                                                           (exit 1 on any mismatch)
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/file_io.h"
#include "tokenize/tokenizer.h"

using telltale::tokenize::Tokenizer;

namespace {

int Fail(const telltale::Status& s) {
  std::fprintf(stderr, "telltale_tokenize_tool: error: %s\n", s.message().c_str());
  return 2;
}

// Splits text into chunks ending at the first '\\n' at or after every
// `target` bytes (the rule of conformance/reference.mjs).
std::vector<std::string_view> Chunks(std::string_view text, size_t target) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = std::min(text.size(), i + target);
    size_t nl = text.find('\n', end);
    end = nl == std::string_view::npos ? text.size() : nl + 1;
    out.push_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

std::string Quote(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '\n') o += "\\n";
    else if (c == '\t') o += "\\t";
    else if (c < 0x20) { char b[8]; std::snprintf(b, sizeof b, "\\x%02x", c); o += b; }
    else o.push_back(static_cast<char>(c));
  }
  return o + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s encode TOKENIZER INPUT OUT | bench TOKENIZER INPUT [THREADS]\n", argv[0]);
    return 2;
  }
  std::string mode = argv[1];
  auto tok = Tokenizer::Load(argv[2]);
  if (!tok.ok()) return Fail(tok.status());
  auto text = telltale::ReadFile(argv[3]);
  if (!text.ok()) return Fail(text.status());
  if (mode == "encode") {
    if (argc < 5) return Fail(telltale::Status::InvalidArgument("encode needs an output path"));
    telltale::tokenize::EncodeOptions opts;
    opts.match_special = !(argc > 5 && std::string(argv[5]) == "plain");
    auto encs = (*tok)->EncodeBatch(Chunks(*text, 64 * 1024), 0, opts);
    if (!encs.ok()) return Fail(encs.status());
    std::string out;
    for (const auto& enc : *encs) {
      for (uint32_t v : enc.ids) {
        for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
      }
    }
    telltale::Status s = telltale::WriteFileAtomically(argv[4], out);
    if (!s.ok()) return Fail(s);
    return 0;
  }
  if (mode == "bench") {
    unsigned threads = argc > 4 ? static_cast<unsigned>(std::stoul(argv[4])) : 1;
    auto chunks = Chunks(*text, 64 * 1024);
    telltale::tokenize::EncodeOptions opts;
    opts.match_special = false;
    // Each repetition reloads the tokenizer so every pass starts with cold
    // per-thread piece caches, as a scan of new text would.
    // CPU time as well as wall time: on a shared machine the CPU time of the
    // process is what one core delivers (the reference scripts do the same).
    auto cpu_now = [] {
      timespec ts;
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
      return ts.tv_sec + ts.tv_nsec * 1e-9;
    };
    double best = 1e30, best_cpu = 1e30;
    size_t tokens = 0;
    for (int rep = 0; rep < 2; ++rep) {
      auto fresh = Tokenizer::Load(argv[2]);
      if (!fresh.ok()) return Fail(fresh.status());
      auto t0 = std::chrono::steady_clock::now();
      double c0 = cpu_now();
      auto r = (*fresh)->EncodeBatch(chunks, threads, opts);
      double c1 = cpu_now();
      auto t1 = std::chrono::steady_clock::now();
      best_cpu = std::min(best_cpu, c1 - c0);
      if (!r.ok()) return Fail(r.status());
      tokens = 0;
      for (const auto& e : *r) tokens += e.ids.size();
      best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
    }
    std::printf(
        "{\"bytes\": %zu, \"tokens\": %zu, \"seconds\": %.6f, \"cpu_seconds\": %.6f, \"mb_per_s\": %.3f, "
        "\"mb_per_cpu_s\": %.3f, \"threads\": %u}\n",
        text->size(), tokens, best, best_cpu, text->size() / best / 1e6, text->size() / best_cpu / 1e6, threads);
    return 0;
  }
  if (mode == "vectors") {
    if (argc < 5) return Fail(telltale::Status::InvalidArgument("vectors needs INP and OUT"));
    auto out = telltale::ReadFile(argv[4]);
    if (!out.ok()) return Fail(out.status());
    // Same parsing as llama.cpp's tests/test-tokenizer-0.cpp.
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> inputs, expected;
    for (size_t pos = 0; pos < text->size();) {
      size_t next = text->find(sep, pos);
      if (next == std::string::npos) { inputs.push_back(text->substr(pos)); break; }
      inputs.push_back(text->substr(pos, next - pos));
      pos = next + sep.size();
    }
    for (size_t pos = 0; pos < out->size();) {
      size_t nl = out->find('\n', pos);
      if (nl == std::string::npos) nl = out->size();
      expected.push_back(out->substr(pos, nl - pos));
      pos = nl + 1;
    }
    if (inputs.size() != expected.size()) {
      return Fail(telltale::Status::InvalidArgument("vectors: " + std::to_string(inputs.size()) + " inputs but " +
                                                    std::to_string(expected.size()) + " outputs"));
    }
    telltale::tokenize::EncodeOptions opts;
    opts.match_special = false;
    size_t failed = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto enc = (*tok)->Encode(inputs[i], opts);
      if (!enc.ok()) return Fail(enc.status());
      std::string got;
      for (uint32_t id : enc->ids) got += " " + std::to_string(id);
      std::string want = expected[i];
      while (!want.empty() && (want.back() == ' ' || want.back() == '\r')) want.pop_back();
      std::string got_trim = got.empty() ? got : got.substr(1);
      std::string want_trim = want.empty() || want[0] != ' ' ? want : want.substr(1);
      if (got_trim != want_trim) {
        ++failed;
        std::printf("MISMATCH case %zu input=%s\n  expected: %s\n  telltale: %s\n", i,
                    Quote(inputs[i]).c_str(), want_trim.c_str(), got_trim.c_str());
      }
    }
    std::printf("%s: %zu/%zu vectors pass\n", argv[2], inputs.size() - failed, inputs.size());
    return failed == 0 ? 0 : 1;
  }
  return Fail(telltale::Status::InvalidArgument("unknown mode " + mode));
}
