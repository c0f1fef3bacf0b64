// Shared types of the telltale._core bindings: the Python-side key and
// watermarker holders and the validated logits view every apply path uses.
//
// Ownership: PyKey owns a SecretKey (libsodium guarded memory); the Python
// objects that wrap PyKey/PyWatermarker are held by shared_ptr, so processors
// keep the watermarkers they use alive.
// Thread-safety: PyWatermarker is immutable after construction; its methods
// may run concurrently from several Python threads (the GIL is released
// around native work).
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <span>
#include <string>

#include "array_view.h"
#include "crypto/key_file.h"
#include "watermark/watermarker.h"

namespace telltale::python {

struct PyKey {
  KeyFile file;
};

struct PyWatermarker {
  Watermarker wm;
  std::string key_id;
  int64_t vocab_size = 0;  // 0: not pinned; otherwise logits must match
};

// A float32/float16/bfloat16 logits array of shape [vocab] or [rows, vocab]
// whose vocabulary dimension is contiguous, borrowed for writing.
struct LogitsView {
  ArrayView view;
  int64_t rows = 1, vocab = 0, row_stride = 0;
  bool batched = false;
  char* row(int64_t r) const;
};

LogitsView BorrowLogits(pybind11::handle obj, int64_t expected_vocab, const char* what);

// Applies the bias to one row. Call without the GIL.
Status ApplyRow(const Watermarker& wm, std::span<const int32_t> context, const LogitsView& logits, int64_t row);

void RegisterKeys(pybind11::module_& m);
void RegisterScheme(pybind11::module_& m);
void RegisterWatermarker(pybind11::module_& m);
void RegisterDetector(pybind11::module_& m);
void RegisterProcessors(pybind11::module_& m);
void RegisterTokenizer(pybind11::module_& m);  // only with TELLTALE_PY_WITH_TOKENIZE
// Each only when its component's target and src/bind_<component>.cc exist.
void RegisterScan(pybind11::module_& m);
void RegisterScanDask(pybind11::module_& m);  // bind_scan_dask.cc, registered by RegisterScan
void RegisterAudit(pybind11::module_& m);
void RegisterProvenance(pybind11::module_& m);

}  // namespace telltale::python

namespace telltale::python {
// A Scheme object or a spec string.
SchemeSpec ToScheme(pybind11::handle obj);
}  // namespace telltale::python
