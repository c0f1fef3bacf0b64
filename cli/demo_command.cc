// CLI: telltale demo — the main job on an embedded default: make keys for two
// tenants, watermark text with each, mix in unwatermarked and partly
// watermarked text, detect with both keys and print a readable report.
//
// The text comes from the simulated Zipf LM (watermark/simulated_lm.h); the
// same flow over a real tokenizer and model is in docs/python.md.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/cli_command.h"
#include "common/file_io.h"
#include "crypto/key_file.h"
#include "detect/attribution.h"
#include "detect/detection_report.h"
#include "watermark/simulated_generation.h"

namespace telltale {
namespace {

struct DemoArgs {
  std::string workdir, scheme = "kgw:gamma=0.25,delta=2,h=1";
  double alpha = 1e-6;
  uint64_t seed = 2026;
};

struct Sample {
  std::string label;
  std::vector<int32_t> tokens;
};

const char* Color(bool on, const char* code) { return on ? code : ""; }

void PrintHighlighted(const std::vector<int32_t>& tokens, const Detection& d, bool color, size_t limit) {
  std::printf("    ");
  for (size_t i = 0; i < std::min(limit, tokens.size()); ++i) {
    const int8_t m = d.token_mask[i];
    if (color) {
      std::printf("%s%d%s ", m == kMarkGreen ? "\x1b[32m" : m == kMarkRed ? "\x1b[31m" : "\x1b[2m", tokens[i], "\x1b[0m");
    } else {
      std::printf("%d%s ", tokens[i], m == kMarkGreen ? "+" : m == kMarkRed ? "-" : "");
    }
    if (i % 16 == 15) std::printf("\n    ");
  }
  std::printf("...\n");
}

StatusOr<int> RunDemo(const DemoArgs& a) {
  const bool color = ::isatty(STDOUT_FILENO) == 1;
  std::string dir = a.workdir;
  if (dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "telltale-demo-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return Status::Unavailable("cannot create a temporary directory");
    dir = tmpl;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::Unavailable("cannot create " + dir + ": " + ec.message());
  }
  TT_ASSIGN_OR_RETURN(SchemeSpec spec, SchemeSpec::Parse(a.scheme));
  std::printf("Telltale demo  (scheme %s)\n", spec.ToString().c_str());
  std::printf("  1. keys: a master key and two tenant keys derived from it, in %s\n", dir.c_str());
  TT_ASSIGN_OR_RETURN(SecretKey master, SecretKey::Generate());
  KeyFile master_file{KeyFile::Kind::kMaster, {}, {}, std::move(master)};
  TT_RETURN_IF_ERROR(SaveKeyFile(master_file, dir + "/master.key"));
  const std::vector<KeyLabels> tenants = {{"acme", "eu-west", "2026-11"}, {"globex", "us-east", "2026-11"}};
  std::vector<Detector> detectors;
  std::vector<Watermarker> watermarkers;
  for (const KeyLabels& t : tenants) {
    TT_ASSIGN_OR_RETURN(SecretKey k, DeriveTenantKey(master_file.key, t));
    TT_ASSIGN_OR_RETURN(Watermarker wm, Watermarker::Create(k, spec));
    TT_ASSIGN_OR_RETURN(Detector det, Detector::Create(k, spec));
    std::printf("     tenant %-7s region %-8s key id %s\n", t.tenant.c_str(), t.region.c_str(), det.key_id().c_str());
    KeyFile f{KeyFile::Kind::kDerived, master_file.key.KeyId(), t, std::move(k)};
    TT_RETURN_IF_ERROR(SaveKeyFile(f, dir + "/" + t.tenant + ".key"));
    watermarkers.push_back(std::move(wm));
    detectors.push_back(std::move(det));
  }

  std::printf("  2. generate: a simulated LM (V=32000, 3 bits/token) writes 200-token texts\n");
  TT_ASSIGN_OR_RETURN(SimulatedLm lm, SimulatedLm::Create(32000, SimulatedLm::ExponentForEntropy(32000, 3.0), 7));
  std::vector<Sample> samples;
  uint64_t seed = a.seed;
  auto gen = [&](const Watermarker* wm, int64_t len) -> StatusOr<std::vector<int32_t>> {
    SimulatedGenerationParams p;
    p.length = len;
    p.seed = seed++;
    return GenerateSimulated(lm, wm, p);
  };
  for (int i = 0; i < 2; ++i) {
    for (size_t t = 0; t < tenants.size(); ++t) {
      TT_ASSIGN_OR_RETURN(auto toks, gen(&watermarkers[t], 200));
      samples.push_back({"watermarked by " + tenants[t].tenant, std::move(toks)});
    }
    TT_ASSIGN_OR_RETURN(auto plain, gen(nullptr, 200));
    samples.push_back({"not watermarked", std::move(plain)});
  }
  {
    TT_ASSIGN_OR_RETURN(auto head, gen(nullptr, 300));
    TT_ASSIGN_OR_RETURN(auto span, gen(&watermarkers[0], 120));
    TT_ASSIGN_OR_RETURN(auto tail, gen(nullptr, 300));
    head.insert(head.end(), span.begin(), span.end());
    head.insert(head.end(), tail.begin(), tail.end());
    samples.push_back({"120 acme tokens pasted at 304", std::move(head)});
  }
  std::string corpus;
  for (const Sample& s : samples) {
    for (size_t i = 0; i < s.tokens.size(); ++i) corpus += (i ? " " : "") + std::to_string(s.tokens[i]);
    corpus += "\n";
  }
  TT_RETURN_IF_ERROR(WriteFileAtomically(dir + "/corpus.txt", corpus));

  std::printf("  3. detect: every text against both tenant keys (Holm-corrected), with window search\n\n");
  std::vector<const Detector*> ds;
  for (const Detector& d : detectors) ds.push_back(&d);
  DetectOptions opt;
  opt.window_search = true;
  std::printf("  %-3s %-30s %-13s %-8s %9s %7s  %s\n", "#", "ground truth", "verdict", "tenant", "log10(p)", "z", "best window");
  int correct = 0;
  std::vector<Attribution> results;
  for (size_t i = 0; i < samples.size(); ++i) {
    TT_ASSIGN_OR_RETURN(Attribution at, AttributeKeys(ds, samples[i].tokens, opt));
    const double lp = DecisionLog10P(at, true);
    const bool detected = lp <= std::log10(a.alpha);
    const Detection& best = at.per_key[at.best];
    const std::string tenant = detected ? tenants[at.best].tenant : "-";
    const bool truth_marked = samples[i].label != "not watermarked";
    correct += detected == truth_marked && (!detected || samples[i].label.find(tenant) != std::string::npos);
    char window[96] = "";
    if (best.window) {
      std::snprintf(window, sizeof window, "[%lld,%lld) log10(p)=%.1f", static_cast<long long>(best.window->begin),
                    static_cast<long long>(best.window->end), best.window->log10_p_corrected);
    }
    std::printf("  %-3zu %-30s %s%-13s%s %-8s %9.2f %7.2f  %s\n", i, samples[i].label.c_str(),
                Color(color, detected ? "\x1b[1;32m" : "\x1b[2m"), detected ? "WATERMARKED" : "no watermark",
                Color(color, "\x1b[0m"), tenant.c_str(), at.holm_log10_p[at.best], best.z, window);
    results.push_back(std::move(at));
  }
  std::printf("\n  Tokens of text #0 (green = in the key's green list, red = not, dim = not scored):\n");
  PrintHighlighted(samples[0].tokens, results[0].per_key[results[0].best], color, 48);
  std::printf("\n  Verdict: %d of %zu texts classified correctly at alpha = %g (false-positive rate bound per text).\n",
              correct, samples.size(), a.alpha);
  std::printf("  Files: %s/{master,acme,globex}.key, corpus.txt. Re-run detection with:\n", dir.c_str());
  std::printf("    telltale detect --key %s/acme.key --key %s/globex.key --scheme '%s' --tokens %s/corpus.txt --window\n",
              dir.c_str(), dir.c_str(), spec.ToString().c_str(), dir.c_str());
  return correct == static_cast<int>(samples.size()) ? cli::kExitFound : cli::kExitNotFound;
}

void SetupDemoCommand(CLI::App& root, cli::RunResult& result) {
  auto a = std::make_shared<DemoArgs>();
  CLI::App* c = root.add_subcommand("demo", "Watermark, detect and report on an embedded default (two tenants, simulated LM)");
  c->add_option("--workdir", a->workdir, "Where to write keys and the corpus (default: a new temporary directory)");
  c->add_option("--scheme", a->scheme, "Scheme spec (default kgw:gamma=0.25,delta=2,h=1)");
  c->add_option("--alpha", a->alpha, "False-positive rate for verdicts (default 1e-6)");
  c->add_option("--seed", a->seed, "Generation seed");
  c->callback([&result, a] { cli::RunCommand(result, [&] { return RunDemo(*a); }); });
}

}  // namespace
}  // namespace telltale

TELLTALE_REGISTER_CLI(90, telltale::SetupDemoCommand);
