// tt_llama_generate: generates with libllama and the telltale watermark
// sampler, then prints the text (stdout) and the generated token ids
// (stderr, one line) so they can be fed to `telltale detect --tokens`.
//
//   tt_llama_generate --model reflm.gguf --key acme.key --scheme kgw:gamma=0.25,delta=2,h=1
//       --prompt "It is a truth" -n 200 [--top-k 40 --top-p 0.95 --temp 0.8 --seed 1 --no-watermark]
//
// Chain: watermark (bias schemes) -> top-k -> top-p -> temp -> dist, or
// top-k -> top-p -> temp -> watermark (sampling schemes, replacing dist).
// Exit codes: 0 ok, 2 bad arguments or failure (one-line message on stderr).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "llama.h"
#include "watermark/llama/llama_generation.h"
#include "watermark/llama/tt_llama.h"

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "tt_llama_generate: %s\n", message.c_str());
  return 2;
}

bool ParseNumber(const char* text, double* out) {
  char* end = nullptr;
  *out = std::strtod(text, &end);
  return end != text && *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, key, scheme = "kgw:gamma=0.25,delta=2,h=1", prompt = "It is a truth";
  double n = 200, top_k = 40, top_p = 0.95, temp = 1.0, seed = 1;
  bool watermark = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--no-watermark") {
      watermark = false;
      continue;
    }
    if (i + 1 >= argc) return Fail("option " + a + " needs a value");
    const char* v = argv[++i];
    double* num = a == "-n" ? &n : a == "--top-k" ? &top_k : a == "--top-p" ? &top_p : a == "--temp" ? &temp
                : a == "--seed" ? &seed : nullptr;
    if (num != nullptr) {
      if (!ParseNumber(v, num)) return Fail("option " + a + ": '" + v + "' is not a number");
    } else if (a == "--model") {
      model = v;
    } else if (a == "--key") {
      key = v;
    } else if (a == "--scheme") {
      scheme = v;
    } else if (a == "--prompt") {
      prompt = v;
    } else {
      return Fail("unknown option " + a);
    }
  }
  if (model.empty()) return Fail("--model is required");
  if (watermark && key.empty()) return Fail("--key is required (or --no-watermark)");
  if (n < 1 || n > 4096) return Fail("-n must be in [1, 4096]");

  auto gen = telltale::LlamaGeneration::Load(model, {.n_ctx = 4096 + 512, .n_threads = 2});
  if (!gen.ok()) return Fail(gen.status().message());
  auto ids = (*gen)->Tokenize(prompt, true);
  if (!ids.ok()) return Fail(ids.status().message());

  llama_sampler* wm = nullptr;
  if (watermark) {
    wm = tt_llama_sampler_init(key.data(), key.size(), scheme.data(), scheme.size(), (*gen)->n_vocab(),
                               static_cast<uint64_t>(seed));
    if (wm == nullptr) return Fail(tt_llama_last_error());
  }
  const bool selects = wm != nullptr && tt_llama_sampler_selects(wm) == 1;
  llama_sampler* chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
  if (wm != nullptr && !selects) llama_sampler_chain_add(chain, wm);
  llama_sampler_chain_add(chain, (*gen)->NewEogSuppressor());  // always generate n tokens
  llama_sampler_chain_add(chain, llama_sampler_init_top_k(static_cast<int32_t>(top_k)));
  llama_sampler_chain_add(chain, llama_sampler_init_top_p(static_cast<float>(top_p), 1));
  llama_sampler_chain_add(chain, llama_sampler_init_temp(static_cast<float>(temp)));
  llama_sampler_chain_add(chain, selects ? wm : llama_sampler_init_dist(static_cast<uint32_t>(seed)));

  auto out = (*gen)->Generate(*ids, chain, static_cast<int32_t>(n));
  llama_sampler_free(chain);
  if (!out.ok()) return Fail(out.status().message());
  std::printf("%s\n", (*gen)->Detokenize(*out).c_str());
  std::string line;
  for (size_t i = 0; i < out->size(); ++i) {
    if (i > 0) line += ' ';
    line += std::to_string((*out)[i]);
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  return 0;
}
