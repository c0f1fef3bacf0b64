// Reads a CPU torch tensor's layout straight from its c10::TensorImpl, the
// object behind `tensor._cdata`, instead of through five or six Python
// attribute and method calls (~0.5 us per tensor, which at one call per
// generation step was most of the Python cost of a logits processor).
//
// Built only when the libtorch headers (Debian libtorch-dev) are found; the
// TensorImpl layout comes from those headers, so the bindings use this path
// only for the torch version they were compiled against, after a self-test
// on a probe tensor (array_view.cc). The translation unit includes no
// Python or pybind11 headers.
//
// Thread-safety: ReadTorchImpl only reads the TensorImpl; the caller keeps
// the tensor alive (it holds a reference to the Python object).
// Edge cases: any tensor this path cannot vouch for (non-CPU, non-strided,
// requiring grad, lazily negated or conjugated, an unsupported dtype, more
// than kMaxDims dimensions, custom size/stride policies that throw) is
// reported as not readable, and the caller falls back to the attribute path,
// which names the problem in its error.
#pragma once

#include <cstdint>

#include "elem_type.h"

namespace telltale::python {

struct TorchFacts {
  static constexpr int kMaxDims = 8;
  void* data = nullptr;
  ElemType type = ElemType::kOther;
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
};

// `impl` is the c10::TensorImpl* of a live tensor. Returns true and fills
// `out` for a plain CPU strided tensor of an accepted dtype; false otherwise.
bool ReadTorchImpl(const void* impl, TorchFacts& out) noexcept;

// The TORCH_VERSION the headers came from (compared with torch.__version__).
const char* TorchHeadersVersion() noexcept;

}  // namespace telltale::python
