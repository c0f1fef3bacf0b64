// Element types the bindings accept, shared by the pybind11 side
// (array_view.h) and the torch-header side (torch_view.h), which must not
// see each other's headers.
#pragma once

namespace telltale::python {

enum class ElemType { kFloat32, kFloat16, kBFloat16, kInt32, kInt64, kOther };

}  // namespace telltale::python
