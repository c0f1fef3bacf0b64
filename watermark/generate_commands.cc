// CLI: telltale generate (watermarked or plain text from the simulated LM)
#include <cmath>
#include <cstdio>
#include <memory>

#include "cli/cli_command.h"
#include "common/file_io.h"
#include "crypto/key_file.h"
#include "watermark/simulated_generation.h"

namespace telltale {
namespace {

struct GenerateArgs {
  std::string key, scheme, output = "-";
  int32_t vocab = 32000, count = 10, prompt = 4;
  int64_t length = 200;
  double entropy = 3.0;
  uint64_t seed = 1, lm_seed = 7;
  float temperature = 1.0f, top_p = 1.0f;
  int32_t top_k = 0;
  bool plain = false, jsonl = false;
};

StatusOr<int> RunGenerate(const GenerateArgs& a) {
  if (a.count < 0) return Status::InvalidArgument("--count must be >= 0");
  if (!(a.entropy > 0) || a.entropy >= std::log2(static_cast<double>(std::max(a.vocab, 2)))) {
    return Status::InvalidArgument("--entropy must lie in (0, log2(vocab)) bits");
  }
  TT_ASSIGN_OR_RETURN(SimulatedLm lm, SimulatedLm::Create(a.vocab, SimulatedLm::ExponentForEntropy(a.vocab, a.entropy), a.lm_seed));
  std::unique_ptr<Watermarker> wm;
  if (!a.plain) {
    if (a.key.empty() || a.scheme.empty()) return Status::InvalidArgument("--key and --scheme are required unless --plain");
    TT_ASSIGN_OR_RETURN(SchemeSpec spec, SchemeSpec::Parse(a.scheme));
    TT_ASSIGN_OR_RETURN(KeyFile kf, LoadKeyFile(a.key));
    TT_ASSIGN_OR_RETURN(Watermarker w, Watermarker::Create(kf.key, spec));
    wm = std::make_unique<Watermarker>(std::move(w));
  }
  std::string out;
  for (int32_t i = 0; i < a.count; ++i) {
    SimulatedGenerationParams p;
    p.length = a.length;
    p.prompt_tokens = a.prompt;
    p.seed = a.seed * 1000003ULL + static_cast<uint64_t>(i);
    p.sampling = {a.temperature, a.top_k, a.top_p};
    TT_ASSIGN_OR_RETURN(std::vector<int32_t> toks, GenerateSimulated(lm, wm.get(), p));
    std::string line = a.jsonl ? "{\"id\":" + std::to_string(i) + ",\"tokens\":[" : "";
    for (size_t k = 0; k < toks.size(); ++k) {
      if (k > 0) line += a.jsonl ? "," : " ";
      line += std::to_string(toks[k]);
    }
    out += line + (a.jsonl ? "]}\n" : "\n");
  }
  TT_RETURN_IF_ERROR(WriteFileAtomically(a.output, out));
  return cli::kExitFound;
}

void SetupGenerateCommand(CLI::App& root, cli::RunResult& result) {
  auto a = std::make_shared<GenerateArgs>();
  CLI::App* c = root.add_subcommand("generate", "Sample token documents from a simulated Zipf LM, watermarked with a key");
  c->add_option("--key", a->key, "Key file");
  c->add_option("--scheme", a->scheme, "Scheme spec, e.g. kgw:gamma=0.25,delta=2");
  c->add_flag("--plain", a->plain, "Generate without watermark");
  c->add_option("-o,--output", a->output, "Output file (atomic), - for stdout");
  c->add_option("--count", a->count, "Documents (default 10)");
  c->add_option("--length", a->length, "Generated tokens per document (default 200)");
  c->add_option("--prompt", a->prompt, "Random prompt tokens per document (default 4)");
  c->add_option("--vocab", a->vocab, "Vocabulary size (default 32000)");
  c->add_option("--entropy", a->entropy, "Entropy of the simulated LM in bits/token (default 3)");
  c->add_option("--seed", a->seed, "Sampling seed");
  c->add_option("--lm-seed", a->lm_seed, "Seed of the simulated LM itself");
  c->add_option("--temperature", a->temperature, "Sampling temperature");
  c->add_option("--top-k", a->top_k, "Top-k (0 = off)");
  c->add_option("--top-p", a->top_p, "Top-p (1 = off)");
  c->add_flag("--jsonl", a->jsonl, "Write JSONL {\"id\", \"tokens\"} instead of id lines");
  c->callback([&result, a] { cli::RunCommand(result, [&] { return RunGenerate(*a); }); });
}

}  // namespace
}  // namespace telltale

TELLTALE_REGISTER_CLI(25, telltale::SetupGenerateCommand);
