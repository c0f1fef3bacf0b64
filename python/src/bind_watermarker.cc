// Watermarker and Sampler bindings: in-place apply on numpy arrays and CPU
// torch tensors (float32, float16, bfloat16), batched, without copies.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <vector>

#include "bindings.h"
#include "errors.h"

namespace telltale::python {
namespace {

namespace py = pybind11;

struct PySampler {
  std::shared_ptr<PyWatermarker> wm;
  SamplingParams params;
  uint64_t rng = 0;
  SampleWorkspace ws;
};

// Contexts for a [rows, vocab] batch: a 2-D integer array (one row each) or
// a sequence of `rows` 1-D sequences (ragged), flattened into tokens/offsets.
void FlattenContexts(py::handle contexts, int64_t rows, int64_t vocab, std::vector<int32_t>& tokens,
                     std::vector<int64_t>& offsets) {
  offsets.assign(1, 0);
  if (ArrayView::IsArrayLike(contexts)) {
    ArrayView v = ArrayView::From(contexts, "context_ids", false);
    if (v.ndim() != 2) {
      ThrowInvalid("context_ids must be 2-D [batch, tokens] (or a list of sequences) for 2-D logits, got " +
                   std::to_string(v.ndim()) + "-D");
    }
    if (v.shape(0) != rows) {
      ThrowInvalid("context_ids has " + std::to_string(v.shape(0)) + " rows but logits have " + std::to_string(rows));
    }
    if (v.type() != ElemType::kInt32 && v.type() != ElemType::kInt64) {
      ThrowInvalid("context_ids has dtype " + v.type_name() + "; token ids must be int32 or int64");
    }
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < v.shape(1); ++c) {
        const int64_t off = r * v.stride(0) + c * v.stride(1);
        const int64_t x = v.type() == ElemType::kInt32 ? static_cast<const int32_t*>(v.data())[off]
                                                        : static_cast<const int64_t*>(v.data())[off];
        if (x < 0 || x > INT32_MAX || (vocab > 0 && x >= vocab)) {
          ThrowInvalid("context_ids[" + std::to_string(r) + ", " + std::to_string(c) + "] = " + std::to_string(x) +
                       " is not a token id in [0, " + (vocab > 0 ? std::to_string(vocab) : std::string("2^31")) + ")");
        }
        tokens.push_back(static_cast<int32_t>(x));
      }
      offsets.push_back(static_cast<int64_t>(tokens.size()));
    }
    return;
  }
  if (!PySequence_Check(contexts.ptr()) || py::isinstance<py::str>(contexts)) {
    ThrowInvalid("context_ids must be a 2-D integer array or a sequence of token sequences for 2-D logits");
  }
  py::sequence seq = py::reinterpret_borrow<py::sequence>(contexts);
  if (static_cast<int64_t>(seq.size()) != rows) {
    ThrowInvalid("context_ids has " + std::to_string(seq.size()) + " sequences but logits have " +
                 std::to_string(rows) + " rows");
  }
  for (int64_t r = 0; r < rows; ++r) {
    const std::string what = "context_ids[" + std::to_string(r) + "]";
    AppendTokenIds(seq[static_cast<size_t>(r)], 0, what.c_str(), vocab, tokens);
    offsets.push_back(static_cast<int64_t>(tokens.size()));
  }
}

py::object Apply(const PyWatermarker& w, py::handle context_ids, py::handle logits) {
  const LogitsView lv = BorrowLogits(logits, w.vocab_size, "logits");
  if (!lv.batched) {
    TokenIds ctx = TokenIds::From(context_ids, "context_ids", w.vocab_size);
    Status s;
    {
      py::gil_scoped_release nogil;
      s = ApplyRow(w.wm, ctx.span(), lv, 0);
    }
    ThrowIfError(s);
    return py::reinterpret_borrow<py::object>(logits);
  }
  std::vector<int32_t> tokens;
  std::vector<int64_t> offsets;
  FlattenContexts(context_ids, lv.rows, w.vocab_size, tokens, offsets);
  Status s;
  {
    py::gil_scoped_release nogil;
    if (lv.view.type() == ElemType::kFloat32) {
      LogitsMatrixMap map(reinterpret_cast<float*>(lv.row(0)), lv.rows, lv.vocab, Eigen::OuterStride<>(lv.row_stride));
      s = w.wm.ApplyBatch(tokens, offsets, map);
    } else {
      for (int64_t r = 0; r < lv.rows && s.ok(); ++r) {
        const auto ctx = std::span<const int32_t>(tokens).subspan(static_cast<size_t>(offsets[r]),
                                                                 static_cast<size_t>(offsets[r + 1] - offsets[r]));
        s = ApplyRow(w.wm, ctx, lv, r);
        if (!s.ok()) s = s.WithContext("batch row " + std::to_string(r));
      }
    }
  }
  ThrowIfError(s);
  return py::reinterpret_borrow<py::object>(logits);
}

int32_t SampleOne(const PyWatermarker& w, py::handle context_ids, py::handle logits, const SamplingParams& params,
                  uint64_t& rng, SampleWorkspace& ws) {
  TokenIds ctx = TokenIds::From(context_ids, "context_ids", w.vocab_size);
  ArrayView v = ArrayView::From(logits, "logits", false);
  if (v.ndim() != 1) ThrowInvalid("sample takes 1-D logits [vocab], got " + std::to_string(v.ndim()) + "-D");
  if (v.type() != ElemType::kFloat32) {
    ThrowInvalid("sample takes float32 logits, got " + v.type_name() + " (convert with .astype(np.float32) / .float())");
  }
  if (v.stride(0) != 1 && v.shape(0) > 1) ThrowInvalid("logits are not contiguous; pass a contiguous array");
  if (w.vocab_size > 0 && v.shape(0) != w.vocab_size) {
    ThrowInvalid("logits have " + std::to_string(v.shape(0)) + " entries but the vocabulary size is " +
                 std::to_string(w.vocab_size));
  }
  StatusOr<int32_t> t = Status::Internal("unset");
  {
    py::gil_scoped_release nogil;
    t = w.wm.Sample(ctx.span(), std::span<const float>(static_cast<const float*>(v.data()), static_cast<size_t>(v.shape(0))),
                    params, rng, ws);
  }
  return ValueOrThrow(std::move(t));
}

SamplingParams MakeParams(float temperature, int32_t top_k, float top_p) {
  SamplingParams p{temperature, top_k, top_p};
  ThrowIfError(ValidateSamplingParams(p));
  return p;
}

}  // namespace

char* LogitsView::row(int64_t r) const {
  const int64_t elem = view.type() == ElemType::kFloat32 ? 4 : 2;
  return static_cast<char*>(view.data()) + r * row_stride * elem;
}

LogitsView BorrowLogits(py::handle obj, int64_t expected_vocab, const char* what) {
  LogitsView lv{ArrayView::From(obj, what, true)};
  const ArrayView& v = lv.view;
  const ElemType t = v.type();
  if (t != ElemType::kFloat32 && t != ElemType::kFloat16 && t != ElemType::kBFloat16) {
    ThrowInvalid(std::string(what) + " have dtype " + v.type_name() + "; expected float32, float16 or bfloat16");
  }
  if (v.ndim() != 1 && v.ndim() != 2) {
    ThrowInvalid(std::string(what) + " must be 1-D [vocab] or 2-D [batch, vocab], got " + std::to_string(v.ndim()) +
                 "-D");
  }
  lv.batched = v.ndim() == 2;
  lv.rows = lv.batched ? v.shape(0) : 1;
  lv.vocab = v.shape(v.ndim() - 1);
  const int64_t inner = v.stride(v.ndim() - 1);
  if (inner != 1 && lv.vocab > 1) {
    ThrowInvalid(std::string(what) + " are not contiguous along the vocabulary (element stride " +
                 std::to_string(inner) + "); pass a contiguous array (np.ascontiguousarray / tensor.contiguous()) and "
                 "use the result, since in-place modification needs the caller's own memory");
  }
  lv.row_stride = lv.batched ? v.stride(0) : lv.vocab;
  if (lv.batched && lv.rows > 1 && lv.row_stride < lv.vocab) {
    ThrowInvalid(std::string(what) + " rows overlap (row stride " + std::to_string(lv.row_stride) + " < vocab " +
                 std::to_string(lv.vocab) + "); pass a contiguous array");
  }
  if (expected_vocab > 0 && lv.vocab != expected_vocab) {
    ThrowInvalid(std::string(what) + " have " + std::to_string(lv.vocab) + " entries per row but the vocabulary size is " +
                 std::to_string(expected_vocab));
  }
  if (lv.vocab == 0) ThrowInvalid(std::string(what) + " are empty");
  return lv;
}

Status ApplyRow(const Watermarker& wm, std::span<const int32_t> context, const LogitsView& lv, int64_t row) {
  const size_t n = static_cast<size_t>(lv.vocab);
  switch (lv.view.type()) {
    case ElemType::kFloat32: return wm.Apply(context, std::span<float>(reinterpret_cast<float*>(lv.row(row)), n));
    case ElemType::kFloat16:
      return wm.ApplyHalf(context, std::span<uint16_t>(reinterpret_cast<uint16_t*>(lv.row(row)), n), HalfFormat::kFloat16);
    case ElemType::kBFloat16:
      return wm.ApplyHalf(context, std::span<uint16_t>(reinterpret_cast<uint16_t*>(lv.row(row)), n),
                          HalfFormat::kBFloat16);
    default: return Status::Internal("unvalidated logits dtype");
  }
}

void RegisterWatermarker(py::module_& m) {
  py::class_<PyWatermarker, std::shared_ptr<PyWatermarker>>(m, "Watermarker", R"doc(
The generation side of a scheme: biases logits in place (kgw, unigram) or
samples a token (every scheme, and the only way for gumbel).

``context_ids`` is every token before the one being generated (prompt
included), oldest first. ``logits`` is a 1-D ``[vocab]`` or 2-D
``[batch, vocab]`` float32/float16/bfloat16 numpy array or CPU torch
tensor; it is modified in place (no copy) and returned. For 2-D logits,
``context_ids`` is a 2-D integer array or a list of per-row sequences
(ragged lengths are fine).

>>> import numpy as np, telltale
>>> key = telltale.Key.from_bytes(bytes(range(32)))
>>> wm = telltale.Watermarker(key, "kgw:gamma=0.25,delta=2", vocab_size=1000)
>>> logits = np.zeros(1000, dtype=np.float32)
>>> _ = wm.apply([5, 17], logits)
>>> sorted(set(logits.tolist()))
[0.0, 2.0]
>>> bool(abs((logits > 0).mean() - 0.25) < 0.05)
True
>>> batch = np.zeros((2, 1000), dtype=np.float16)
>>> _ = wm.apply([[5, 17], [9]], batch)
>>> bool((batch[0] == logits).all())
True
)doc")
      .def(py::init([](std::shared_ptr<PyKey> key, py::handle scheme, int64_t vocab_size) {
             if (vocab_size < 0) ThrowInvalid("vocab_size must be >= 0 (0: any), got " + std::to_string(vocab_size));
             const SchemeSpec spec = ToScheme(scheme);
             auto w = std::shared_ptr<PyWatermarker>(
                 new PyWatermarker{ValueOrThrow(Watermarker::Create(key->file.key, spec)), key->file.key.KeyId(),
                                   vocab_size});
             return w;
           }),
           py::arg("key"), py::arg("scheme"), py::arg("vocab_size") = 0)
      .def_property_readonly("scheme", [](const PyWatermarker& w) { return w.wm.spec(); })
      .def_property_readonly("key_id", [](const PyWatermarker& w) { return w.key_id; })
      .def_property_readonly("vocab_size", [](const PyWatermarker& w) { return w.vocab_size; })
      .def("apply", &Apply, py::arg("context_ids"), py::arg("logits"),
           "Adds delta to the green tokens' logits in place and returns the same array.")
      .def(
          "sample",
          [](const PyWatermarker& w, py::handle ctx, py::handle logits, float temperature, int32_t top_k, float top_p,
             uint64_t seed) {
            SampleWorkspace ws;
            uint64_t rng = seed;
            return SampleOne(w, ctx, logits, MakeParams(temperature, top_k, top_p), rng, ws);
          },
          py::arg("context_ids"), py::arg("logits"), py::kw_only(), py::arg("temperature") = 1.0f,
          py::arg("top_k") = 0, py::arg("top_p") = 1.0f, py::arg("seed") = 0,
          "Draws one token (1-D float32 logits). For a sequence of draws use Sampler, which carries the RNG state.")
      .def(
          "green_mask",
          [](const PyWatermarker& w, py::handle ctx, int64_t vocab) {
            TokenIds c = TokenIds::From(ctx, "context_ids", w.vocab_size);
            if (vocab <= 0) ThrowInvalid("vocab must be positive");
            std::vector<uint64_t> words(static_cast<size_t>((vocab + 63) / 64));
            bool marked = false;
            ThrowIfError(w.wm.GreenBitmap(c.span(), vocab, words, &marked));
            py::array_t<bool> out(vocab);
            auto o = out.mutable_unchecked<1>();
            for (int64_t t = 0; t < vocab; ++t) o(t) = (words[static_cast<size_t>(t >> 6)] >> (t & 63)) & 1;
            return py::make_tuple(out, marked);
          },
          py::arg("context_ids"), py::arg("vocab"),
          "(mask, watermarked): the green list of the next token as a bool array, and whether the context is "
          "watermarked at all (long enough, not a skipped repeat).")
      .def(
          "context_is_watermarked",
          [](const PyWatermarker& w, py::handle ctx) {
            TokenIds c = TokenIds::From(ctx, "context_ids", w.vocab_size);
            return w.wm.ContextIsWatermarked(c.span());
          },
          py::arg("context_ids"));

  py::class_<PySampler>(m, "Sampler", R"doc(
Stateful token sampling: keyed Gumbel-max for gumbel, watermark-then-multinomial
for bias schemes, with temperature/top-k/top-p. The splitmix64 RNG state
advances with each draw, so a seeded Sampler reproduces its stream.

>>> import numpy as np, telltale
>>> key = telltale.Key.from_bytes(bytes(range(32)))
>>> wm = telltale.Watermarker(key, "gumbel")
>>> s = telltale.Sampler(wm, seed=7, top_k=50)
>>> logits = np.linspace(0, 3, 100, dtype=np.float32)
>>> t = s.sample([1, 2, 3], logits)
>>> 0 <= t < 100 and t == telltale.Sampler(wm, seed=7, top_k=50).sample([1, 2, 3], logits)
True
)doc")
      .def(py::init([](std::shared_ptr<PyWatermarker> wm, uint64_t seed, float temperature, int32_t top_k, float top_p) {
             return PySampler{std::move(wm), MakeParams(temperature, top_k, top_p), seed, {}};
           }),
           py::arg("watermarker"), py::kw_only(), py::arg("seed") = 0, py::arg("temperature") = 1.0f,
           py::arg("top_k") = 0, py::arg("top_p") = 1.0f)
      .def(
          "sample",
          [](PySampler& s, py::handle ctx, py::handle logits) {
            return SampleOne(*s.wm, ctx, logits, s.params, s.rng, s.ws);
          },
          py::arg("context_ids"), py::arg("logits"))
      .def_property_readonly("state", [](const PySampler& s) { return s.rng; });
}

}  // namespace telltale::python
