// CLI: telltale audit dataset
//
// The corpus-level radioactivity test over token files: every document's
// (context, token) tuples go into scan's CorpusTest (one global dedup set,
// spilling to disk past --memory-limit), every unique tuple is scored once
// under every key, optionally only where the generation-side context sketch
// says we emitted that context. Fresh random control keys are scored in the
// same pass and printed beside the result; Holm's adjustment runs over the
// real keys only.
//
// Exit codes: 0 the best real key is significant at --alpha, 1 it is not,
// 2 error (bad input names the file and line).
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/cli_command.h"
#include "crypto/key_file.h"
#include "detect/detector.h"
#include "detect/null_distribution.h"
#include "detect/token_documents.h"
#include "scan/corpus_test.h"
#include "watermark/context_sketch.h"

namespace telltale {
namespace {

struct DatasetArgs {
  std::vector<std::string> keys, tokens;
  std::string scheme, sketch, ignore_ids, spill_dir;
  double alpha = 1e-6;
  int64_t prompt_tokens = 0;
  int controls = 1;
  uint64_t memory_limit = 1ull << 30;
  bool json = false;
};

StatusOr<std::vector<int32_t>> ParseIds(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    TokenDocument doc;
    TT_RETURN_IF_ERROR(TokenDocumentReader::ParseLine(item, "--ignore-ids", &doc));
    ids.insert(ids.end(), doc.tokens.begin(), doc.tokens.end());
  }
  return ids;
}

// The sketch belongs to one key: the first --key it was recorded under.
StatusOr<ContextSketch> LoadSketch(const std::string& path, const std::vector<KeyFile>& keys, const SchemeSpec& spec) {
  Status last = Status::InvalidArgument(path + ": no key given");
  for (const KeyFile& k : keys) {
    auto s = ContextSketch::Load(path, k.key, spec);
    if (s.ok() || s.status().code() != StatusCode::kFailedPrecondition) return s;
    last = s.status();
  }
  return Status::FailedPrecondition(last.message() + " (none of the --key files recorded this sketch)");
}

StatusOr<int> RunDataset(const DatasetArgs& args) {
  if (!(args.alpha > 0 && args.alpha < 1)) return Status::InvalidArgument("--alpha must lie in (0, 1)");
  if (args.controls < 0 || args.controls > 64) return Status::InvalidArgument("--controls must be in [0, 64]");
  if (args.prompt_tokens < 0) return Status::InvalidArgument("--prompt-tokens must be >= 0");
  TT_ASSIGN_OR_RETURN(SchemeSpec spec, SchemeSpec::Parse(args.scheme));
  DetectOptions opt;
  opt.prompt_tokens = args.prompt_tokens;
  opt.per_token = false;
  TT_ASSIGN_OR_RETURN(opt.ignore_ids, ParseIds(args.ignore_ids));

  std::vector<KeyFile> keys;
  std::vector<Detector> owned;
  for (const std::string& path : args.keys) {
    TT_ASSIGN_OR_RETURN(KeyFile kf, LoadKeyFile(path));
    TT_ASSIGN_OR_RETURN(Detector det, Detector::Create(kf.key, spec));
    owned.push_back(std::move(det));
    keys.push_back(std::move(kf));
  }
  const size_t real = owned.size();
  for (int i = 0; i < args.controls; ++i) {
    TT_ASSIGN_OR_RETURN(SecretKey k, SecretKey::Generate());
    TT_ASSIGN_OR_RETURN(Detector det, Detector::Create(k, spec));
    owned.push_back(std::move(det));
  }
  std::optional<ContextSketch> sketch;
  CorpusTestOptions copt;
  copt.spill_dir = args.spill_dir;
  copt.memory_limit_bytes = args.memory_limit;
  if (!args.sketch.empty()) {
    TT_ASSIGN_OR_RETURN(ContextSketch s, LoadSketch(args.sketch, keys, spec));
    sketch.emplace(std::move(s));
    const ContextSketch* raw = &*sketch;
    copt.context_filter = [raw](uint64_t c) { return raw->MayContain(c); };
  }
  std::vector<const Detector*> detectors;
  for (const Detector& d : owned) detectors.push_back(&d);
  TT_ASSIGN_OR_RETURN(std::unique_ptr<CorpusTest> test, CorpusTest::Create(detectors, std::move(copt)));

  uint64_t documents = 0, tokens = 0;
  for (const std::string& path : args.tokens) {
    TT_ASSIGN_OR_RETURN(TokenDocumentReader reader, TokenDocumentReader::Open(path));
    TokenDocument doc;
    for (;;) {
      TT_ASSIGN_OR_RETURN(bool more, reader.Next(&doc));
      if (!more) break;
      Status st = test->AddDocument(doc.tokens, opt);
      if (!st.ok()) return st.WithContext(path + ":" + std::to_string(doc.line));
      ++documents;
      tokens += doc.tokens.size();
    }
  }
  TT_ASSIGN_OR_RETURN(CorpusTestResult r, test->Finish());

  // Holm over the real keys only: controls are not candidates.
  std::vector<double> ln_p;
  for (size_t i = 0; i < real; ++i) ln_p.push_back(r.keys[i].log10_p / kLog10E);
  const std::vector<double> holm = HolmAdjustLog(ln_p);
  size_t best = 0;
  for (size_t i = 1; i < real; ++i) {
    if (r.keys[i].log10_p < r.keys[best].log10_p) best = i;
  }
  const double decision = r.unique_tuples == 0 ? 0.0 : holm[best] * kLog10E;
  const bool detected = decision <= std::log10(args.alpha);

  if (args.json) {
    nlohmann::json j;
    j["type"] = "audit-dataset";
    j["scheme"] = spec.ToString();
    j["documents"] = documents;
    j["tokens"] = tokens;
    j["tuples_offered"] = r.tokens_seen;
    j["unique_tuples"] = r.unique_tuples;
    j["alpha"] = args.alpha;
    j["best_key"] = r.keys[best].key_id;
    j["log10_p"] = decision;
    j["detected"] = detected;
    if (sketch) {
      j["sketch"] = {{"digest", sketch->Digest()},
                     {"kind", sketch->kind() == SketchKind::kExact ? "exact" : "bloom"},
                     {"contexts", sketch->size()},
                     {"false_positive_rate", sketch->false_positive_rate()}};
    }
    nlohmann::json ks = nlohmann::json::array();
    for (size_t i = 0; i < r.keys.size(); ++i) {
      const CorpusKeyResult& k = r.keys[i];
      ks.push_back({{"key_id", k.key_id}, {"control", i >= real}, {"scored", k.scored}, {"score", k.score},
                    {"log10_p", k.log10_p}, {"holm_log10_p", i < real ? holm[i] * kLog10E : k.log10_p}});
    }
    j["keys"] = ks;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("radioactivity audit (dataset), scheme %s\n", spec.ToString().c_str());
    std::printf("  documents %llu, tokens %llu; tuples offered %llu, unique scored %llu\n",
                static_cast<unsigned long long>(documents), static_cast<unsigned long long>(tokens),
                static_cast<unsigned long long>(r.tokens_seen), static_cast<unsigned long long>(r.unique_tuples));
    if (sketch) {
      std::printf("  sketch filter: %s, %llu contexts, false-positive rate %.3g, digest %s\n",
                  sketch->kind() == SketchKind::kExact ? "exact" : "bloom",
                  static_cast<unsigned long long>(sketch->size()), sketch->false_positive_rate(),
                  sketch->Digest().c_str());
    }
    const double gamma = spec.family == SchemeFamily::kGumbel ? 1.0 : spec.gamma();
    for (size_t i = 0; i < r.keys.size(); ++i) {
      const CorpusKeyResult& k = r.keys[i];
      const char* tag = i >= real ? "control" : (i == best ? "best   " : "key    ");
      std::printf("  %s %s  score %.1f (expected %.1f)  log10 p %.2f", tag, k.key_id.c_str(), k.score,
                  static_cast<double>(k.scored) * gamma, k.log10_p);
      if (i < real) std::printf("  holm %.2f", holm[i] * kLog10E);
      std::printf("\n");
    }
    std::printf("%s at alpha=%g (log10 p %.2f, key %s)\n", detected ? "RADIOACTIVE" : "not detected", args.alpha,
                decision, r.keys[best].key_id.c_str());
  }
  return detected ? cli::kExitFound : cli::kExitNotFound;
}

void SetupAuditCommands(CLI::App& root, cli::RunResult& result) {
  CLI::App* audit = root.add_subcommand("audit", "Radioactivity audits: was a dataset or model trained on our outputs?");
  audit->require_subcommand(1);
  auto a = std::make_shared<DatasetArgs>();
  CLI::App* c = audit->add_subcommand("dataset", "Corpus-level test with global dedup, sketch filter, controls");
  c->add_option("--key", a->keys, "Key file (repeat for multi-key attribution)")->required();
  c->add_option("--scheme", a->scheme, "Scheme spec, e.g. kgw:gamma=0.25,delta=2,h=1")->required();
  c->add_option("--tokens", a->tokens, "Token files: one document per line (ids or JSONL {\"tokens\": [...]}); - for stdin")
      ->required();
  c->add_option("--sketch", a->sketch, "Context sketch recorded at generation: score only contexts we emitted");
  c->add_option("--controls", a->controls, "Fresh random control keys scored beside the result (default 1)");
  c->add_option("--alpha", a->alpha, "Significance level of the verdict (default 1e-6)");
  c->add_option("--prompt-tokens", a->prompt_tokens, "Leading tokens of each document used as context only");
  c->add_option("--ignore-ids", a->ignore_ids, "Comma-separated special token ids never scored");
  c->add_option("--spill-dir", a->spill_dir, "Where the dedup set spills past --memory-limit (default $TMPDIR)");
  c->add_option("--memory-limit", a->memory_limit, "In-memory budget of the dedup set in bytes (default 1 GiB)");
  c->add_flag("--json", a->json, "One JSON object");
  c->callback([&result, a] { cli::RunCommand(result, [&] { return RunDataset(*a); }); });
}

}  // namespace
}  // namespace telltale

TELLTALE_REGISTER_CLI(60, telltale::SetupAuditCommands);
