// CLI: telltale scan — forensic detection over suspect corpora (docs/scan.md).
//
// Exit codes: 0 a document or the corpus is detected; 1 nothing detected;
// 2 an error (bad arguments, or any error record: the scan still finishes
// and reports everything); 130 interrupted by SIGINT (partial summary
// written, marked "partial": true). A second Ctrl-C kills at once.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <memory>
#include <thread>

#include "cli/cli_command.h"
#include "common/file_io.h"
#include "crypto/key_file.h"
#include "scan/html_report.h"
#include "scan/input/char_tables.h"
#include "scan/scan_report.h"
#include "scan/scanner.h"

namespace telltale {
namespace {

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnSigint(int) { g_interrupted.store(true); }

struct ScanArgs {
  std::vector<std::string> paths, keys, include, exclude;
  std::string keys_dir, tokenizer, scheme, format = "auto", field = "text", normalize, csv, html, spill_dir,
      memory = "1G";
  bool lines = false, json = false, json_text = false, window = false, no_progress = false;
  double alpha = 1e-3;
  unsigned threads = 0;
  int32_t min_window = 32;
  size_t top = 20;
  uint64_t max_document_bytes = 64ull << 20;
  // --dask: the same scan on a Dask cluster (python/telltale/dask.py, docs/dask.md).
  std::string dask, shard_dir;
  uint64_t partition_bytes = 0, buckets = 0;
};

// --dask ADDRESS: execs /usr/bin/python3 running telltale.dask with the
// parsed arguments (the Python client drives the cluster; the workers run
// this same native scan). Returns only on failure. The package is found
// through $PYTHONPATH, else next to this binary's build tree
// (<build>/cli/telltale -> <build>/python).
Status ExecDaskScan(const ScanArgs& a) {
  for (const auto& [given, name] : {std::pair{!a.csv.empty(), "--csv"}, {!a.html.empty(), "--html"},
                                    {a.json_text, "--json-text"}, {!a.spill_dir.empty(), "--spill-dir"},
                                    {a.memory != "1G", "--memory"}, {a.top != 20, "--top"}}) {
    if (given) return Status::InvalidArgument(std::string(name) + " is not supported with --dask (use --json)");
  }
  const char* python = "/usr/bin/python3";
  if (::access(python, X_OK) != 0) {
    return Status::FailedPrecondition("--dask needs /usr/bin/python3 with python3-distributed (apt install python3-distributed)");
  }
  char alpha[64];
  std::snprintf(alpha, sizeof alpha, "%.17g", a.alpha);  // round-trips exactly
  std::vector<std::string> args = {python, "-c",
      "import sys\n"
      "try:\n"
      "    from telltale import dask as d\n"
      "    import distributed\n"
      "except ImportError as e:\n"
      "    sys.stderr.write('telltale: scan --dask: cannot import the Dask client (%s); install python3-distributed "
      "and put the telltale package on PYTHONPATH\\n' % e)\n"
      "    sys.exit(2)\n"
      "sys.exit(d.main(sys.argv[1:]))\n",
      "--dask", a.dask, "--tokenizer", a.tokenizer, "--scheme", a.scheme, "--format", a.format, "--field", a.field,
      "--alpha", alpha, "--min-window", std::to_string(a.min_window),
      "--max-document-bytes", std::to_string(a.max_document_bytes),
      "--threads", std::to_string(a.threads > 0 ? a.threads : 1)};
  for (const std::string& k : a.keys) args.insert(args.end(), {"--key", k});
  if (!a.keys_dir.empty()) args.insert(args.end(), {"--keys-dir", a.keys_dir});
  for (const std::string& g : a.include) args.insert(args.end(), {"--include", g});
  for (const std::string& g : a.exclude) args.insert(args.end(), {"--exclude", g});
  if (!a.normalize.empty()) args.insert(args.end(), {"--normalize", a.normalize});
  if (a.lines) args.push_back("--lines");
  if (a.json) args.push_back("--json");
  if (a.window) args.push_back("--window");
  if (a.no_progress) args.push_back("--no-progress");
  if (!a.shard_dir.empty()) args.insert(args.end(), {"--shard-dir", a.shard_dir});
  if (a.partition_bytes > 0) args.insert(args.end(), {"--partition-bytes", std::to_string(a.partition_bytes)});
  if (a.buckets > 0) args.insert(args.end(), {"--buckets", std::to_string(a.buckets)});
  args.push_back("--");
  args.insert(args.end(), a.paths.begin(), a.paths.end());

  const char* pp = std::getenv("PYTHONPATH");
  if (pp == nullptr || *pp == '\0') {
    char exe[4096];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
      std::string dir(exe, static_cast<size_t>(n));
      dir = dir.substr(0, dir.find_last_of('/'));            // <build>/cli
      dir = dir.substr(0, dir.find_last_of('/')) + "/python";  // <build>/python
      if (::access((dir + "/telltale/dask.py").c_str(), R_OK) == 0) ::setenv("PYTHONPATH", dir.c_str(), 1);
    }
  }
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  ::execv(python, argv.data());
  return Status::Unavailable(std::string("--dask: cannot run ") + python + ": " + std::strerror(errno));
}

StatusOr<uint64_t> ParseSize(const std::string& s) {
  if (s.empty()) return Status::InvalidArgument("--memory: empty size");
  size_t pos = 0;
  uint64_t v = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (v > (UINT64_MAX - 9) / 10) return Status::InvalidArgument("--memory: '" + s + "' is too large");
    v = v * 10 + static_cast<uint64_t>(s[pos++] - '0');
  }
  if (pos == 0) return Status::InvalidArgument("--memory: '" + s + "' is not a size (e.g. 512M, 2G)");
  std::string unit = s.substr(pos);
  int shift = 0;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "K" || unit == "KiB" || unit == "k") shift = 10;
  else if (unit == "M" || unit == "MiB") shift = 20;
  else if (unit == "G" || unit == "GiB") shift = 30;
  else return Status::InvalidArgument("--memory: unknown unit '" + unit + "' (use K, M or G)");
  if (shift > 0 && v > (UINT64_MAX >> shift)) return Status::InvalidArgument("--memory: '" + s + "' is too large");
  return v << shift;
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string b = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = b.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? b : b.substr(0, dot);
}

StatusOr<std::vector<std::string>> ListKeyDir(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Status::NotFound("--keys-dir " + dir + ": cannot open directory");
  std::vector<std::string> files;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;
    const std::string path = dir + "/" + name;
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) files.push_back(path);
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  if (files.empty()) return Status::NotFound("--keys-dir " + dir + ": no key files");
  return files;
}

// Progress line on stderr (only on a terminal): bytes, documents, MB/s, ETA.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  void Update(const scan::ScanProgress& p) {
    if (!enabled_ || p.seconds - last_ < 0.2) return;
    last_ = p.seconds;
    const double mb = static_cast<double>(p.input_bytes) / 1e6;
    const double rate = p.seconds > 0 ? mb / p.seconds : 0;
    char eta[48] = "";
    if (p.total_disk_bytes > 0 && p.disk_bytes > 0 && p.disk_bytes <= p.total_disk_bytes) {
      const double frac = static_cast<double>(p.disk_bytes) / static_cast<double>(p.total_disk_bytes);
      const double left = frac > 0 ? p.seconds * (1 - frac) / frac : 0;
      std::snprintf(eta, sizeof eta, "  %3.0f%%  ETA %.0fs", 100 * frac, left);
    }
    std::fprintf(stderr, "\r\x1b[K  %.1f MB  %" PRIu64 " docs  %.1f MB/s%s", mb, p.documents, rate, eta);
    std::fflush(stderr);
    shown_ = true;
  }
  void Clear() {
    if (shown_) std::fprintf(stderr, "\r\x1b[K");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  double last_ = -1;
};

StatusOr<int> RunScanCommand(const ScanArgs& a) {
  if (!a.dask.empty()) {
    TT_RETURN_IF_ERROR(ExecDaskScan(a));
  } else if (!a.shard_dir.empty() || a.partition_bytes > 0 || a.buckets > 0) {
    return Status::InvalidArgument("--shard-dir, --partition-bytes and --buckets need --dask ADDRESS");
  }
  if (a.paths.empty()) return Status::InvalidArgument("scan: give at least one path (or - for stdin)");
  if (a.keys.empty() && a.keys_dir.empty()) return Status::InvalidArgument("scan: give --key FILE or --keys-dir DIR");
  if (!(a.alpha > 0 && a.alpha < 1)) return Status::InvalidArgument("--alpha must lie in (0, 1)");
  if (a.min_window < 1) return Status::InvalidArgument("--min-window must be >= 1");
  TT_ASSIGN_OR_RETURN(SchemeSpec spec, SchemeSpec::Parse(a.scheme));

  scan::ScanConfig cfg;
  cfg.input.paths = a.paths;
  cfg.input.include_globs = a.include;
  cfg.input.exclude_globs = a.exclude;
  TT_ASSIGN_OR_RETURN(cfg.input.format, scan::ParseInputFormat(a.format));
  if (a.lines) cfg.input.format = scan::InputFormat::kLines;
  cfg.input.field = a.field;
  cfg.input.max_document_bytes = a.max_document_bytes;
  if (!a.normalize.empty()) {
    TT_ASSIGN_OR_RETURN(cfg.normalize, scan::NormalizeOptions::Parse(a.normalize));
  }
  {
    // The normalizer's character tables (ICU, a tenth of the start-up) are
    // built on another core while the tokenizer loads.
    std::jthread tables;
    if (cfg.normalize.strip_invisible || cfg.normalize.map_confusables) {
      tables = std::jthread([] { (void)scan::CharTables::Get(); });
    }
    TT_ASSIGN_OR_RETURN(cfg.tokenizer, tokenize::Tokenizer::Load(a.tokenizer));
  }
  cfg.detect.window_search = a.window;
  cfg.detect.min_window = a.min_window;
  cfg.alpha = a.alpha;
  cfg.threads = a.threads > 0 ? a.threads : std::max(1u, std::thread::hardware_concurrency());
  cfg.corpus.spill_dir = a.spill_dir;
  TT_ASSIGN_OR_RETURN(cfg.corpus.memory_limit_bytes, ParseSize(a.memory));

  std::vector<std::string> key_paths = a.keys;
  if (!a.keys_dir.empty()) {
    TT_ASSIGN_OR_RETURN(std::vector<std::string> more, ListKeyDir(a.keys_dir));
    key_paths.insert(key_paths.end(), more.begin(), more.end());
  }
  std::vector<Detector> owned;
  scan::ReportParams params;
  for (const std::string& path : key_paths) {
    TT_ASSIGN_OR_RETURN(KeyFile kf, LoadKeyFile(path));
    TT_ASSIGN_OR_RETURN(Detector det, Detector::Create(kf.key, spec));
    params.keys.push_back({det.key_id(), kf.kind == KeyFile::Kind::kDerived ? kf.labels.tenant : BaseName(path)});
    owned.push_back(std::move(det));
  }
  for (const Detector& d : owned) cfg.detectors.push_back(&d);
  params.scheme = spec.ToString();
  params.normalization = cfg.normalize.Describe();
  params.tokenizer = cfg.tokenizer->kind();
  params.inputs = a.paths;
  params.alpha = a.alpha;
  params.window = a.window;
  params.min_window = a.min_window;
  params.json_text = a.json_text;
  const bool want_html = !a.html.empty();
  cfg.keep_text = want_html || a.json_text || a.json;  // --json span texts need the document bytes
  cfg.token_view = want_html;

  std::string csv;
  if (!a.csv.empty()) csv = scan::CsvHeader();
  scan::HtmlReport html(a.top);
  auto emit = [&](const std::string& line) -> Status {
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() || std::fputc('\n', stdout) == EOF) {
      return Status::Unavailable("cannot write to stdout");
    }
    return Status::Ok();
  };
  if (a.json) TT_RETURN_IF_ERROR(emit(scan::BeginRecord(params)));

  auto sink = [&](scan::DocumentResult&& r) -> Status {
    if (a.json) TT_RETURN_IF_ERROR(emit(scan::ItemRecord(r, params)));
    if (!a.csv.empty()) csv += scan::CsvRow(r, params);
    if (r.kind == scan::ResultKind::kError && !a.json) {
      std::fprintf(stderr, "telltale: scan: %s%s%s: %s\n", r.source.c_str(), r.line ? ":" : "",
                   r.line ? std::to_string(r.line).c_str() : "", r.reason.c_str());
    }
    html.Add(r);
    return Status::Ok();
  };
  ProgressBar bar(!a.no_progress && cli::StderrIsTerminal());
  auto progress = [&](const scan::ScanProgress& p) { bar.Update(p); };

  g_interrupted.store(false);
  struct sigaction sa = {}, old = {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  // A second Ctrl-C terminates at once. SA_RESTART: this thread is the
  // emitter, and a Ctrl-C while it waits on a full stdout pipe (`| less`)
  // must not fail that write with EINTR, which lost the partial summary
  // and exited 2 instead of 130.
  sa.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGINT, &sa, &old);
  cfg.stop = &g_interrupted;
  StatusOr<scan::ScanSummary> summary_or = scan::RunScan(cfg, sink, progress);
  sigaction(SIGINT, &old, nullptr);
  bar.Clear();
  if (!summary_or.ok()) return summary_or.status();
  scan::ScanSummary& s = *summary_or;

  if (a.json) {
    if (s.partial && s.stop_reason != "interrupted") {
      nlohmann::json err;
      err["type"] = "error";
      err["data"] = {{"index", s.items}, {"source", ""}, {"line", 0}};
      scan::SetBytesField(err["data"], "reason", s.stop_reason);
      TT_RETURN_IF_ERROR(emit(err.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
    }
    TT_RETURN_IF_ERROR(emit(scan::SummaryRecord(s, params)));
  }
  std::fflush(stdout);
  if (!a.csv.empty()) TT_RETURN_IF_ERROR(WriteFileAtomically(a.csv, csv));
  if (want_html) TT_RETURN_IF_ERROR(WriteFileAtomically(a.html, html.Render(s, params)));
  const std::string table = scan::TerminalSummary(s, params, html.top());
  std::fputs(table.c_str(), a.json ? stderr : stdout);
  if (s.failed > 0) {
    std::fprintf(stderr, "telltale: scan finished with %" PRIu64 " error%s (see the error records)\n", s.failed,
                 s.failed == 1 ? "" : "s");
  }
  if (s.partial && s.stop_reason == "interrupted") return 130;
  if (s.failed > 0) return cli::kExitError;
  return s.detected > 0 || s.corpus_detected ? cli::kExitFound : cli::kExitNotFound;
}

void SetupScanCommand(CLI::App& root, cli::RunResult& result) {
  auto a = std::make_shared<ScanArgs>();
  CLI::App* c = root.add_subcommand(
      "scan", "Scan a corpus for watermarks: per document and corpus-wide; exit 0 detected, 1 none, 2 errors, 130 interrupted");
  c->add_option("paths", a->paths, "Files and directories to scan (- for stdin)")->required();
  c->add_option("--tokenizer", a->tokenizer, "Tokenizer: tokenizer.json, tiktoken rank file or GGUF")->required();
  c->add_option("--key", a->keys, "Key file (repeat: one per tenant)")->allow_extra_args(false);
  c->add_option("--keys-dir", a->keys_dir, "Directory of key files (all regular files, sorted by name)");
  c->add_option("--scheme", a->scheme, "Scheme spec, e.g. kgw:gamma=0.25,delta=2,h=1")->required();
  c->add_option("--format", a->format, "auto | text | lines | jsonl | csv | tsv (default auto, by extension)");
  c->add_flag("--lines", a->lines, "One document per line (same as --format lines)");
  c->add_option("--field", a->field, "JSONL field (dotted path) or CSV/TSV column (name or 1-based index)");
  c->add_option("--include", a->include, "Glob of files to scan inside directories (repeatable)")->allow_extra_args(false);
  c->add_option("--exclude", a->exclude, "Glob of files to skip inside directories (repeatable)")->allow_extra_args(false);
  c->add_option("--normalize", a->normalize,
                "Normalization before tokenization, e.g. nfc,strip-invisible,confusables (default) or none");
  c->add_option("--alpha", a->alpha, "Target false-positive rate of every verdict (default 1e-3)");
  c->add_option("--threads", a->threads, "Worker threads (default: all cores)");
  c->add_flag("--json", a->json, "JSON Lines on stdout: begin, document, error and summary records");
  c->add_flag("--json-text", a->json_text, "With --json: include each document's full text");
  c->add_option("--csv", a->csv, "Write one CSV row per input item to FILE (atomically)");
  c->add_option("--html", a->html, "Write a self-contained HTML report to FILE (atomically)");
  c->add_option("--top", a->top, "Documents shown in the HTML report and summary (default 20)");
  c->add_flag("--window", a->window, "Also search windows for partly watermarked text (Bonferroni-corrected)");
  c->add_option("--min-window", a->min_window, "Smallest window in scored tokens (default 32)");
  c->add_flag("--no-progress", a->no_progress, "No progress bar (it is shown only on a terminal anyway)");
  c->add_option("--spill-dir", a->spill_dir, "Where the corpus dedup set spills to disk (default $TMPDIR)");
  c->add_option("--memory", a->memory, "Memory budget of the corpus dedup set (default 1G)");
  c->add_option("--max-document-bytes", a->max_document_bytes, "Longer documents are error records (default 64 MiB)");
  c->add_option("--dask", a->dask, "Run on a Dask cluster: scheduler address, e.g. tcp://10.0.0.1:8786 (docs/dask.md)");
  c->add_option("--shard-dir", a->shard_dir, "With --dask: shared directory for per-partition shards (reused on re-runs)");
  c->add_option("--partition-bytes", a->partition_bytes, "With --dask: split larger lines/JSONL files (default 64 MiB)");
  c->add_option("--buckets", a->buckets, "With --dask: shuffle buckets of the corpus test (1-256, default 16)");
  c->callback([&result, a] { cli::RunCommand(result, [&] { return RunScanCommand(*a); }); });
}

}  // namespace
}  // namespace telltale

TELLTALE_REGISTER_CLI(40, telltale::SetupScanCommand);
