// Radioactivity audit bindings: ContextSketch (the generation-side record)
// and AuditScorer (TupleScorer: dedup, exclusion, sketch filter, controls,
// early stopping). The pure-Python driver is telltale/audit.py.
//
// Token arrays arrive as any integer sequence and are range-checked into
// int32 (an id outside [0, 2^31) is an InvalidArgumentError naming its
// position, never a silent wrap). Logits are borrowed as float32 C-order
// arrays; the top-1 is taken natively with the GIL released.
// Thread-safety: an AuditScorer keeps its sketch alive and reads it without
// the GIL inside add_logits, so do not record into a sketch from another
// thread while a scorer that filters on it is running.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <limits>
#include <memory>
#include <vector>

#include "audit/tuple_scorer.h"
#include "bindings.h"
#include "errors.h"
#include "watermark/context_sketch.h"

namespace telltale::python {
namespace {

namespace py = pybind11;

struct PySketch {
  ContextSketch sketch;
};

struct PyScorer {
  std::unique_ptr<TupleScorer> scorer;
  std::shared_ptr<PySketch> sketch;  // kept alive for the filter
};

std::vector<int32_t> ToTokens(py::handle obj, const char* what) {
  py::array_t<int64_t, py::array::c_style | py::array::forcecast> a =
      py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!a) throw StatusError(Status::InvalidArgument(std::string(what) + " must be a sequence of integer token ids"));
  if (a.ndim() != 1) {
    throw StatusError(Status::InvalidArgument(std::string(what) + " must be 1-D, got " + std::to_string(a.ndim()) +
                                              "-D"));
  }
  std::vector<int32_t> out(static_cast<size_t>(a.shape(0)));
  const int64_t* p = a.data();
  for (size_t i = 0; i < out.size(); ++i) {
    if (p[i] < 0 || p[i] > std::numeric_limits<int32_t>::max()) {
      throw StatusError(Status::InvalidArgument(std::string(what) + " token at position " + std::to_string(i) +
                                                " is out of range (" + std::to_string(p[i]) + ")"));
    }
    out[i] = static_cast<int32_t>(p[i]);
  }
  return out;
}

SketchKind ParseKind(const std::string& kind) {
  if (kind == "exact") return SketchKind::kExact;
  if (kind == "bloom") return SketchKind::kBloom;
  throw StatusError(Status::InvalidArgument("sketch kind '" + kind + "' is not one of exact, bloom"));
}

py::dict ScoresDict(const AuditScores& s) {
  py::list keys;
  for (const KeyScore& k : s.keys) {
    py::dict d;
    d["key_id"] = k.key_id;
    d["control"] = k.control;
    d["scored"] = k.scored;
    d["score"] = k.score;
    d["expected"] = k.expected;
    d["z"] = k.z;
    d["log10_p"] = k.log10_p;
    d["holm_log10_p"] = k.holm_log10_p;
    keys.append(d);
  }
  py::dict counts;
  counts["positions"] = s.counts.positions;
  counts["no_context"] = s.counts.no_context;
  counts["ignored"] = s.counts.ignored;
  counts["excluded"] = s.counts.excluded;
  counts["filtered"] = s.counts.filtered;
  counts["duplicate"] = s.counts.duplicate;
  counts["scored"] = s.counts.scored;
  py::dict out;
  out["keys"] = keys;
  out["best"] = s.best;
  out["counts"] = counts;
  out["looks"] = s.looks;
  out["sequential_log10_p"] = s.sequential_log10_p;
  return out;
}

}  // namespace

void RegisterAudit(py::module_& m) {
  py::class_<PySketch, std::shared_ptr<PySketch>>(m, "ContextSketch", R"doc(
Keyed record of the watermark contexts a generator emitted (docs/audit.md).

ContextSketch(key, scheme, kind="exact", expected_contexts=1<<20, false_positive_rate=1e-3)
kind "exact" stores 64-bit keyed fingerprints; "bloom" a Bloom filter sized
for expected_contexts at the given rate. Left-seeded kgw and gumbel only.)doc")
      .def(py::init([](const PyKey& key, py::handle scheme, const std::string& kind, uint64_t expected,
                       double fpr) {
             SketchOptions o;
             o.kind = ParseKind(kind);
             o.expected_contexts = expected;
             o.target_fpr = fpr;
             return std::make_shared<PySketch>(
                 PySketch{ValueOrThrow(ContextSketch::Create(key.file.key, ToScheme(scheme), o))});
           }),
           py::arg("key"), py::arg("scheme"), py::arg("kind") = "exact", py::arg("expected_contexts") = 1 << 20,
           py::arg("false_positive_rate") = 1e-3)
      .def_static(
          "load",
          [](const std::string& path, const PyKey& key, py::handle scheme) {
            return std::make_shared<PySketch>(
                PySketch{ValueOrThrow(ContextSketch::Load(path, key.file.key, ToScheme(scheme)))});
          },
          py::arg("path"), py::arg("key"), py::arg("scheme"))
      .def(
          "record",
          [](PySketch& s, py::handle tokens, int64_t prompt_tokens) {
            ThrowIfError(s.sketch.Record(ToTokens(tokens, "sequence"), prompt_tokens));
          },
          py::arg("tokens"), py::arg("prompt_tokens") = 0,
          "Records the contexts of every watermarked position of a generated sequence (prompt excluded).")
      .def("add", [](PySketch& s, uint64_t ctx) { s.sketch.Add(ctx); }, py::arg("context_hash"))
      .def("may_contain", [](const PySketch& s, uint64_t ctx) { return s.sketch.MayContain(ctx); },
           py::arg("context_hash"))
      .def("merge", [](PySketch& s, const PySketch& o) { ThrowIfError(s.sketch.Merge(o.sketch)); }, py::arg("other"))
      .def("save", [](const PySketch& s, const std::string& path) { ThrowIfError(s.sketch.Save(path)); },
           py::arg("path"), "Writes the sketch atomically.")
      .def("to_bytes", [](const PySketch& s) { return py::bytes(s.sketch.Serialize()); })
      .def_property_readonly("digest", [](const PySketch& s) { return s.sketch.Digest(); })
      .def_property_readonly("size", [](const PySketch& s) { return s.sketch.size(); })
      .def_property_readonly("kind",
                             [](const PySketch& s) { return s.sketch.kind() == SketchKind::kExact ? "exact" : "bloom"; })
      .def_property_readonly("false_positive_rate", [](const PySketch& s) { return s.sketch.false_positive_rate(); })
      .def_property_readonly("key_id", [](const PySketch& s) { return s.sketch.key_id(); });

  py::class_<PyScorer, std::shared_ptr<PyScorer>>(m, "AuditScorer", R"doc(
Radioactivity test over (context, token) tuples (docs/audit.md): global
dedup, prompt/prefix exclusion, optional sketch filter, fresh control keys.)doc")
      .def(py::init([](const std::vector<std::shared_ptr<PyKey>>& keys, py::handle scheme, int control_keys,
                       std::shared_ptr<PySketch> sketch, std::vector<int32_t> ignore_ids) {
             std::vector<const SecretKey*> ks;
             for (const auto& k : keys) {
               if (!k) throw StatusError(Status::InvalidArgument("keys must be telltale.Key objects"));
               ks.push_back(&k->file.key);
             }
             const SchemeSpec spec = ToScheme(scheme);
             TupleScorerOptions o;
             o.control_keys = control_keys;
             o.ignore_ids = std::move(ignore_ids);
             if (sketch) {
               if (sketch->sketch.spec().PrfIdentity() != spec.PrfIdentity()) {
                 throw StatusError(Status::InvalidArgument("sketch was recorded for " +
                                                           sketch->sketch.spec().PrfIdentity() + ", not " +
                                                           spec.PrfIdentity()));
               }
               const ContextSketch* raw = &sketch->sketch;
               o.context_filter = [raw](uint64_t c) { return raw->MayContain(c); };
             }
             auto t = ValueOrThrow(TupleScorer::Create(ks, spec, std::move(o)));
             return std::make_shared<PyScorer>(PyScorer{std::make_unique<TupleScorer>(std::move(t)), sketch});
           }),
           py::arg("keys"), py::arg("scheme"), py::arg("control_keys") = 1, py::arg("sketch") = nullptr,
           py::arg("ignore_ids") = std::vector<int32_t>{})
      .def(
          "exclude", [](PyScorer& s, py::handle tokens) { ThrowIfError(s.scorer->Exclude(ToTokens(tokens, "prompt"))); },
          py::arg("tokens"), "Excludes every (context, token) tuple of a prompt shown to the suspect.")
      .def(
          "add_sequence",
          [](PyScorer& s, py::handle tokens, int64_t prompt_tokens) {
            ThrowIfError(s.scorer->AddSequence(ToTokens(tokens, "text"), prompt_tokens));
          },
          py::arg("tokens"), py::arg("prompt_tokens") = 0)
      .def(
          "add_predictions",
          [](PyScorer& s, py::handle inputs, py::handle predicted, int64_t first_position) {
            ThrowIfError(s.scorer->AddPredictions(ToTokens(inputs, "input"), ToTokens(predicted, "predicted"),
                                                  first_position));
          },
          py::arg("inputs"), py::arg("predicted"), py::arg("first_position") = 0)
      .def(
          "add_logits",
          [](PyScorer& s, py::handle inputs, py::array_t<float, py::array::c_style | py::array::forcecast> logits,
             int64_t first_position) {
            const std::vector<int32_t> in = ToTokens(inputs, "input");
            if (logits.ndim() != 2) {
              throw StatusError(Status::InvalidArgument("logits must be 2-D [tokens, vocab], got " +
                                                        std::to_string(logits.ndim()) + "-D"));
            }
            const float* p = logits.data();
            const int64_t rows = logits.shape(0), vocab = logits.shape(1);
            Status st;
            {
              py::gil_scoped_release release;
              st = s.scorer->AddLogits(in, p, rows, vocab, vocab, first_position);
            }
            ThrowIfError(st);
          },
          py::arg("inputs"), py::arg("logits"), py::arg("first_position") = 0,
          "Reading mode: row j of logits predicts the token after inputs[0..j]; the top-1 is scored.")
      .def("look", [](PyScorer& s, double target) { return s.scorer->Look(target); }, py::arg("target_log10_p"),
           "Early-stopping check at geometric checkpoints; True when the sequential p reached the target.")
      .def("scores", [](PyScorer& s) { return ScoresDict(s.scorer->Scores()); });
}

}  // namespace telltale::python
