// CLI: telltale detect
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

#include "cli/cli_command.h"
#include "crypto/key_file.h"
#include "detect/detection_report.h"

namespace telltale {
namespace {

struct DetectArgs {
  std::vector<std::string> keys;
  std::string scheme, tokens = "-", dedup = "context+token", ignore_ids;
  double alpha = 1e-6;
  int64_t prompt_tokens = 0;
  int32_t min_window = 32;
  bool json = false, window = false, per_token = false;
};

StatusOr<std::vector<int32_t>> ParseIdList(const std::string& text) {
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

void PrintTextReport(const TokenDocument& doc, int64_t index, const Attribution& a,
                     std::span<const Detector* const> detectors, const ReportContext& ctx) {
  const Detection& d = a.per_key[a.best];
  const double lp = DecisionLog10P(a, ctx.options->window_search);
  const bool detected = lp <= std::log10(ctx.alpha);
  std::printf("doc %lld (line %lld%s%s): scored %lld/%lld  score %.4g (expected %.4g)  z %.2f  log10(p) %.2f%s  %s",
              static_cast<long long>(index), static_cast<long long>(doc.line), doc.id.empty() ? "" : ", id ",
              doc.id.c_str(), static_cast<long long>(d.scored), static_cast<long long>(d.tokens), d.score, d.expected,
              d.z, a.holm_log10_p[a.best], a.per_key.size() > 1 ? " (Holm)" : "",
              detected ? "DETECTED" : "not detected");
  if (detected || a.per_key.size() > 1) std::printf("  key %s", detectors[a.best]->key_id().c_str());
  if (d.window) {
    std::printf("  window [%lld,%lld) log10(p) %.2f corrected over %lld windows", static_cast<long long>(d.window->begin),
                static_cast<long long>(d.window->end), d.window->log10_p_corrected,
                static_cast<long long>(d.window->windows_tested));
  }
  std::printf("\n");
}

StatusOr<int> RunDetect(const DetectArgs& args) {
  if (!(args.alpha > 0 && args.alpha < 1)) return Status::InvalidArgument("--alpha must lie in (0, 1)");
  TT_ASSIGN_OR_RETURN(SchemeSpec spec, SchemeSpec::Parse(args.scheme));
  DetectOptions opt;
  TT_ASSIGN_OR_RETURN(opt.dedup, ParseDedupMode(args.dedup));
  opt.prompt_tokens = args.prompt_tokens;
  opt.window_search = args.window;
  opt.min_window = args.min_window;
  opt.per_token = args.per_token || args.window;
  TT_ASSIGN_OR_RETURN(opt.ignore_ids, ParseIdList(args.ignore_ids));
  std::vector<Detector> owned;
  for (const std::string& path : args.keys) {
    TT_ASSIGN_OR_RETURN(KeyFile kf, LoadKeyFile(path));
    TT_ASSIGN_OR_RETURN(Detector det, Detector::Create(kf.key, spec));
    owned.push_back(std::move(det));
  }
  std::vector<const Detector*> detectors;
  for (const Detector& d : owned) detectors.push_back(&d);
  if (opt.window_search) opt.span_log10_threshold = SpanLog10Threshold(args.alpha, detectors.size());
  TT_ASSIGN_OR_RETURN(TokenDocumentReader reader, TokenDocumentReader::Open(args.tokens));
  ReportContext ctx{&spec, &opt, args.alpha, args.per_token};
  TokenDocument doc;
  int64_t index = 0, detected = 0;
  for (;;) {
    TT_ASSIGN_OR_RETURN(bool more, reader.Next(&doc));
    if (!more) break;
    auto attribution = AttributeKeys(detectors, doc.tokens, opt);
    if (!attribution.ok()) return attribution.status().WithContext(args.tokens + ":" + std::to_string(doc.line));
    if (DecisionLog10P(*attribution, opt.window_search) <= std::log10(args.alpha)) ++detected;
    if (args.json) {
      std::printf("%s\n", DetectionReportJson(index, doc, *attribution, detectors, ctx).dump().c_str());
    } else {
      PrintTextReport(doc, index, *attribution, detectors, ctx);
    }
    ++index;
  }
  if (!args.json) {
    std::printf("%lld of %lld documents detected at alpha=%g (scheme %s, %zu key%s)\n", static_cast<long long>(detected),
                static_cast<long long>(index), args.alpha, spec.ToString().c_str(), detectors.size(),
                detectors.size() == 1 ? "" : "s");
  }
  return detected > 0 ? cli::kExitFound : cli::kExitNotFound;
}

void SetupDetectCommand(CLI::App& root, cli::RunResult& result) {
  auto a = std::make_shared<DetectArgs>();
  CLI::App* c = root.add_subcommand("detect", "Test token sequences for a watermark; exit 0 if any is detected, 1 if none, 2 on error");
  c->add_option("--key", a->keys, "Key file (repeat for multi-key attribution, e.g. one per tenant)")->required();
  c->add_option("--scheme", a->scheme, "Scheme spec, e.g. kgw:gamma=0.25,delta=2,h=1")->required();
  c->add_option("--tokens", a->tokens, "Token file: one document per line, ids or JSONL {\"tokens\": [...]}; - for stdin")
      ->required();
  c->add_flag("--json", a->json, "One JSON object per document");
  c->add_option("--alpha", a->alpha, "False-positive rate for the verdict (default 1e-6)");
  c->add_option("--dedup", a->dedup, "none | context | context+token (default)");
  c->add_option("--prompt-tokens", a->prompt_tokens, "Leading tokens of each document to use as context only");
  c->add_option("--ignore-ids", a->ignore_ids, "Comma-separated special token ids never scored");
  c->add_flag("--window", a->window, "Also search windows for partly watermarked text (Bonferroni-corrected)");
  c->add_option("--min-window", a->min_window, "Smallest window in scored tokens (default 32)");
  c->add_flag("--per-token", a->per_token, "Include per-token mask and scores in --json output");
  c->callback([&result, a] { cli::RunCommand(result, [&] { return RunDetect(*a); }); });
}

}  // namespace
}  // namespace telltale

TELLTALE_REGISTER_CLI(20, telltale::SetupDetectCommand);
