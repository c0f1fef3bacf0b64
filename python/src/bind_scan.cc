// Scan binding (scan/scanner.h): telltale.scan(...) runs the same pipeline as
// `telltale scan` (readers, normalization, tokenization, per-key detection
// with Holm attribution, the corpus-wide test) and returns every per-item
// result, the summary, and the exact JSON Lines records the CLI's --json
// prints, rendered by the same code (scan/scan_report.h).
//
// The GIL is released for the whole scan; results are gathered in C++ and
// converted afterwards. Thread-safety: each call is independent.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "errors.h"
#include "scan/scan_report.h"
#include "scan/scanner.h"

namespace telltale::python {
namespace {

namespace py = pybind11;

const char* KindName(scan::ResultKind k) {
  switch (k) {
    case scan::ResultKind::kDocument: return "document";
    case scan::ResultKind::kSkipped: return "skipped";
    case scan::ResultKind::kError: return "error";
  }
  return "error";
}

py::dict DocumentDict(const scan::DocumentResult& r) {
  py::dict d;
  d["kind"] = KindName(r.kind);
  d["index"] = r.index;
  d["source"] = r.source;
  d["line"] = r.line;
  d["reason"] = r.reason;
  d["input_bytes"] = r.input_bytes;
  d["bytes"] = r.bytes;
  d["tokens"] = r.tokens;
  d["scored"] = r.scored;
  d["score"] = r.score;
  d["expected"] = r.expected;
  d["z"] = r.z;
  d["log10_p"] = r.log10_p;
  d["log10_p_raw"] = r.log10_p_raw;
  d["decision_log10_p"] = r.decision_log10_p;
  d["detected"] = r.detected;
  d["best_key"] = r.best_key;
  py::list keys;
  for (const scan::KeyScore& k : r.keys) keys.append(py::make_tuple(k.log10_p, k.log10_p_holm));
  d["keys"] = keys;
  if (r.window) {
    py::dict w;
    w["begin"] = r.window->begin;
    w["end"] = r.window->end;
    w["scored"] = r.window->scored;
    w["windows_tested"] = r.window->windows_tested;
    w["score"] = r.window->score;
    w["log10_p"] = r.window->log10_p;
    w["log10_p_corrected"] = r.window->log10_p_corrected;
    d["window"] = w;
  } else {
    d["window"] = py::none();
  }
  py::list spans;
  for (const scan::Span& s : r.spans) spans.append(py::make_tuple(s.begin, s.end));
  d["spans"] = spans;
  return d;
}

py::dict SummaryDict(const scan::ScanSummary& s) {
  py::dict d;
  d["items"] = s.items;
  d["documents"] = s.documents;
  d["skipped"] = s.skipped;
  d["failed"] = s.failed;
  d["detected"] = s.detected;
  d["bytes"] = s.bytes;
  d["input_bytes"] = s.input_bytes;
  d["tokens"] = s.tokens;
  d["detected_per_key"] = s.detected_per_key;
  d["corpus_detected"] = s.corpus_detected;
  d["partial"] = s.partial;
  d["stop_reason"] = s.stop_reason;
  d["seconds"] = s.seconds;
  py::dict c;
  c["documents"] = s.corpus.documents;
  c["tokens_seen"] = s.corpus.tokens_seen;
  c["unique_tuples"] = s.corpus.unique_tuples;
  c["best_key"] = s.corpus.best_key;
  py::list keys;
  for (const CorpusKeyResult& k : s.corpus.keys) {
    py::dict kd;
    kd["key_id"] = k.key_id;
    kd["scored"] = k.scored;
    kd["score"] = k.score;
    kd["p_value"] = k.p_value;
    kd["log10_p"] = k.log10_p;
    kd["holm_p"] = k.holm_p;
    kd["holm_log10_p"] = k.holm_log10_p;
    keys.append(kd);
  }
  c["keys"] = keys;
  d["corpus"] = c;
  return d;
}

struct ScanArgs {
  std::vector<std::string> paths;
  std::vector<std::shared_ptr<PyKey>> keys;
  std::vector<std::string> names;
  std::string tokenizer, format, field, normalize, spill_dir;
  std::vector<std::string> include, exclude;
  double alpha = 1e-3;
  unsigned threads = 1;
  bool window = false;
  int32_t min_window = 32;
  uint64_t memory_bytes = 1ull << 30, max_document_bytes = 64ull << 20;
};

py::tuple RunScanFromPython(const ScanArgs& a, py::handle scheme_obj) {
  if (a.paths.empty()) ThrowInvalid("scan: give at least one path (or '-' for stdin)");
  if (a.keys.empty()) ThrowInvalid("scan: give at least one key");
  if (!a.names.empty() && a.names.size() != a.keys.size()) {
    ThrowInvalid("scan: names has " + std::to_string(a.names.size()) + " entries for " + std::to_string(a.keys.size()) +
                 " keys");
  }
  if (!(a.alpha > 0 && a.alpha < 1)) ThrowInvalid("alpha must lie in (0, 1)");
  if (a.min_window < 1) ThrowInvalid("min_window must be >= 1");
  if (a.threads < 1) ThrowInvalid("threads must be >= 1");
  const SchemeSpec spec = ToScheme(scheme_obj);

  scan::ScanConfig cfg;
  cfg.input.paths = a.paths;
  cfg.input.include_globs = a.include;
  cfg.input.exclude_globs = a.exclude;
  cfg.input.format = ValueOrThrow(scan::ParseInputFormat(a.format));
  cfg.input.field = a.field;
  cfg.input.max_document_bytes = a.max_document_bytes;
  if (!a.normalize.empty()) cfg.normalize = ValueOrThrow(scan::NormalizeOptions::Parse(a.normalize));
  cfg.tokenizer = ValueOrThrow(tokenize::Tokenizer::Load(a.tokenizer));
  cfg.detect.window_search = a.window;
  cfg.detect.min_window = a.min_window;
  cfg.alpha = a.alpha;
  cfg.threads = a.threads;
  cfg.corpus.spill_dir = a.spill_dir;
  cfg.corpus.memory_limit_bytes = a.memory_bytes;
  cfg.keep_text = true;  // the JSON records' span texts need the document bytes

  std::vector<Detector> owned;
  scan::ReportParams params;
  for (size_t i = 0; i < a.keys.size(); ++i) {
    if (!a.keys[i]) ThrowInvalid("keys[" + std::to_string(i) + "] is None");
    const KeyFile& kf = a.keys[i]->file;
    Detector det = ValueOrThrow(Detector::Create(kf.key, spec));
    std::string name = !a.names.empty() ? a.names[i]
                       : kf.kind == KeyFile::Kind::kDerived ? kf.labels.tenant
                                                            : "key" + std::to_string(i);
    params.keys.push_back({det.key_id(), std::move(name)});
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

  std::vector<scan::DocumentResult> results;
  std::vector<std::string> records;
  StatusOr<scan::ScanSummary> summary = Status::Internal("scan did not run");
  {
    py::gil_scoped_release nogil;
    records.push_back(scan::BeginRecord(params));
    auto sink = [&](scan::DocumentResult&& r) -> Status {
      records.push_back(scan::ItemRecord(r, params));
      r.text.clear();  // only the records need it; do not keep a corpus in memory
      r.token_view.clear();
      results.push_back(std::move(r));
      return Status::Ok();
    };
    summary = scan::RunScan(cfg, sink, [](const scan::ScanProgress&) {});
    if (summary.ok()) records.push_back(scan::SummaryRecord(*summary, params));
  }
  ThrowIfError(summary.status());

  py::list docs;
  for (const scan::DocumentResult& r : results) docs.append(DocumentDict(r));
  py::list key_info;
  for (const scan::KeyInfo& k : params.keys) key_info.append(py::make_tuple(k.key_id, k.name));
  return py::make_tuple(docs, SummaryDict(*summary), records, key_info);
}

}  // namespace

void RegisterScan(py::module_& m) {
  m.def(
      "_scan",
      [](std::vector<std::string> paths, std::vector<std::shared_ptr<PyKey>> keys, py::handle scheme,
         std::string tokenizer, std::vector<std::string> names, std::string format, std::string field,
         std::vector<std::string> include, std::vector<std::string> exclude, std::string normalize, double alpha,
         unsigned threads, bool window, int32_t min_window, std::string spill_dir, uint64_t memory_bytes,
         uint64_t max_document_bytes) {
        ScanArgs a;
        a.paths = std::move(paths);
        a.keys = std::move(keys);
        a.names = std::move(names);
        a.tokenizer = std::move(tokenizer);
        a.format = std::move(format);
        a.field = std::move(field);
        a.include = std::move(include);
        a.exclude = std::move(exclude);
        a.normalize = std::move(normalize);
        a.alpha = alpha;
        a.threads = threads;
        a.window = window;
        a.min_window = min_window;
        a.spill_dir = std::move(spill_dir);
        a.memory_bytes = memory_bytes;
        a.max_document_bytes = max_document_bytes;
        return RunScanFromPython(a, scheme);
      },
      py::arg("paths"), py::arg("keys"), py::arg("scheme"), py::arg("tokenizer"), py::arg("names"),
      py::arg("format"), py::arg("field"), py::arg("include"), py::arg("exclude"), py::arg("normalize"),
      py::arg("alpha"), py::arg("threads"), py::arg("window"), py::arg("min_window"), py::arg("spill_dir"),
      py::arg("memory_bytes"), py::arg("max_document_bytes"),
      "Runs `telltale scan`; returns (documents, summary, json_records, keys). Use telltale.scan().");
  RegisterScanDask(m);
}

}  // namespace telltale::python
