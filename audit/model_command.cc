// CLI: telltale audit model, closed "API mode" (--endpoint) and open-weights
// "reading mode" on a GGUF model through libllama (--gguf).
//
// API mode sends each prompt to an OpenAI-compatible /v1/completions endpoint,
// re-tokenizes prompt + completion with the suspect's tokenizer, and scores
// the completion's (context, token) tuples with global dedup, every tuple of
// every prompt excluded, the optional sketch filter and fresh control keys
// (audit/tuple_scorer.h). A request that still fails after its retries ends
// the run: the result so far is printed, then the error, exit code 2.
//
// Reading mode teacher-forces each text (token ids, or text tokenized with
// the GGUF's own vocabulary) through the model (audit/gguf_reader.h) and
// scores (previous h input tokens, top-1 prediction) with the same scorer,
// controls, early stopping and report. Built only with libllama
// (TELLTALE_AUDIT_GGUF); otherwise --gguf is refused with exit code 2.
//
// Exit codes: 0 the best real key is significant at --alpha, 1 it is not,
// 2 error or partial run.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <span>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "audit/completions_client.h"
#include "audit/tuple_scorer.h"
#include "cli/cli_command.h"
#include "common/file_io.h"
#include "crypto/key_file.h"
#include "tokenize/tokenizer.h"
#include "detect/token_documents.h"
#include "watermark/context_sketch.h"
#ifdef TELLTALE_AUDIT_GGUF
#include "audit/gguf_reader.h"
#endif

namespace telltale {
namespace {

struct ModelArgs {
  std::vector<std::string> keys;
  std::string scheme, prompts, tokenizer, sketch;
  CompletionsOptions client;
  // Reading mode (--gguf).
  std::string gguf, texts, tokens, predictions;
  int32_t n_ctx = 0, overlap = -1, threads = 1;
  int64_t max_texts = -1;
  int max_tokens = 64, controls = 1;
  double temperature = 0.8, alpha = 1e-6;
  int64_t seed = 0, max_queries = -1;
  bool early_stop = false, json = false;
  bool interactive = false;  // stderr is a terminal: show progress
};

// One prompt (text) per line, or JSONL records with a string "prompt" or
// "text". `what` names the items in errors ("prompts", "texts").
StatusOr<std::vector<std::string>> ReadPrompts(const std::string& path, const char* what = "prompts") {
  TT_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  const bool jsonl = path.ends_with(".jsonl") || path.ends_with(".ndjson");
  std::vector<std::string> out;
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    if (end == std::string::npos) end = data.size();
    std::string line = data.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (!jsonl) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out.push_back(std::move(line));
      continue;
    }
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    const char* field = j.is_object() && j.contains("prompt") ? "prompt" : "text";
    if (!j.is_object() || !j.contains(field) || !j[field].is_string()) {
      return Status::InvalidArgument(path + ":" + std::to_string(line_no) +
                                     ": expected a JSON object with a string \"prompt\" or \"text\"");
    }
    out.push_back(j[field].get<std::string>());
  }
  if (out.empty()) return Status::InvalidArgument(path + ": no " + what);
  return out;
}

StatusOr<std::vector<int32_t>> Encode(const tokenize::Tokenizer& tok, const std::string& text) {
  TT_ASSIGN_OR_RETURN(tokenize::Encoding e, tok.Encode(text));
  return std::vector<int32_t>(e.ids.begin(), e.ids.end());
}

struct Progress {
  bool reading = false;  // reading mode (--gguf): no queries
  int64_t texts = 0, tokens = 0, windows = 0;
  std::optional<int64_t> texts_to_target, tokens_to_target, queries_to_target;
};

void PrintReport(const ModelArgs& args, const SchemeSpec& spec, const AuditScores& s, const Progress& p,
                 int64_t queries, const ContextSketch* sketch, const std::string& error) {
  const double target = std::log10(args.alpha);
  const double decision = s.best < 0 ? 0.0
                                     : (s.looks > 0 ? s.sequential_log10_p
                                                    : s.keys[static_cast<size_t>(s.best)].holm_log10_p);
  if (args.json) {
    nlohmann::json j;
    j["type"] = "audit-model";
    j["mode"] = p.reading ? "gguf" : "api";
    j["scheme"] = spec.ToString();
    if (p.reading) {
      j["windows"] = p.windows;
    } else {
      j["queries"] = queries;
    }
    j["texts"] = p.texts;
    j["tokens"] = p.tokens;
    j["tuples_offered"] = s.counts.positions;
    j["no_context"] = s.counts.no_context;
    j["unique_tuples"] = s.counts.scored;
    j["excluded"] = s.counts.excluded;
    j["filtered"] = s.counts.filtered;
    j["duplicate"] = s.counts.duplicate;
    j["looks"] = s.looks;
    j["log10_p"] = decision;
    j["detected"] = s.best >= 0 && decision <= target;
    j["partial"] = !error.empty();
    j["error"] = error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error);
    if (!p.reading) {
      j["queries_to_target"] = p.queries_to_target ? nlohmann::json(*p.queries_to_target) : nlohmann::json(nullptr);
    } else {
      j["texts_to_target"] = p.texts_to_target ? nlohmann::json(*p.texts_to_target) : nlohmann::json(nullptr);
    }
    j["tokens_to_target"] = p.tokens_to_target ? nlohmann::json(*p.tokens_to_target) : nlohmann::json(nullptr);
    if (sketch) j["sketch"] = {{"digest", sketch->Digest()}, {"false_positive_rate", sketch->false_positive_rate()}};
    nlohmann::json ks = nlohmann::json::array();
    for (const KeyScore& k : s.keys) {
      ks.push_back({{"key_id", k.key_id}, {"control", k.control}, {"scored", k.scored}, {"score", k.score},
                    {"z", k.z}, {"log10_p", k.log10_p}, {"holm_log10_p", k.holm_log10_p}});
    }
    j["keys"] = ks;
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  if (p.reading) {
    std::printf("radioactivity audit (reading mode, GGUF), scheme %s\n", spec.ToString().c_str());
    std::printf("  texts %lld, tokens %lld, windows %lld; tuples offered %lld, scored %lld unique (duplicates %lld, "
                "excluded %lld, filtered %lld, no context %lld)\n",
                static_cast<long long>(p.texts), static_cast<long long>(p.tokens), static_cast<long long>(p.windows),
                static_cast<long long>(s.counts.positions), static_cast<long long>(s.counts.scored),
                static_cast<long long>(s.counts.duplicate), static_cast<long long>(s.counts.excluded),
                static_cast<long long>(s.counts.filtered), static_cast<long long>(s.counts.no_context));
  } else {
    std::printf("radioactivity audit (api mode), scheme %s\n", spec.ToString().c_str());
    std::printf("  queries %lld, completions %lld, tokens %lld; tuples offered %lld, scored %lld unique (duplicates "
                "%lld, excluded %lld, filtered %lld)\n",
                static_cast<long long>(queries), static_cast<long long>(p.texts), static_cast<long long>(p.tokens),
                static_cast<long long>(s.counts.positions), static_cast<long long>(s.counts.scored),
                static_cast<long long>(s.counts.duplicate), static_cast<long long>(s.counts.excluded),
                static_cast<long long>(s.counts.filtered));
  }
  if (sketch) {
    std::printf("  sketch filter: %llu contexts, false-positive rate %.3g, digest %s\n",
                static_cast<unsigned long long>(sketch->size()), sketch->false_positive_rate(),
                sketch->Digest().c_str());
  }
  for (size_t i = 0; i < s.keys.size(); ++i) {
    const KeyScore& k = s.keys[i];
    const char* tag = k.control ? "control" : (static_cast<int>(i) == s.best ? "best   " : "key    ");
    std::printf("  %s %s  score %.1f (expected %.1f, z %+.2f)  log10 p %.2f", tag, k.key_id.c_str(), k.score,
                k.expected, k.z, k.log10_p);
    if (!k.control) std::printf("  holm %.2f", k.holm_log10_p);
    std::printf("\n");
  }
  if (p.queries_to_target) {
    std::printf("  reached log10 p <= %g after %lld queries, %lld tokens\n", target,
                static_cast<long long>(*p.queries_to_target), static_cast<long long>(*p.tokens_to_target));
  } else if (p.reading && p.texts_to_target) {
    std::printf("  reached log10 p <= %g after %lld texts, %lld tokens\n", target,
                static_cast<long long>(*p.texts_to_target), static_cast<long long>(*p.tokens_to_target));
  }
  std::printf("%s at alpha=%g (log10 p %.2f)%s\n", s.best >= 0 && decision <= target ? "RADIOACTIVE" : "not detected",
              args.alpha, decision, error.empty() ? "" : "  PARTIAL");
}

// The decision statistic: the sequential p when looks were taken.
double DecisionLog10P(const AuditScores& s) {
  if (s.best < 0) return 0.0;
  return s.looks > 0 ? s.sequential_log10_p : s.keys[static_cast<size_t>(s.best)].holm_log10_p;
}

#ifdef TELLTALE_AUDIT_GGUF
// Feeds one tokenized text through the model; returns false when the run
// should stop early.
StatusOr<bool> ReadOne(const ModelArgs& args, GgufReader& reader, std::span<const int32_t> ids,
                       const std::string& where, TupleScorer& scorer, Progress& p, std::string* predictions) {
  std::vector<int32_t> top;
  TT_RETURN_IF_ERROR(reader.Read(ids, where, scorer, predictions != nullptr ? &top : nullptr));
  if (predictions != nullptr) {
    nlohmann::json j;
    j["text"] = p.texts;
    j["tokens"] = std::vector<int32_t>(ids.begin(), ids.end());
    j["predicted"] = top;
    *predictions += j.dump();
    *predictions += '\n';
  }
  ++p.texts;
  p.tokens += static_cast<int64_t>(ids.size());
  p.windows = reader.stats().windows;
  const double target = std::log10(args.alpha);
  if (!p.texts_to_target) {
    const AuditScores s = scorer.Scores();
    if (s.best >= 0 && s.keys[static_cast<size_t>(s.best)].holm_log10_p <= target) {
      p.texts_to_target = p.texts;
      p.tokens_to_target = p.tokens;
    }
  }
  if (args.interactive) {
    std::fprintf(stderr, "\r  read %lld texts, %lld tokens", static_cast<long long>(p.texts),
                 static_cast<long long>(p.tokens));
  }
  return !(args.early_stop && scorer.Look(target));
}
#endif

StatusOr<int> RunGguf(const ModelArgs& args, const SchemeSpec& spec, TupleScorer& scorer,
                      const ContextSketch* sketch) {
#ifdef TELLTALE_AUDIT_GGUF
  if (args.texts.empty() == args.tokens.empty()) {
    return Status::InvalidArgument("--gguf needs exactly one of --texts (text, tokenized with the GGUF's vocabulary) "
                                   "or --tokens (token ids)");
  }
  GgufReaderOptions ro;
  ro.n_ctx = args.n_ctx;
  // Default overlap: the scheme's h, so no position loses its scoring
  // context at a window boundary.
  ro.overlap = args.overlap >= 0 ? args.overlap : spec.h;
  ro.n_threads = args.threads;
  Progress p;
  p.reading = true;
  std::vector<std::string> texts;
  if (!args.texts.empty()) {
    TT_ASSIGN_OR_RETURN(texts, ReadPrompts(args.texts, "texts"));
  }
  std::optional<TokenDocumentReader> docs;
  if (!args.tokens.empty()) {
    TT_ASSIGN_OR_RETURN(TokenDocumentReader r, TokenDocumentReader::Open(args.tokens));
    docs.emplace(std::move(r));
  }
  TT_ASSIGN_OR_RETURN(std::unique_ptr<GgufReader> reader, GgufReader::Open(args.gguf, ro));
  // The evidence behind the statistic, written once at the end (atomically).
  std::string predictions;
  std::string* pred_out = args.predictions.empty() ? nullptr : &predictions;
  if (!args.texts.empty()) {
    for (size_t i = 0; i < texts.size(); ++i) {
      if (args.max_texts >= 0 && p.texts >= args.max_texts) break;
      const std::string where = args.texts + ": text " + std::to_string(i + 1);
      auto ids = reader->Tokenize(texts[i]);
      if (!ids.ok()) return Status::InvalidArgument(where + ": " + std::string(ids.status().message()));
      TT_ASSIGN_OR_RETURN(bool go_on, ReadOne(args, *reader, *ids, where, scorer, p, pred_out));
      if (!go_on) break;
    }
  } else {
    TokenDocument doc;
    int64_t index = 0;
    while (args.max_texts < 0 || p.texts < args.max_texts) {
      TT_ASSIGN_OR_RETURN(bool more, docs->Next(&doc));
      if (!more) break;
      ++index;
      const std::string where = args.tokens + ": document " + std::to_string(index);
      TT_ASSIGN_OR_RETURN(bool go_on, ReadOne(args, *reader, doc.tokens, where, scorer, p, pred_out));
      if (!go_on) break;
    }
    if (index == 0) return Status::InvalidArgument(args.tokens + ": no documents");
  }
  if (args.interactive) std::fprintf(stderr, "\n");
  if (pred_out != nullptr) TT_RETURN_IF_ERROR(WriteFileAtomically(args.predictions, predictions));
  const AuditScores s = scorer.Scores();
  PrintReport(args, spec, s, p, 0, sketch, "");
  const double decision = DecisionLog10P(s);
  return s.best >= 0 && decision <= std::log10(args.alpha) ? cli::kExitFound : cli::kExitNotFound;
#else
  (void)args;
  (void)spec;
  (void)scorer;
  (void)sketch;
  return Status::FailedPrecondition(
      "--gguf: this telltale was built without libllama (configure with -DTELLTALE_WITH_LLAMA=ON, needs npm and git); "
      "use the Python reading mode or --endpoint");
#endif
}

StatusOr<int> RunApi(const ModelArgs& args, const SchemeSpec& spec, TupleScorer& scorer,
                     const ContextSketch* sketch);

StatusOr<int> RunModel(const ModelArgs& args) {
  if (!(args.alpha > 0 && args.alpha < 1)) return Status::InvalidArgument("--alpha must lie in (0, 1)");
  const bool reading = !args.gguf.empty();
  if (reading == !args.client.endpoint.empty()) {
    return Status::InvalidArgument("give exactly one of --endpoint (API mode) or --gguf (reading mode)");
  }
  if (reading && (!args.prompts.empty() || !args.tokenizer.empty())) {
    return Status::InvalidArgument("--prompts and --tokenizer belong to API mode; with --gguf use --texts or --tokens");
  }
  if (!reading && (!args.texts.empty() || !args.tokens.empty())) {
    return Status::InvalidArgument("--texts and --tokens belong to reading mode (--gguf); API mode uses --prompts");
  }
  if (!reading && (args.prompts.empty() || args.tokenizer.empty())) {
    return Status::InvalidArgument("API mode (--endpoint) needs --prompts and --tokenizer");
  }
  if (args.max_tokens < 1) return Status::InvalidArgument("--max-tokens must be >= 1");
  TT_ASSIGN_OR_RETURN(SchemeSpec spec, SchemeSpec::Parse(args.scheme));
  std::vector<KeyFile> keys;
  for (const std::string& path : args.keys) {
    TT_ASSIGN_OR_RETURN(KeyFile kf, LoadKeyFile(path));
    keys.push_back(std::move(kf));
  }
  std::optional<ContextSketch> sketch;
  TupleScorerOptions opt;
  opt.control_keys = args.controls;
  if (!args.sketch.empty()) {
    Status last = Status::Ok();
    for (const KeyFile& k : keys) {
      auto s = ContextSketch::Load(args.sketch, k.key, spec);
      if (s.ok()) {
        sketch.emplace(std::move(s).value());
        break;
      }
      if (s.status().code() != StatusCode::kFailedPrecondition) return s.status();
      last = s.status();
    }
    if (!sketch) return Status::FailedPrecondition(std::string(last.message()) + " (no --key recorded this sketch)");
    const ContextSketch* raw = &*sketch;
    opt.context_filter = [raw](uint64_t c) { return raw->MayContain(c); };
  }
  std::vector<const SecretKey*> ks;
  for (const KeyFile& k : keys) ks.push_back(&k.key);
  TT_ASSIGN_OR_RETURN(TupleScorer scorer, TupleScorer::Create(ks, spec, std::move(opt)));
  if (reading) return RunGguf(args, spec, scorer, sketch ? &*sketch : nullptr);
  return RunApi(args, spec, scorer, sketch ? &*sketch : nullptr);
}

StatusOr<int> RunApi(const ModelArgs& args, const SchemeSpec& spec, TupleScorer& scorer,
                     const ContextSketch* sketch) {
  TT_ASSIGN_OR_RETURN(std::vector<std::string> prompts, ReadPrompts(args.prompts));
  TT_ASSIGN_OR_RETURN(std::shared_ptr<const tokenize::Tokenizer> tok, tokenize::Tokenizer::Load(args.tokenizer));
  TT_ASSIGN_OR_RETURN(CompletionsClient client, CompletionsClient::Create(args.client));

  const double target = std::log10(args.alpha);
  Progress p;
  std::string error;
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (args.max_queries >= 0 && client.requests() >= args.max_queries) break;
    CompletionRequest req{prompts[i], args.max_tokens, args.temperature, args.seed + static_cast<int64_t>(i)};
    auto text = client.Complete(req);
    if (!text.ok()) {
      error = std::string(text.status().message());
      break;
    }
    TT_ASSIGN_OR_RETURN(std::vector<int32_t> prompt_ids, Encode(*tok, prompts[i]));
    TT_ASSIGN_OR_RETURN(std::vector<int32_t> full, Encode(*tok, prompts[i] + *text));
    // Re-tokenizing may merge across the boundary: the prompt part is the
    // longest common prefix.
    size_t pre = 0;
    while (pre < prompt_ids.size() && pre < full.size() && prompt_ids[pre] == full[pre]) ++pre;
    TT_RETURN_IF_ERROR(scorer.Exclude(prompt_ids));
    TT_RETURN_IF_ERROR(scorer.AddSequence(full, static_cast<int64_t>(pre)));
    ++p.texts;
    p.tokens += static_cast<int64_t>(full.size() - pre);
    if (!p.queries_to_target) {
      const AuditScores s = scorer.Scores();
      if (s.best >= 0 && s.keys[static_cast<size_t>(s.best)].holm_log10_p <= target) {
        p.texts_to_target = p.texts;
        p.tokens_to_target = p.tokens;
        p.queries_to_target = client.requests();
      }
    }
    if (args.early_stop && scorer.Look(target)) break;
  }
  const AuditScores s = scorer.Scores();
  PrintReport(args, spec, s, p, client.requests(), sketch, error);
  if (!error.empty()) {
    cli::PrintError(Status::Unavailable(error + "; the results above cover the " + std::to_string(p.texts) +
                                        " completions received before the failure"));
    return cli::kExitError;
  }
  const double decision = DecisionLog10P(s);
  return s.best >= 0 && decision <= target ? cli::kExitFound : cli::kExitNotFound;
}

void SetupAuditModelCommand(CLI::App& root, cli::RunResult& result) {
  // `telltale audit` exists already when the dataset command is built.
  const std::vector<CLI::App*> found = root.get_subcommands([](CLI::App* s) { return s->get_name() == "audit"; });
  CLI::App* audit = found.empty() ? nullptr : found.front();
  if (audit == nullptr) {
    audit = root.add_subcommand("audit", "Radioactivity audits: was a dataset or model trained on our outputs?");
    audit->require_subcommand(1);
  }
  auto a = std::make_shared<ModelArgs>();
  CLI::App* c = audit->add_subcommand(
      "model", "Suspect model: closed behind an OpenAI-compatible endpoint, or open weights (GGUF, reading mode)");
  c->add_option("--endpoint", a->client.endpoint, "API mode: base URL, e.g. http://127.0.0.1:8080");
  c->add_option("--prompts", a->prompts, "API mode: one prompt per line, or .jsonl with \"prompt\"/\"text\"");
  c->add_option("--tokenizer", a->tokenizer, "API mode: the suspect's tokenizer (tokenizer.json, tiktoken, GGUF)");
  c->add_option("--gguf", a->gguf, "Reading mode: teacher-force texts through this GGUF model (libllama)");
  c->add_option("--texts", a->texts,
                "Reading mode: one text per line, or .jsonl \"text\"; tokenized with the GGUF's vocabulary");
  c->add_option("--tokens", a->tokens,
                "Reading mode: token ids, one document per line (ids or JSONL {\"tokens\": [...]}); - for stdin");
  c->add_option("--n-ctx", a->n_ctx, "Reading mode: window length in tokens (default: the model's context)");
  c->add_option("--overlap", a->overlap, "Reading mode: context-only tokens repeated per window (default: h)");
  c->add_option("--threads", a->threads, "Reading mode: libllama threads (default 1)");
  c->add_option("--max-texts", a->max_texts, "Reading mode: stop after this many texts");
  c->add_option("--predictions", a->predictions,
                "Reading mode: write JSONL {text, tokens, predicted} (the top-1 after every input token)");
  c->add_option("--key", a->keys, "Key file (repeat for multi-key attribution)")->required();
  c->add_option("--scheme", a->scheme, "Scheme spec")->required();
  c->add_option("--sketch", a->sketch, "Context sketch: score only contexts we emitted");
  c->add_option("--controls", a->controls, "Fresh random control keys (default 1)");
  c->add_option("--alpha", a->alpha, "Significance level (default 1e-6)");
  c->add_option("--model", a->client.model, "Model name sent with each request");
  c->add_option("--max-tokens", a->max_tokens, "Tokens per completion (default 64)");
  c->add_option("--temperature", a->temperature, "Sampling temperature (default 0.8)");
  c->add_option("--seed", a->seed, "Request seed of the first prompt (then +1 per prompt)");
  c->add_option("--timeout", a->client.timeout_seconds, "Seconds per request (default 30)");
  c->add_option("--retries", a->client.retries, "Retries per request on timeouts, 429 and 5xx (default 2)");
  c->add_option("--backoff", a->client.backoff_seconds, "First retry delay in seconds, doubling (default 0.5)");
  c->add_option("--rate-limit", a->client.rate_limit, "Requests per second (default unlimited)");
  c->add_option("--max-queries", a->max_queries, "Stop after this many HTTP requests");
  c->add_flag("--early-stop", a->early_stop, "Stop once significant (look l paid with a factor l(l+1))");
  c->add_flag("--json", a->json, "One JSON object");
  c->callback([&result, a] {
    a->interactive = isatty(fileno(stderr)) != 0;
    cli::RunCommand(result, [&] { return RunModel(*a); });
  });
}

}  // namespace
}  // namespace telltale

TELLTALE_REGISTER_CLI(61, telltale::SetupAuditModelCommand);
