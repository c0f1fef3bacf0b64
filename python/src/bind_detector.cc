// Detector, Detection and attribution bindings. Per-token arrays are numpy
// views into the Detection's own vectors (no copy); they keep it alive.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <thread>
#include <vector>

#include "bindings.h"
#include "detect/attribution.h"
#include "detect/detection_report.h"
#include "detect/detector.h"
#include "errors.h"

namespace telltale::python {
namespace {

namespace py = pybind11;

struct PyDetector {
  Detector det;
  std::string scheme;  // canonical string
};

struct PyDetection {
  Detection d;
  std::string key_id, scheme;
};

struct PyAttribution {
  std::vector<std::shared_ptr<PyDetection>> per_key;
  std::vector<double> holm_log10_p;
  size_t best = 0;
  double decision_log10_p = 0;  // as `telltale detect` decides (DecisionLog10P)
};

DetectOptions MakeOptions(int64_t prompt_tokens, const std::vector<int32_t>& ignore_ids, const std::string& dedup,
                          bool window_search, int32_t min_window, bool per_token) {
  DetectOptions o;
  o.dedup = ValueOrThrow(ParseDedupMode(dedup));
  o.prompt_tokens = prompt_tokens;
  o.ignore_ids = ignore_ids;
  o.window_search = window_search;
  o.min_window = min_window;
  o.per_token = per_token;
  return o;
}

std::shared_ptr<PyDetection> Wrap(Detection d, const PyDetector& det) {
  return std::make_shared<PyDetection>(PyDetection{std::move(d), det.det.key_id(), det.scheme});
}

template <typename T>
py::array VectorView(const std::vector<T>& v, py::handle owner) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()), v.data(), owner);
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

std::vector<std::shared_ptr<PyDetection>> ScoreBatch(const PyDetector& d, py::iterable seqs, const DetectOptions& o,
                                                     int threads) {
  std::vector<TokenIds> inputs;
  size_t i = 0;
  for (py::handle s : seqs) {
    const std::string what = "sequences[" + std::to_string(i++) + "]";
    inputs.push_back(TokenIds::From(s, what.c_str(), 0));
  }
  const size_t n = inputs.size();
  std::vector<StatusOr<Detection>> out(n, Status::Internal("not scored"));
  {
    py::gil_scoped_release nogil;
    const size_t workers = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(std::max(threads, 1)), n));
    auto work = [&](size_t w) {
      for (size_t k = w; k < n; k += workers) out[k] = d.det.Score(inputs[k].span(), o);
    };
    std::vector<std::thread> pool;
    for (size_t w = 1; w < workers; ++w) pool.emplace_back(work, w);
    work(0);
    for (std::thread& t : pool) t.join();
  }
  std::vector<std::shared_ptr<PyDetection>> result;
  for (size_t k = 0; k < n; ++k) {
    if (!out[k].ok()) throw StatusError(out[k].status().WithContext("sequences[" + std::to_string(k) + "]"));
    result.push_back(Wrap(std::move(out[k]).value(), d));
  }
  return result;
}

#define TT_DETECT_KWARGS                                                                                  \
  py::kw_only(), py::arg("prompt_tokens") = 0, py::arg("ignore_ids") = std::vector<int32_t>{},           \
      py::arg("dedup") = "context+token", py::arg("window_search") = false, py::arg("min_window") = 32, \
      py::arg("per_token") = true

}  // namespace

void RegisterDetector(py::module_& m) {
  py::class_<WindowMatch>(m, "WindowMatch", "The best window of a window search: tokens [begin, end).")
      .def_readonly("begin", &WindowMatch::begin)
      .def_readonly("end", &WindowMatch::end)
      .def_readonly("scored", &WindowMatch::scored)
      .def_readonly("score", &WindowMatch::score)
      .def_readonly("log10_p", &WindowMatch::log10_p)
      .def_readonly("log10_p_corrected", &WindowMatch::log10_p_corrected)
      .def_readonly("windows_tested", &WindowMatch::windows_tested)
      .def_property_readonly("p_value", [](const WindowMatch& w) { return std::pow(10.0, w.log10_p_corrected); })
      .def("__repr__", [](const WindowMatch& w) {
        return "WindowMatch(begin=" + std::to_string(w.begin) + ", end=" + std::to_string(w.end) +
               ", log10_p_corrected=" + std::to_string(w.log10_p_corrected) + ")";
      });

  py::class_<PyDetection, std::shared_ptr<PyDetection>>(m, "Detection", R"doc(
One sequence's detection result. ``p_value`` is exact (binomial or Gamma
upper tail); when it underflows to 0, ``log10_p`` still holds the value.
``token_scores`` (float32, NaN where unscored) and ``token_mask`` (int8:
1 green, 0 red, -1 prompt/no context, -2 ignored, -3 duplicate) are
read-only numpy views, one entry per input token.
)doc")
      .def_property_readonly("tokens", [](const PyDetection& r) { return r.d.tokens; })
      .def_property_readonly("scored", [](const PyDetection& r) { return r.d.scored; })
      .def_property_readonly("score", [](const PyDetection& r) { return r.d.score; })
      .def_property_readonly("expected", [](const PyDetection& r) { return r.d.expected; })
      .def_property_readonly("z", [](const PyDetection& r) { return r.d.z; })
      .def_property_readonly("log10_p", [](const PyDetection& r) { return r.d.log10_p; })
      .def_property_readonly("p_value", [](const PyDetection& r) { return r.d.p_value; })
      .def_property_readonly("key_id", [](const PyDetection& r) { return r.key_id; })
      .def_property_readonly("scheme", [](const PyDetection& r) { return r.scheme; })
      .def_property_readonly("window", [](const PyDetection& r) -> py::object {
        if (!r.d.window) return py::none();
        return py::cast(*r.d.window);
      })
      .def_property_readonly("spans",
                             [](const PyDetection& r) {
                               const bool has = r.d.window.has_value();
                               py::array_t<int64_t> a({has ? 1 : 0, 2});
                               if (has) {
                                 auto v = a.mutable_unchecked<2>();
                                 v(0, 0) = r.d.window->begin;
                                 v(0, 1) = r.d.window->end;
                               }
                               return a;
                             },
                             "int64 [n, 2] array of [begin, end) token spans found watermarked by window search "
                             "(empty without window_search).")
      .def_property_readonly("token_scores",
                             [](py::object self) {
                               const auto& r = self.cast<const PyDetection&>();
                               return VectorView(r.d.token_scores, self);
                             })
      .def_property_readonly("token_mask",
                             [](py::object self) {
                               const auto& r = self.cast<const PyDetection&>();
                               return VectorView(r.d.token_mask, self);
                             })
      .def(
          "detected",
          [](const PyDetection& r, double alpha) {
            if (!(alpha > 0 && alpha <= 1)) ThrowInvalid("alpha must be in (0, 1]");
            const double lp = r.d.window ? std::min(0.0, r.d.window->log10_p_corrected) : r.d.log10_p;
            return lp <= std::log10(alpha);
          },
          py::arg("alpha") = 1e-6,
          "True when p <= alpha; with window search the statistic is the window's corrected p (as the CLI decides).")
      .def("__repr__", [](const PyDetection& r) {
        return "Detection(tokens=" + std::to_string(r.d.tokens) + ", scored=" + std::to_string(r.d.scored) +
               ", score=" + std::to_string(r.d.score) + ", z=" + std::to_string(r.d.z) +
               ", log10_p=" + std::to_string(r.d.log10_p) + ", key_id='" + r.key_id + "')";
      });

  py::class_<PyDetector, std::shared_ptr<PyDetector>>(m, "Detector", R"doc(
Scores token sequences against one key and scheme with exact p-values.

>>> import numpy as np, telltale
>>> key = telltale.Key.from_bytes(bytes(range(32)))
>>> wm = telltale.Watermarker(key, "kgw:gamma=0.25,delta=4")
>>> rng = np.random.default_rng(0)
>>> ids = [int(t) for t in rng.integers(0, 500, 3)]
>>> for _ in range(100):
...     logits = rng.normal(size=500).astype(np.float32)
...     ids.append(int(np.argmax(wm.apply(ids, logits))))
>>> det = telltale.Detector(key, "kgw:gamma=0.25")
>>> r = det.score(np.array(ids), prompt_tokens=3)
>>> r.scored <= 100 and r.p_value < 1e-6, r.token_mask.shape
(True, (103,))
>>> other = telltale.Detector(telltale.Key.generate(), "kgw:gamma=0.25")
>>> other.score(ids, prompt_tokens=3).p_value > 1e-6
True
)doc")
      .def(py::init([](std::shared_ptr<PyKey> key, py::handle scheme) {
             const SchemeSpec spec = ToScheme(scheme);
             return std::shared_ptr<PyDetector>(
                 new PyDetector{ValueOrThrow(Detector::Create(key->file.key, spec)), spec.ToString()});
           }),
           py::arg("key"), py::arg("scheme"))
      .def_property_readonly("key_id", [](const PyDetector& d) { return d.det.key_id(); })
      .def_property_readonly("scheme", [](const PyDetector& d) { return d.det.spec(); })
      .def(
          "score",
          [](const PyDetector& d, py::handle ids, int64_t prompt_tokens, const std::vector<int32_t>& ignore_ids,
             const std::string& dedup, bool window_search, int32_t min_window, bool per_token) {
            const DetectOptions o = MakeOptions(prompt_tokens, ignore_ids, dedup, window_search, min_window, per_token);
            TokenIds t = TokenIds::From(ids, "ids", 0);
            StatusOr<Detection> r = Status::Internal("not scored");
            {
              py::gil_scoped_release nogil;
              r = d.det.Score(t.span(), o);
            }
            return Wrap(ValueOrThrow(std::move(r)), d);
          },
          py::arg("ids"), TT_DETECT_KWARGS, "Scores one sequence of token ids.")
      .def(
          "score_batch",
          [](const PyDetector& d, py::iterable seqs, int64_t prompt_tokens, const std::vector<int32_t>& ignore_ids,
             const std::string& dedup, bool window_search, int32_t min_window, bool per_token, int threads) {
            const DetectOptions o = MakeOptions(prompt_tokens, ignore_ids, dedup, window_search, min_window, per_token);
            return ScoreBatch(d, seqs, o, threads);
          },
          py::arg("sequences"), TT_DETECT_KWARGS, py::arg("threads") = 1,
          "Scores many sequences (a list of arrays or lists) in one call, on `threads` native threads.");

  py::class_<PyAttribution>(m, "Attribution", R"doc(
Multi-key attribution: each key's detection, Holm-adjusted p-values over the
K keys (family-wise error control) and the best-matching key.
)doc")
      .def_readonly("per_key", &PyAttribution::per_key)
      .def_property_readonly("holm_log10_p",
                             [](const PyAttribution& a) { return py::array_t<double>(a.holm_log10_p.size(), a.holm_log10_p.data()); })
      .def_property_readonly("holm_p_values",
                             [](const PyAttribution& a) {
                               py::array_t<double> out(a.holm_log10_p.size());
                               auto o = out.mutable_unchecked<1>();
                               for (size_t i = 0; i < a.holm_log10_p.size(); ++i) {
                                 o(static_cast<py::ssize_t>(i)) = PValueFromLog10(a.holm_log10_p[i]);
                               }
                               return out;
                             })
      .def_readonly("best", &PyAttribution::best)
      .def_readonly("decision_log10_p", &PyAttribution::decision_log10_p,
                    "The verdict statistic of `telltale detect`: the best key's Holm-adjusted log10 p (its window's, "
                    "Holm-corrected, under window search).")
      .def(
          "detected",
          [](const PyAttribution& a, double alpha) {
            if (!(alpha > 0 && alpha <= 1)) ThrowInvalid("alpha must be in (0, 1]");
            return a.decision_log10_p <= std::log10(alpha);
          },
          py::arg("alpha") = 1e-6, "The CLI's `detected` verdict at level alpha.")
      .def_property_readonly("best_key_id", [](const PyAttribution& a) { return a.per_key[a.best]->key_id; })
      .def(
          "attributed",
          [](const PyAttribution& a, double alpha) -> py::object {
            if (!(alpha > 0 && alpha <= 1)) ThrowInvalid("alpha must be in (0, 1]");
            if (a.holm_log10_p[a.best] <= std::log10(alpha)) return py::int_(a.best);
            return py::none();
          },
          py::arg("alpha") = 1e-6, "Index of the best key when its Holm-adjusted p <= alpha, else None.");

  m.def(
      "attribute",
      [](const std::vector<std::shared_ptr<PyDetector>>& detectors, py::handle ids, int64_t prompt_tokens,
         const std::vector<int32_t>& ignore_ids, const std::string& dedup, bool window_search, int32_t min_window,
         bool per_token) {
        const DetectOptions o = MakeOptions(prompt_tokens, ignore_ids, dedup, window_search, min_window, per_token);
        std::vector<const Detector*> dets;
        for (const auto& d : detectors) {
          if (!d) ThrowInvalid("detectors must not contain None");
          dets.push_back(&d->det);
        }
        TokenIds t = TokenIds::From(ids, "ids", 0);
        StatusOr<Attribution> a = Status::Internal("not run");
        {
          py::gil_scoped_release nogil;
          a = AttributeKeys(dets, t.span(), o);
        }
        Attribution r = ValueOrThrow(std::move(a));
        PyAttribution out;
        out.decision_log10_p = DecisionLog10P(r, o.window_search);
        for (size_t k = 0; k < r.per_key.size(); ++k) out.per_key.push_back(Wrap(std::move(r.per_key[k]), *detectors[k]));
        out.holm_log10_p = std::move(r.holm_log10_p);
        out.best = r.best;
        return out;
      },
      py::arg("detectors"), py::arg("ids"), TT_DETECT_KWARGS,
      "Scores `ids` under every detector (e.g. one per tenant key) and applies Holm's correction.");
}

}  // namespace telltale::python
