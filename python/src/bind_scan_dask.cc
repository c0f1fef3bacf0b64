// Scale-out scan primitives for python/telltale/dask.py (docs/dask.md).
//
// A distributed scan is `telltale scan` cut into three native steps, so that
// no statistic is recomputed in Python and the result equals the
// single-machine scan bit for bit:
//   _scan_partition  one input partition (a file, or a line-aligned byte
//                    range of one): the exact `--json` item records (one
//                    bytes object, each record ending in LF), the
//                    summary counts, and the partition's unique corpus tuples
//                    (12-byte CorpusRecords sorted by (fp, token)) as a numpy
//                    uint8 array that owns its buffer (no copy).
//   _corpus_reduce   one bucket of the tuple shuffle: the union of the
//                    partitions' records for some top-byte partitions,
//                    deduplicated and scored with CorpusTest's own code.
//   _scan_finish     the corpus result from all buckets' per-partition sums
//                    (CorpusTest::ResultFromPartitions) and the begin and
//                    summary records rendered by scan/scan_report.cc.
// Plus _scan_inputs (the walker's ordered entry list) and _scan_entry_record
// (the record of a walker-level skipped/error entry).
//
// The GIL is released around native work. Thread-safety: calls are
// independent; nothing is shared between them.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "errors.h"
#include "scan/corpus_test.h"
#include "scan/input/input_walker.h"
#include "scan/scan_report.h"
#include "scan/scanner.h"

namespace telltale::python {
namespace {

namespace py = pybind11;
using Record = CorpusTest::Record;

struct Keys {
  std::vector<Detector> owned;
  std::vector<const Detector*> ptrs;
  std::vector<scan::KeyInfo> info;
};

// Names are given by the driver (computed once from the key files) so every
// worker labels the keys the same way.
Keys MakeKeys(const std::vector<std::shared_ptr<PyKey>>& keys, const std::vector<std::string>& names,
              const SchemeSpec& spec) {
  if (keys.empty()) ThrowInvalid("scan: give at least one key");
  if (names.size() != keys.size()) ThrowInvalid("scan: one name per key is required");
  Keys k;
  k.owned.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i]) ThrowInvalid("keys[" + std::to_string(i) + "] is None");
    k.owned.push_back(ValueOrThrow(Detector::Create(keys[i]->file.key, spec)));
    k.info.push_back({k.owned.back().key_id(), names[i]});
  }
  for (const Detector& d : k.owned) k.ptrs.push_back(&d);
  return k;
}

// A uint8 numpy array owning `records` (moved onto the heap, freed by the capsule).
py::array RecordsArray(std::vector<Record>&& records) {
  auto* owned = new std::vector<Record>(std::move(records));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<Record>*>(p); });
  return py::array_t<uint8_t>({static_cast<py::ssize_t>(owned->size() * sizeof(Record))},
                              reinterpret_cast<const uint8_t*>(owned->data()), free_when_done);
}

std::vector<Record> RecordsFrom(const py::array_t<uint8_t, py::array::c_style | py::array::forcecast>& a) {
  const py::ssize_t n = a.size();
  if (n % static_cast<py::ssize_t>(sizeof(Record)) != 0) {
    ThrowInvalid("corpus records: " + std::to_string(n) + " bytes is not a multiple of 12");
  }
  std::vector<Record> v(static_cast<size_t>(n) / sizeof(Record));
  if (n > 0) std::memcpy(v.data(), a.data(), static_cast<size_t>(n));
  return v;
}

py::dict CountsDict(const scan::ScanSummary& s) {
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
  d["partial"] = s.partial;
  d["stop_reason"] = s.stop_reason;
  d["corpus_documents"] = s.corpus.documents;
  d["tokens_seen"] = s.corpus.tokens_seen;
  return d;
}

struct PartitionArgs {
  std::string path, tokenizer, format, field, normalize;
  uint64_t range_begin = 0, range_end = UINT64_MAX;
  double alpha = 1e-3;
  unsigned threads = 1;
  bool window = false;
  int32_t min_window = 32;
  uint64_t max_document_bytes = 64ull << 20;
};

py::tuple ScanPartition(const PartitionArgs& a, const std::vector<std::shared_ptr<PyKey>>& keys,
                        const std::vector<std::string>& names, py::handle scheme_obj) {
  if (!(a.alpha > 0 && a.alpha < 1)) ThrowInvalid("alpha must lie in (0, 1)");
  if (a.min_window < 1) ThrowInvalid("min_window must be >= 1");
  if (a.threads < 1) ThrowInvalid("threads must be >= 1");
  const SchemeSpec spec = ToScheme(scheme_obj);
  Keys k = MakeKeys(keys, names, spec);

  scan::ScanConfig cfg;
  cfg.input.paths = {a.path};
  cfg.input.format = ValueOrThrow(scan::ParseInputFormat(a.format));
  cfg.input.field = a.field;
  cfg.input.max_document_bytes = a.max_document_bytes;
  cfg.input.range_begin = a.range_begin;
  cfg.input.range_end = a.range_end;
  if (!a.normalize.empty()) cfg.normalize = ValueOrThrow(scan::NormalizeOptions::Parse(a.normalize));
  cfg.tokenizer = ValueOrThrow(tokenize::Tokenizer::Load(a.tokenizer));
  cfg.detectors = k.ptrs;
  cfg.detect.window_search = a.window;
  cfg.detect.min_window = a.min_window;
  cfg.alpha = a.alpha;
  cfg.threads = a.threads;
  cfg.keep_text = true;  // span texts in the records
  // Each partition of the dedup set is handed over exactly once, by one
  // thread, so the per-partition vectors need no lock.
  std::vector<std::vector<Record>> parts(CorpusTest::kPartitions);
  cfg.corpus.partition_sink = [&parts](int p, std::span<const Record> recs) {
    parts[static_cast<size_t>(p)].assign(recs.begin(), recs.end());
  };

  scan::ReportParams params;
  params.keys = k.info;
  params.scheme = spec.ToString();
  params.alpha = a.alpha;
  params.window = a.window;
  params.min_window = a.min_window;

  std::string body;  // the shard: one record per line, built here to spare Python a str per record
  StatusOr<scan::ScanSummary> summary = Status::Internal("scan did not run");
  std::vector<Record> all;
  {
    py::gil_scoped_release nogil;
    auto sink = [&](scan::DocumentResult&& r) -> Status {
      body += scan::ItemRecord(r, params);
      body += '\n';
      return Status::Ok();
    };
    summary = scan::RunScan(cfg, sink, [](const scan::ScanProgress&) {});
    if (summary.ok()) {
      size_t n = 0;
      for (const auto& p : parts) n += p.size();
      all.reserve(n);
      // Partitions are top-byte ranges, so concatenating them in order keeps
      // the whole array sorted by (fp, token).
      for (auto& p : parts) {
        all.insert(all.end(), p.begin(), p.end());
        std::vector<Record>().swap(p);
      }
    }
  }
  ThrowIfError(summary.status());
  return py::make_tuple(py::bytes(body), CountsDict(*summary), RecordsArray(std::move(all)));
}

// Returns (partition ids, unique counts, per-key sums) for the partitions present.
py::tuple CorpusReduce(const py::array_t<uint8_t, py::array::c_style | py::array::forcecast>& arr,
                       const std::vector<std::shared_ptr<PyKey>>& keys, py::handle scheme_obj) {
  const SchemeSpec spec = ToScheme(scheme_obj);
  std::vector<std::string> names(keys.size());
  Keys k = MakeKeys(keys, names, spec);
  std::vector<Record> recs = RecordsFrom(arr);
  std::vector<int> ids;
  std::vector<uint64_t> unique;
  std::vector<std::vector<double>> sums;
  {
    py::gil_scoped_release nogil;
    CorpusTest::SortUniqueRecords(&recs);
    size_t b = 0;
    while (b < recs.size()) {
      const int p = CorpusTest::PartitionOf(recs[b].fp);
      size_t e = b;
      while (e < recs.size() && CorpusTest::PartitionOf(recs[e].fp) == p) ++e;
      std::vector<double> s;
      CorpusTest::ScoreRecords(k.ptrs, std::span<const Record>(recs.data() + b, e - b), &s);
      ids.push_back(p);
      unique.push_back(e - b);
      sums.push_back(std::move(s));
      b = e;
    }
  }
  return py::make_tuple(ids, unique, sums);
}

uint64_t U64(const py::dict& d, const char* name) {
  if (!d.contains(name)) ThrowInvalid(std::string("scan counts: missing '") + name + "'");
  return d[name].cast<uint64_t>();
}

py::tuple ScanFinish(const std::vector<std::shared_ptr<PyKey>>& keys, const std::vector<std::string>& names,
                     py::handle scheme_obj, const std::string& tokenizer, const std::string& normalize, double alpha,
                     bool window, int32_t min_window, const std::vector<std::string>& inputs, const py::dict& counts,
                     const std::vector<uint64_t>& part_unique, const std::vector<std::vector<double>>& part_sums) {
  const SchemeSpec spec = ToScheme(scheme_obj);
  Keys k = MakeKeys(keys, names, spec);
  if (part_unique.size() != static_cast<size_t>(CorpusTest::kPartitions) || part_sums.size() != part_unique.size()) {
    ThrowInvalid("scan finish: need 256 partition counts and sums");
  }
  for (const auto& s : part_sums) {
    if (s.size() != keys.size()) ThrowInvalid("scan finish: one sum per key in every partition");
  }
  scan::NormalizeOptions norm;
  if (!normalize.empty()) norm = ValueOrThrow(scan::NormalizeOptions::Parse(normalize));
  std::shared_ptr<const tokenize::Tokenizer> tok = ValueOrThrow(tokenize::Tokenizer::Load(tokenizer));

  scan::ReportParams params;
  params.keys = k.info;
  params.scheme = spec.ToString();
  params.normalization = norm.Describe();
  params.tokenizer = tok->kind();
  params.inputs = inputs;
  params.alpha = alpha;
  params.window = window;
  params.min_window = min_window;

  scan::ScanSummary s;
  s.items = U64(counts, "items");
  s.documents = U64(counts, "documents");
  s.skipped = U64(counts, "skipped");
  s.failed = U64(counts, "failed");
  s.detected = U64(counts, "detected");
  s.bytes = U64(counts, "bytes");
  s.input_bytes = U64(counts, "input_bytes");
  s.tokens = U64(counts, "tokens");
  s.detected_per_key = counts["detected_per_key"].cast<std::vector<uint64_t>>();
  if (s.detected_per_key.size() != keys.size()) ThrowInvalid("scan finish: detected_per_key needs one count per key");
  s.partial = counts["partial"].cast<bool>();
  s.stop_reason = counts["stop_reason"].cast<std::string>();
  s.corpus = CorpusTest::ResultFromPartitions(k.ptrs, U64(counts, "corpus_documents"), U64(counts, "tokens_seen"),
                                              part_unique, part_sums);
  s.corpus.partial = s.partial;
  const CorpusTestResult& c = s.corpus;
  // As RunScan decides it (scan/scanner.cc).
  s.corpus_detected = c.best_key >= 0 && c.unique_tuples > 0 &&
                      c.keys[static_cast<size_t>(c.best_key)].holm_log10_p <= std::log10(alpha);
  py::dict corpus;
  corpus["documents"] = c.documents;
  corpus["tokens_seen"] = c.tokens_seen;
  corpus["unique_tuples"] = c.unique_tuples;
  corpus["best_key"] = c.best_key;
  py::list ks;
  for (const CorpusKeyResult& r : c.keys) {
    py::dict kd;
    kd["key_id"] = r.key_id;
    kd["scored"] = r.scored;
    kd["score"] = r.score;
    kd["p_value"] = r.p_value;
    kd["log10_p"] = r.log10_p;
    kd["holm_p"] = r.holm_p;
    kd["holm_log10_p"] = r.holm_log10_p;
    ks.append(kd);
  }
  corpus["keys"] = ks;
  corpus["detected"] = s.corpus_detected;
  return py::make_tuple(corpus, scan::BeginRecord(params), scan::SummaryRecord(s, params));
}

const char* EntryKind(scan::InputEntry::Kind k) {
  switch (k) {
    case scan::InputEntry::Kind::kFile: return "file";
    case scan::InputEntry::Kind::kStdin: return "stdin";
    case scan::InputEntry::Kind::kSkipped: return "skipped";
    case scan::InputEntry::Kind::kError: return "error";
  }
  return "error";
}

}  // namespace

void RegisterScanDask(py::module_& m) {
  m.def(
      "_scan_inputs",
      [](std::vector<std::string> paths, std::vector<std::string> include, std::vector<std::string> exclude) {
        scan::InputOptions o;
        o.paths = std::move(paths);
        o.include_globs = std::move(include);
        o.exclude_globs = std::move(exclude);
        std::unique_ptr<scan::InputWalker> w;
        {
          py::gil_scoped_release nogil;
          w = ValueOrThrow(scan::InputWalker::Create(o));
        }
        py::list out;
        for (const scan::InputEntry& e : w->entries()) {
          out.append(py::make_tuple(EntryKind(e.kind), py::bytes(e.path), e.reason, e.size));
        }
        return out;
      },
      py::arg("paths"), py::arg("include"), py::arg("exclude"),
      "The scan's ordered input entries: [(kind, path bytes, reason, size)], kind file|stdin|skipped|error.");
  m.def(
      "_scan_entry_record",
      [](const std::string& kind, uint64_t index, py::bytes source, const std::string& reason) {
        scan::DocumentResult r;
        r.kind = kind == "skipped" ? scan::ResultKind::kSkipped : scan::ResultKind::kError;
        r.index = index;
        r.source = source;
        r.reason = reason;
        return scan::ItemRecord(r, scan::ReportParams{});
      },
      py::arg("kind"), py::arg("index"), py::arg("source"), py::arg("reason"),
      "The --json record of a walker-level skipped/error entry.");
  m.def(
      "_scan_partition",
      [](std::string path, uint64_t range_begin, uint64_t range_end, std::vector<std::shared_ptr<PyKey>> keys,
         std::vector<std::string> names, py::handle scheme, std::string tokenizer, std::string format,
         std::string field, std::string normalize, double alpha, unsigned threads, bool window, int32_t min_window,
         uint64_t max_document_bytes) {
        PartitionArgs a;
        a.path = std::move(path);
        a.range_begin = range_begin;
        a.range_end = range_end;
        a.tokenizer = std::move(tokenizer);
        a.format = std::move(format);
        a.field = std::move(field);
        a.normalize = std::move(normalize);
        a.alpha = alpha;
        a.threads = threads;
        a.window = window;
        a.min_window = min_window;
        a.max_document_bytes = max_document_bytes;
        return ScanPartition(a, keys, names, scheme);
      },
      py::arg("path"), py::arg("range_begin"), py::arg("range_end"), py::arg("keys"), py::arg("names"),
      py::arg("scheme"), py::arg("tokenizer"), py::arg("format"), py::arg("field"), py::arg("normalize"),
      py::arg("alpha"), py::arg("threads"), py::arg("window"), py::arg("min_window"), py::arg("max_document_bytes"),
      "Scans one partition: (item records with local index/line as LF-terminated bytes, counts, unique corpus "
      "records as uint8).");
  m.def("_corpus_reduce", &CorpusReduce, py::arg("records"), py::arg("keys"), py::arg("scheme"),
        "Dedups and scores one shuffle bucket: (partition ids, unique counts, per-key sums).");
  m.def("_scan_finish", &ScanFinish, py::arg("keys"), py::arg("names"), py::arg("scheme"), py::arg("tokenizer"),
        py::arg("normalize"), py::arg("alpha"), py::arg("window"), py::arg("min_window"), py::arg("inputs"),
        py::arg("counts"), py::arg("part_unique"), py::arg("part_sums"),
        "Corpus result, begin record and summary record from merged counts and per-partition sums.");
}

}  // namespace telltale::python
