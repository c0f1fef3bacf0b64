// Native cores of the serving-stack logits processors (telltale.hf,
// telltale.vllm): each generation step is one native call that reads the
// token ids it needs, builds every row's context from that row's own tokens
// and biases the row's logits in place.
//
// Thread-safety: a BatchProcessor/RequestProcessor holds scratch and (for
// vLLM) per-request state; use one per generation loop / request. The GIL is
// released while logits are modified when the step is long enough for that
// to pay (kReleaseGilElements); a single row of a 128k vocabulary (~9 us)
// keeps it, since releasing and re-taking it costs about as much as the
// whole Python side of the call.
//
// Calling a processor is the generation loop's hot path, so both types
// implement tp_call directly against the CPython API: no Python __call__
// frame, no pybind11 argument dispatch. The Python subclasses in
// telltale.hf / telltale.vllm add only construction-time helpers.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "bindings.h"
#include "errors.h"

namespace telltale::python {
namespace {

namespace py = pybind11;

// Logits elements (rows x vocab) from which a step releases the GIL:
// about 20 us of native work, where the ~0.2 us release/re-acquire is noise.
constexpr int64_t kReleaseGilElements = int64_t{1} << 18;

// Runs fn() without the GIL when the step is large enough.
template <typename Fn>
auto MaybeWithoutGil(int64_t elements, Fn&& fn) {
  if (elements < kReleaseGilElements) return fn();
  py::gil_scoped_release nogil;
  return fn();
}

// How many trailing context tokens a scheme reads: only the last h unless
// skip_repeat, which looks back over the whole context.
int64_t ContextNeed(const SchemeSpec& s) { return s.skip_repeat ? INT64_MAX : std::max(s.h, 1); }

class BatchProcessor {
 public:
  BatchProcessor(std::vector<std::shared_ptr<PyWatermarker>> wms, int64_t vocab_size)
      : wms_(std::move(wms)), vocab_(vocab_size) {
    if (wms_.empty()) ThrowInvalid("at least one watermarker is needed");
    for (const auto& w : wms_) {
      if (!w) ThrowInvalid("watermarkers must not contain None");
      if (w->wm.spec().is_sampling_scheme()) {
        ThrowInvalid("scheme " + w->wm.spec().ToString() +
                     " is a sampling scheme; logits processors serve bias schemes (kgw, unigram)");
      }
    }
  }

  // item_keys[i]: watermarker index of batch item i; pad_counts[i]: its
  // number of left-padding tokens (from the prompt attention mask); either
  // may be empty. pad_token_id >= 0 strips leading pad ids per row instead.
  void Configure(std::vector<int32_t> item_keys, std::vector<int64_t> pad_counts, int64_t pad_token_id) {
    for (size_t i = 0; i < item_keys.size(); ++i) {
      if (item_keys[i] < 0 || static_cast<size_t>(item_keys[i]) >= wms_.size()) {
        ThrowInvalid("row_keys[" + std::to_string(i) + "] = " + std::to_string(item_keys[i]) +
                     " is not an index into the " + std::to_string(wms_.size()) + " keys");
      }
    }
    for (size_t i = 0; i < pad_counts.size(); ++i) {
      if (pad_counts[i] < 0) ThrowInvalid("pad count of row " + std::to_string(i) + " is negative");
    }
    if (!item_keys.empty() && !pad_counts.empty() && item_keys.size() != pad_counts.size()) {
      ThrowInvalid("row_keys has " + std::to_string(item_keys.size()) + " entries but the attention mask has " +
                   std::to_string(pad_counts.size()) + " rows");
    }
    item_keys_ = std::move(item_keys);
    pad_counts_ = std::move(pad_counts);
    pad_token_id_ = pad_token_id;
  }

  void Apply(py::handle input_ids, py::handle scores) { Run(input_ids, scores, 1); }

  // Benchmark hook: the native part of Apply (context gather + bias of every
  // row), repeated `iters` times in C++; returns seconds per iteration.
  double TimeNative(py::handle input_ids, py::handle scores, int iters) {
    if (iters < 1) ThrowInvalid("iters must be >= 1");
    return Run(input_ids, scores, iters);
  }

 private:
  double Run(py::handle input_ids, py::handle scores, int iters) {
    const LogitsView lv = BorrowLogits(scores, vocab_, "scores");
    if (!lv.batched) ThrowInvalid("scores must be 2-D [batch, vocab]");
    ArrayView ids = ArrayView::From(input_ids, "input_ids", false);
    if (ids.ndim() != 2) ThrowInvalid("input_ids must be 2-D [batch, seq_len], got " + std::to_string(ids.ndim()) + "-D");
    if (ids.type() != ElemType::kInt64 && ids.type() != ElemType::kInt32) {
      ThrowInvalid("input_ids have dtype " + ids.type_name() + "; expected int64 or int32");
    }
    const int64_t rows = lv.rows, len = ids.shape(1);
    if (ids.shape(0) != rows) {
      ThrowInvalid("input_ids have " + std::to_string(ids.shape(0)) + " rows but scores have " + std::to_string(rows));
    }
    const size_t items = std::max(item_keys_.size(), pad_counts_.size());
    int64_t beams = 1;
    if (items > 0) {
      if (rows % static_cast<int64_t>(items) != 0) {
        ThrowInvalid("batch has " + std::to_string(rows) + " rows, not a multiple of the " + std::to_string(items) +
                     " configured prompts (rows = prompts x beams)");
      }
      beams = rows / static_cast<int64_t>(items);
    }
    // The GIL may be released: the reads touch only the borrowed buffers.
    if (iters == 1) {
      ThrowIfError(MaybeWithoutGil(rows * lv.vocab, [&] { return ApplyRows(ids, lv, rows, len, beams); }));
      return 0;
    }
    Status status;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters && status.ok(); ++i) {
      status = MaybeWithoutGil(rows * lv.vocab, [&] { return ApplyRows(ids, lv, rows, len, beams); });
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters;
    ThrowIfError(status);
    return seconds;
  }

  Status ApplyRows(const ArrayView& ids, const LogitsView& lv, int64_t rows, int64_t len, int64_t beams) {
    const bool wide = ids.type() == ElemType::kInt64;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t item = r / beams;
      const PyWatermarker& w = *wms_[item_keys_.empty() ? 0 : static_cast<size_t>(item_keys_[static_cast<size_t>(item)])];
      auto at = [&](int64_t c) -> int64_t {
        const int64_t off = r * ids.stride(0) + c * ids.stride(1);
        return wide ? static_cast<const int64_t*>(ids.data())[off] : static_cast<const int32_t*>(ids.data())[off];
      };
      int64_t start = 0;
      if (!pad_counts_.empty()) {
        start = std::min(pad_counts_[static_cast<size_t>(item)], len);
      } else if (pad_token_id_ >= 0) {
        while (start < len && at(start) == pad_token_id_) ++start;
      }
      const int64_t need = ContextNeed(w.wm.spec());
      const int64_t from = len - start > need ? len - need : start;
      ctx_.clear();
      for (int64_t c = from; c < len; ++c) {
        const int64_t x = at(c);
        if (x < 0 || x > INT32_MAX || (vocab_ > 0 && x >= vocab_)) {
          return Status::InvalidArgument("input_ids[" + std::to_string(r) + ", " + std::to_string(c) + "] = " +
                                         std::to_string(x) + " is not a token id in [0, " +
                                         (vocab_ > 0 ? std::to_string(vocab_) : std::string("2^31")) + ")");
        }
        ctx_.push_back(static_cast<int32_t>(x));
      }
      Status s = ApplyRow(w.wm, ctx_, lv, r);
      if (!s.ok()) return s.WithContext("batch row " + std::to_string(r));
    }
    return Status::Ok();
  }

  std::vector<std::shared_ptr<PyWatermarker>> wms_;
  int64_t vocab_ = 0;
  std::vector<int32_t> item_keys_;
  std::vector<int64_t> pad_counts_;
  int64_t pad_token_id_ = -1;
  std::vector<int32_t> ctx_;  // reused scratch: no allocation per step once grown
};

// One request's state for vLLM-style processors: the context (prompt then
// outputs) is kept here and extended by the new output tokens only.
class RequestProcessor {
 public:
  RequestProcessor(std::shared_ptr<PyWatermarker> wm, int64_t vocab_size) : wm_(std::move(wm)), vocab_(vocab_size) {
    if (!wm_) ThrowInvalid("watermarker must not be None");
    if (wm_->wm.spec().is_sampling_scheme()) {
      ThrowInvalid("scheme " + wm_->wm.spec().ToString() +
                   " is a sampling scheme; logits processors serve bias schemes (kgw, unigram)");
    }
  }

  py::object Apply(py::handle prompt, py::handle output, py::handle logits) {
    const LogitsView lv = BorrowLogits(logits, vocab_, "logits");
    if (lv.batched && lv.rows != 1) ThrowInvalid("a per-request processor takes 1-D logits [vocab]");
    const size_t n_prompt = prompt.is_none() ? 0 : SequenceLength(prompt, "prompt_token_ids");
    const size_t n_out = SequenceLength(output, "output_token_ids");
    // Rebuild when this is a new request, the prompt changed length, or the
    // output is not an extension of what was seen (preemption/recompute).
    const bool extends = started_ && n_prompt == n_prompt_ && n_out >= n_out_ &&
                         (n_out_ == 0 || LastOutput(output, n_out_ - 1) == ctx_.back());
    if (!extends) {
      ctx_.clear();
      if (n_prompt > 0) AppendTokenIds(prompt, 0, "prompt_token_ids", vocab_, ctx_);
      AppendTokenIds(output, 0, "output_token_ids", vocab_, ctx_);
      n_prompt_ = n_prompt;
      started_ = true;
    } else if (n_out > n_out_) {
      AppendTokenIds(output, n_out_, "output_token_ids", vocab_, ctx_);
    }
    n_out_ = n_out;
    ThrowIfError(MaybeWithoutGil(lv.vocab, [&] { return ApplyRow(wm_->wm, ctx_, lv, 0); }));
    return py::reinterpret_borrow<py::object>(logits);
  }

  size_t context_length() const { return ctx_.size(); }

 private:
  static int64_t LastOutput(py::handle output, size_t i) {
    if (PyList_Check(output.ptr()) || PyTuple_Check(output.ptr())) {
      PyObject* item = PyList_Check(output.ptr()) ? PyList_GET_ITEM(output.ptr(), i) : PyTuple_GET_ITEM(output.ptr(), i);
      return PyLong_Check(item) ? PyLong_AsLongLong(item) : -1;
    }
    return -1;  // arrays: no cheap check, so the context is rebuilt
  }

  std::shared_ptr<PyWatermarker> wm_;
  int64_t vocab_ = 0;
  bool started_ = false;
  size_t n_prompt_ = 0, n_out_ = 0;
  std::vector<int32_t> ctx_;
};

// The C++ object behind `self`, an instance of the bound type or of a
// Python subclass. pybind11 keeps a single-base instance's value pointer in
// its simple layout; anything else goes through the general cast.
template <typename T>
T* NativeSelf(PyObject* self) {
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  if (inst->simple_layout) {
    if (!inst->simple_holder_constructed || inst->simple_value_holder[0] == nullptr) {
      ThrowInvalid(std::string(Py_TYPE(self)->tp_name) + " is not initialised (a subclass __init__ must call "
                   "super().__init__)");
    }
    return static_cast<T*>(inst->simple_value_holder[0]);
  }
  return py::handle(self).cast<T*>();
}

// Positional arguments, or keywords in the protocol's names.
bool UnpackArgs(PyObject* args, PyObject* kwargs, const char* format, const char* const* names, PyObject** out,
                Py_ssize_t n) {
  if (kwargs == nullptr && PyTuple_GET_SIZE(args) == n) {
    for (Py_ssize_t i = 0; i < n; ++i) out[i] = PyTuple_GET_ITEM(args, i);
    return true;
  }
  if (n == 2) {
    return PyArg_ParseTupleAndKeywords(args, kwargs, format, const_cast<char**>(names), &out[0], &out[1]) != 0;
  }
  return PyArg_ParseTupleAndKeywords(args, kwargs, format, const_cast<char**>(names), &out[0], &out[1], &out[2]) != 0;
}

// proc(input_ids, scores) -> scores
PyObject* BatchProcessorCall(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* const kNames[] = {"input_ids", "scores", nullptr};
  PyObject* a[2];
  if (!UnpackArgs(args, kwargs, "OO:WatermarkLogitsProcessor.__call__", kNames, a, 2)) return nullptr;
  try {
    NativeSelf<BatchProcessor>(self)->Apply(a[0], a[1]);
  } catch (...) {
    SetPythonErrorFromCurrentException();
    return nullptr;
  }
  Py_INCREF(a[1]);
  return a[1];
}

// proc(prompt_token_ids, output_token_ids, logits) -> logits
PyObject* RequestProcessorCall(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* const kNames[] = {"prompt_token_ids", "output_token_ids", "logits", nullptr};
  PyObject* a[3];
  if (!UnpackArgs(args, kwargs, "OOO:WatermarkLogitsProcessor.__call__", kNames, a, 3)) return nullptr;
  try {
    NativeSelf<RequestProcessor>(self)->Apply(a[0], a[1], a[2]);
  } catch (...) {
    SetPythonErrorFromCurrentException();
    return nullptr;
  }
  Py_INCREF(a[2]);
  return a[2];
}

}  // namespace

void RegisterProcessors(py::module_& m) {
  m.def("_torch_fast_path", &TorchFastPathEnabled,
        "Whether CPU torch tensors are read through their TensorImpl (needs torch imported and a libtorch-header "
        "build); for tests and benchmarks.");
  m.attr("_release_gil_elements") = kReleaseGilElements;
#ifdef TELLTALE_PY_WITH_TORCH_VIEW
  m.attr("_torch_view_built") = true;
#else
  m.attr("_torch_view_built") = false;
#endif
  py::class_<BatchProcessor>(m, "_BatchProcessor", py::custom_type_setup([](PyHeapTypeObject* heap) {
                               heap->ht_type.tp_call = &BatchProcessorCall;
                             }))
      .def(py::init<std::vector<std::shared_ptr<PyWatermarker>>, int64_t>(), py::arg("watermarkers"),
           py::arg("vocab_size") = 0)
      .def("configure", &BatchProcessor::Configure, py::arg("item_keys"), py::arg("pad_counts"),
           py::arg("pad_token_id"))
      .def("apply", &BatchProcessor::Apply, py::arg("input_ids"), py::arg("scores"))
      .def("time_native", &BatchProcessor::TimeNative, py::arg("input_ids"), py::arg("scores"), py::arg("iters"));
  py::class_<RequestProcessor>(m, "_RequestProcessor", py::custom_type_setup([](PyHeapTypeObject* heap) {
                                 heap->ht_type.tp_call = &RequestProcessorCall;
                               }))
      .def(py::init<std::shared_ptr<PyWatermarker>, int64_t>(), py::arg("watermarker"), py::arg("vocab_size") = 0)
      .def("apply", &RequestProcessor::Apply, py::arg("prompt_token_ids"), py::arg("output_token_ids"),
           py::arg("logits"))
      .def_property_readonly("context_length", &RequestProcessor::context_length);
}

}  // namespace telltale::python
