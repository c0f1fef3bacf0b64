#include "array_view.h"

#include <cstring>
#include <limits>

#include "errors.h"
#ifdef TELLTALE_PY_WITH_TORCH_VIEW
#include "torch_view.h"
#endif

namespace telltale::python {
namespace {

namespace py = pybind11;

// DLPack 0.x ABI (dlpack.h, Apache-2.0 spec): only the fields read here.
struct DLDevice {
  int32_t device_type;  // 1 = CPU
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;  // 0 int, 1 uint, 2 float, 4 bfloat
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; null means compact row-major
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor*);
};

constexpr int32_t kDLCPU = 1;

ElemType FromBufferFormat(const char* format, Py_ssize_t itemsize, std::string& name) {
  std::string f = format != nullptr ? format : "B";
  while (!f.empty() && (f[0] == '<' || f[0] == '=' || f[0] == '@' || f[0] == '!' || f[0] == '>')) {
    if (f[0] == '>' || f[0] == '!') {
      name = "big-endian " + f.substr(1);
      return ElemType::kOther;
    }
    f.erase(0, 1);
  }
  if (f.size() != 1) {
    name = "'" + f + "'";
    return ElemType::kOther;
  }
  const char c = f[0];
  if (c == 'f' && itemsize == 4) return name = "float32", ElemType::kFloat32;
  if (c == 'e' && itemsize == 2) return name = "float16", ElemType::kFloat16;
  if (c == 'd') return name = "float64", ElemType::kOther;
  if (std::strchr("bhilq", c) != nullptr) {
    name = "int" + std::to_string(itemsize * 8);
    if (itemsize == 4) return ElemType::kInt32;
    if (itemsize == 8) return ElemType::kInt64;
    return ElemType::kOther;
  }
  if (std::strchr("BHILQ", c) != nullptr) {
    name = "uint" + std::to_string(itemsize * 8);
    return ElemType::kOther;
  }
  if (c == '?') return name = "bool", ElemType::kOther;
  name = std::string("'") + c + "'";
  return ElemType::kOther;
}

ElemType FromDLType(DLDataType t, std::string& name) {
  if (t.lanes != 1) {
    name = "vector dtype (" + std::to_string(t.lanes) + " lanes)";
    return ElemType::kOther;
  }
  switch (t.code) {
    case 0:
      name = "int" + std::to_string(t.bits);
      return t.bits == 32 ? ElemType::kInt32 : t.bits == 64 ? ElemType::kInt64 : ElemType::kOther;
    case 1: name = "uint" + std::to_string(t.bits); return ElemType::kOther;
    case 2:
      name = "float" + std::to_string(t.bits);
      return t.bits == 32 ? ElemType::kFloat32 : t.bits == 16 ? ElemType::kFloat16 : ElemType::kOther;
    case 4: name = "bfloat" + std::to_string(t.bits); return t.bits == 16 ? ElemType::kBFloat16 : ElemType::kOther;
    case 5: name = "complex" + std::to_string(t.bits); return ElemType::kOther;
    case 6: name = "bool"; return ElemType::kOther;
    default: name = "DLPack type code " + std::to_string(t.code); return ElemType::kOther;
  }
}

const char* DeviceName(int32_t type) {
  switch (type) {
    case 2: return "cuda";
    case 3: return "cuda_host";
    case 4: return "opencl";
    case 7: return "vulkan";
    case 8: return "metal";
    case 10: return "rocm";
    default: return "a non-CPU device";
  }
}

void CheckInt32(int64_t v, size_t i, const char* what, int64_t vocab) {
  if (v < 0 || v > std::numeric_limits<int32_t>::max() || (vocab > 0 && v >= vocab)) {
    ThrowInvalid(std::string(what) + "[" + std::to_string(i) + "] = " + std::to_string(v) +
                 " is not a token id in [0, " +
                 (vocab > 0 ? std::to_string(vocab) + ") (the vocabulary size)" : std::string("2^31)")));
  }
}

// torch fast path. torch.Tensor.__dlpack__ is a Python wrapper costing ~4.7 us
// and even torch._C._to_dlpack allocates a managed tensor and a capsule
// (~1.1 us); reading data_ptr/shape/stride/dtype/device directly costs about
// half of that, which matters at one call per generation step. The torch
// objects are looked up once, only if torch is already imported.
struct TorchHooks {
  PyObject* tensor_type = nullptr;
  // tensor._cdata's C getter (the TensorImpl address), called directly;
  // set only when the TensorImpl reader passed its self-test.
  getter cdata_get = nullptr;
  void* cdata_closure = nullptr;
  PyObject* f32 = nullptr;
  PyObject* f16 = nullptr;
  PyObject* bf16 = nullptr;
  PyObject* i64 = nullptr;
  PyObject* i32 = nullptr;
  bool looked_up = false;
};

void EnableTensorImplReader(const py::object& torch, TorchHooks& hooks);

TorchHooks& Torch() {
  static TorchHooks hooks;
  if (!hooks.looked_up) {
    PyObject* torch = PyImport_GetModule(py::str("torch").ptr());  // new ref or null; never imports
    if (torch == nullptr) {
      PyErr_Clear();
      return hooks;  // retry next time: torch may be imported later
    }
    hooks.looked_up = true;
    py::object mod = py::reinterpret_steal<py::object>(torch);
    try {
      auto get = [&](const char* name) { return py::object(mod.attr(name)).release().ptr(); };
      hooks.f32 = get("float32");
      hooks.f16 = get("float16");
      hooks.bf16 = get("bfloat16");
      hooks.i64 = get("int64");
      hooks.i32 = get("int32");
      hooks.tensor_type = get("Tensor");
    } catch (py::error_already_set&) {
      hooks.tensor_type = nullptr;  // an unknown torch: fall back to __dlpack__
    }
    if (hooks.tensor_type != nullptr) EnableTensorImplReader(mod, hooks);
  }
  return hooks;
}

}  // namespace

// Attribute names are interned once; raw C-API calls avoid pybind11's
// per-call string creation (this path runs once per tensor per step).
namespace {
struct TorchNames {
  PyObject *is_cpu, *device, *requires_grad, *is_neg, *is_conj, *dtype, *shape, *stride, *data_ptr;
};
const TorchNames& Names() {
  static const TorchNames n{PyUnicode_InternFromString("is_cpu"),  PyUnicode_InternFromString("device"),
                            PyUnicode_InternFromString("requires_grad"), PyUnicode_InternFromString("is_neg"),
                            PyUnicode_InternFromString("is_conj"), PyUnicode_InternFromString("dtype"),
                            PyUnicode_InternFromString("shape"),   PyUnicode_InternFromString("stride"),
                            PyUnicode_InternFromString("data_ptr")};
  return n;
}
py::object GetAttr(PyObject* obj, PyObject* name) {
  PyObject* r = PyObject_GetAttr(obj, name);
  if (r == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(r);
}
py::object CallMethod(PyObject* obj, PyObject* name) {
  PyObject* r = PyObject_CallMethodNoArgs(obj, name);
  if (r == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(r);
}
int64_t AsInt(PyObject* o) {
  const long long v = PyLong_AsLongLong(o);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  return v;
}
// The TensorImpl reader is trusted only for the torch it was compiled
// against, and only after it reads a probe tensor (a strided float16 view
// with a storage offset) exactly as the attribute path does.
void EnableTensorImplReader([[maybe_unused]] const py::object& torch, [[maybe_unused]] TorchHooks& hooks) {
#ifdef TELLTALE_PY_WITH_TORCH_VIEW
  try {
    if (std::string(py::str(torch.attr("__version__"))) != TorchHeadersVersion()) return;
    py::object base = torch.attr("_C").attr("_TensorBase");
    PyObject* descr = PyDict_GetItemString(reinterpret_cast<PyTypeObject*>(base.ptr())->tp_dict, "_cdata");
    if (descr == nullptr || !Py_IS_TYPE(descr, &PyGetSetDescr_Type)) return;
    PyGetSetDef* def = reinterpret_cast<PyGetSetDescrObject*>(descr)->d_getset;
    if (def == nullptr || def->get == nullptr) return;
    py::object probe = torch.attr("zeros")(3, 5, py::arg("dtype") = torch.attr("float16"))[py::make_tuple(
        py::slice(1, 3, 1), py::slice(1, 4, 1))];
    py::object addr = py::reinterpret_steal<py::object>(def->get(probe.ptr(), def->closure));
    if (!addr) throw py::error_already_set();
    TorchFacts f;
    if (!ReadTorchImpl(PyLong_AsVoidPtr(addr.ptr()), f)) return;
    py::tuple shape = probe.attr("shape"), stride = probe.attr("stride")();
    const bool same = f.type == ElemType::kFloat16 && f.ndim == 2 &&
                      f.data == PyLong_AsVoidPtr(probe.attr("data_ptr")().ptr()) &&
                      f.shape[0] == shape[0].cast<int64_t>() && f.shape[1] == shape[1].cast<int64_t>() &&
                      f.strides[0] == stride[0].cast<int64_t>() && f.strides[1] == stride[1].cast<int64_t>();
    if (!same) return;
    hooks.cdata_get = def->get;
    hooks.cdata_closure = def->closure;
  } catch (py::error_already_set&) {
    PyErr_Clear();  // keep the attribute path
  }
#endif
}

}  // namespace

bool TorchFastPathEnabled() { return Torch().cdata_get != nullptr; }

void ArrayView::SetNdim(int64_t ndim, const char* what) {
  if (ndim < 0 || ndim > kMaxDims) {
    ThrowInvalid(std::string(what) + " have " + std::to_string(ndim) + " dimensions; at most " +
                 std::to_string(kMaxDims) + " are supported");
  }
  ndim_ = static_cast<int>(ndim);
}

// Exact torch.Tensor only: a subclass may override _cdata or the layout
// through __torch_function__, so subclasses take the attribute path.
bool ArrayView::FromTorchImpl([[maybe_unused]] py::handle obj, [[maybe_unused]] ArrayView& v) {
#ifdef TELLTALE_PY_WITH_TORCH_VIEW
  const TorchHooks& t = Torch();
  if (t.cdata_get == nullptr || Py_TYPE(obj.ptr()) != reinterpret_cast<PyTypeObject*>(t.tensor_type)) return false;
  PyObject* addr = t.cdata_get(obj.ptr(), t.cdata_closure);
  if (addr == nullptr) {
    PyErr_Clear();
    return false;
  }
  void* impl = PyLong_AsVoidPtr(addr);
  Py_DECREF(addr);
  if (impl == nullptr) {
    PyErr_Clear();
    return false;
  }
  TorchFacts f;
  if (!ReadTorchImpl(impl, f)) return false;
  v.data_ = f.data;
  v.type_ = f.type;
  switch (f.type) {
    case ElemType::kFloat32: v.type_name_ = "float32"; break;
    case ElemType::kFloat16: v.type_name_ = "float16"; break;
    case ElemType::kBFloat16: v.type_name_ = "bfloat16"; break;
    case ElemType::kInt32: v.type_name_ = "int32"; break;
    case ElemType::kInt64: v.type_name_ = "int64"; break;
    case ElemType::kOther: return false;
  }
  v.ndim_ = f.ndim;
  for (int i = 0; i < f.ndim; ++i) {
    v.shape_[i] = f.shape[i];
    v.strides_[i] = f.strides[i];
  }
  v.capsule_ = py::reinterpret_borrow<py::object>(obj);  // keeps the tensor and its storage alive
  return true;
#else
  return false;
#endif
}

bool ArrayView::FromTorch(py::handle obj, const char* what, bool writable, ArrayView& v) {
  TorchHooks& t = Torch();
  PyObject* o = obj.ptr();
  if (t.tensor_type == nullptr || !PyObject_TypeCheck(o, reinterpret_cast<PyTypeObject*>(t.tensor_type))) {
    return false;
  }
  if (FromTorchImpl(obj, v)) return true;
  const TorchNames& n = Names();
  if (GetAttr(o, n.is_cpu).ptr() != Py_True) {
    ThrowInvalid(std::string(what) + " live on " + std::string(py::str(GetAttr(o, n.device))) +
                 "; telltale works on CPU memory (move them with .cpu())");
  }
  if (writable) {
    if (GetAttr(o, n.requires_grad).ptr() == Py_True) {
      ThrowInvalid(std::string(what) + " require grad; in-place watermarking would bypass autograd "
                   "(run generation under torch.no_grad() or pass tensor.detach())");
    }
  }
  // A lazily negated view's memory holds the un-negated values, so reading
  // it would be as wrong as writing it.
  if (CallMethod(o, n.is_neg).ptr() == Py_True || CallMethod(o, n.is_conj).ptr() == Py_True) {
    ThrowInvalid(std::string(what) + " are a lazily negated/conjugated view; call .resolve_neg() first");
  }
  py::object dtype_obj = GetAttr(o, n.dtype);
  PyObject* dtype = dtype_obj.ptr();
  if (dtype == t.f32) {
    v.type_ = ElemType::kFloat32, v.type_name_ = "float32";
  } else if (dtype == t.f16) {
    v.type_ = ElemType::kFloat16, v.type_name_ = "float16";
  } else if (dtype == t.bf16) {
    v.type_ = ElemType::kBFloat16, v.type_name_ = "bfloat16";
  } else if (dtype == t.i64) {
    v.type_ = ElemType::kInt64, v.type_name_ = "int64";
  } else if (dtype == t.i32) {
    v.type_ = ElemType::kInt32, v.type_name_ = "int32";
  } else {
    std::string name = py::str(dtype_obj);
    if (name.rfind("torch.", 0) == 0) name = name.substr(6);
    v.type_ = ElemType::kOther, v.type_name_ = name;
  }
  py::object shape = GetAttr(o, n.shape);    // torch.Size, a tuple subclass
  py::object strides = CallMethod(o, n.stride);  // tuple
  if (!PyTuple_Check(shape.ptr()) || !PyTuple_Check(strides.ptr()) ||
      PyTuple_GET_SIZE(shape.ptr()) != PyTuple_GET_SIZE(strides.ptr())) {
    ThrowInvalid(std::string(what) + ": unexpected torch shape/stride objects");
  }
  const Py_ssize_t nd = PyTuple_GET_SIZE(shape.ptr());
  v.SetNdim(nd, what);
  for (Py_ssize_t i = 0; i < nd; ++i) {
    v.shape_[i] = AsInt(PyTuple_GET_ITEM(shape.ptr(), i));
    const int64_t s = AsInt(PyTuple_GET_ITEM(strides.ptr(), i));
    if (s < 0) ThrowInvalid(std::string(what) + ": negative stride in dimension " + std::to_string(i));
    v.strides_[i] = s;
  }
  py::object ptr = CallMethod(o, n.data_ptr);
  v.data_ = PyLong_AsVoidPtr(ptr.ptr());
  if (v.data_ == nullptr && PyErr_Occurred()) throw py::error_already_set();
  if (v.data_ == nullptr) {
    bool empty = false;
    for (int i = 0; i < v.ndim_; ++i) empty = empty || v.shape_[i] == 0;
    if (!empty) ThrowInvalid(std::string(what) + " have no memory behind them (e.g. a ZeroTensor); pass a materialised tensor");
  }
  v.capsule_ = py::reinterpret_borrow<py::object>(obj);  // keeps the tensor and its storage alive
  return true;
}


bool ArrayView::IsArrayLike(py::handle obj) {
  return PyObject_CheckBuffer(obj.ptr()) != 0 || py::hasattr(obj, "__dlpack__");
}

ArrayView ArrayView::From(py::handle obj, const char* what, bool writable) {
  ArrayView v;
  if (PyObject_CheckBuffer(obj.ptr()) != 0) {
    const int flags = PyBUF_STRIDES | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj.ptr(), &v.buffer_, flags) != 0) {
      py::error_already_set err;
      ThrowInvalid(std::string(what) + ": cannot borrow the array" + (writable ? " for writing" : "") + " (" +
                   err.what() + ")" + (writable ? "; read-only arrays cannot be modified in place" : ""));
    }
    v.has_buffer_ = true;
    v.data_ = v.buffer_.buf;
    v.type_ = FromBufferFormat(v.buffer_.format, v.buffer_.itemsize, v.type_name_);
    v.SetNdim(v.buffer_.ndim, what);
    for (int i = 0; i < v.buffer_.ndim; ++i) {
      const Py_ssize_t s = v.buffer_.strides[i];
      if (s < 0 || s % v.buffer_.itemsize != 0) {
        ThrowInvalid(std::string(what) + ": stride " + std::to_string(s) + " bytes in dimension " + std::to_string(i) +
                     " is negative or not a multiple of the element size; pass a contiguous array");
      }
      v.shape_[i] = v.buffer_.shape[i];
      v.strides_[i] = s / v.buffer_.itemsize;
    }
    return v;
  }
  if (FromTorch(obj, what, writable, v)) return v;
  if (py::hasattr(obj, "__dlpack__")) {
    py::object capsule;
    try {
      capsule = obj.attr("__dlpack__")();
    } catch (py::error_already_set& e) {
      ThrowInvalid(std::string(what) + ": DLPack export failed: " + e.what());
    }
    auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
    if (managed == nullptr) {
      PyErr_Clear();
      ThrowInvalid(std::string(what) + ": __dlpack__ did not return a 'dltensor' capsule");
    }
    const DLTensor& t = managed->dl_tensor;
    if (t.device.device_type != kDLCPU) {
      ThrowInvalid(std::string(what) + " live on " + DeviceName(t.device.device_type) + ":" +
                   std::to_string(t.device.device_id) + "; telltale works on CPU memory (move them with .cpu())");
    }
    v.capsule_ = std::move(capsule);
    v.data_ = static_cast<char*>(t.data) + t.byte_offset;
    v.type_ = FromDLType(t.dtype, v.type_name_);
    int64_t compact = 1;
    v.SetNdim(t.ndim, what);
    for (int i = t.ndim - 1; i >= 0; --i) {
      v.shape_[i] = t.shape[i];
      const int64_t s = t.strides != nullptr ? t.strides[i] : compact;
      if (s < 0) ThrowInvalid(std::string(what) + ": negative stride in dimension " + std::to_string(i));
      v.strides_[i] = s;
      compact *= t.shape[i];
    }
    return v;
  }
  ThrowInvalid(std::string(what) + ": expected a numpy array or a CPU torch tensor, got " +
               std::string(py::str(obj.get_type().attr("__name__"))));
}

ArrayView::ArrayView(ArrayView&& o) noexcept
    : data_(o.data_),
      type_(o.type_),
      type_name_(std::move(o.type_name_)),
      ndim_(o.ndim_),
      buffer_(o.buffer_),
      has_buffer_(o.has_buffer_),
      capsule_(std::move(o.capsule_)) {
  o.has_buffer_ = false;
  std::memcpy(shape_, o.shape_, sizeof(shape_));
  std::memcpy(strides_, o.strides_, sizeof(strides_));
}

ArrayView::~ArrayView() {
  if (has_buffer_) PyBuffer_Release(&buffer_);
}

size_t SequenceLength(py::handle seq, const char* what) {
  if (PyList_Check(seq.ptr())) return static_cast<size_t>(PyList_GET_SIZE(seq.ptr()));
  if (PyTuple_Check(seq.ptr())) return static_cast<size_t>(PyTuple_GET_SIZE(seq.ptr()));
  ArrayView v = ArrayView::From(seq, what, false);
  if (v.ndim() != 1) ThrowInvalid(std::string(what) + " must be 1-D, got " + std::to_string(v.ndim()) + "-D");
  return static_cast<size_t>(v.shape(0));
}

void AppendTokenIds(py::handle seq, size_t from, const char* what, int64_t vocab, std::vector<int32_t>& out) {
  PyObject* p = seq.ptr();
  if (PyList_Check(p) || PyTuple_Check(p)) {
    const bool list = PyList_Check(p);
    const size_t n = static_cast<size_t>(list ? PyList_GET_SIZE(p) : PyTuple_GET_SIZE(p));
    for (size_t i = from; i < n; ++i) {
      PyObject* item = list ? PyList_GET_ITEM(p, i) : PyTuple_GET_ITEM(p, i);
      int overflow = 0;
      const long long x = PyLong_Check(item) ? PyLong_AsLongLongAndOverflow(item, &overflow) : -1;
      if (!PyLong_Check(item)) {
        ThrowInvalid(std::string(what) + "[" + std::to_string(i) + "] is a " +
                     std::string(py::str(py::handle(item).get_type().attr("__name__"))) + ", not an int token id");
      }
      if (overflow != 0) ThrowInvalid(std::string(what) + "[" + std::to_string(i) + "] does not fit in 64 bits");
      CheckInt32(x, i, what, vocab);
      out.push_back(static_cast<int32_t>(x));
    }
    return;
  }
  ArrayView v = ArrayView::From(seq, what, false);
  if (v.ndim() != 1) ThrowInvalid(std::string(what) + " must be 1-D, got " + std::to_string(v.ndim()) + "-D");
  const size_t n = static_cast<size_t>(v.shape(0));
  const int64_t s = v.stride(0);
  if (v.type() == ElemType::kInt32) {
    const auto* d = static_cast<const int32_t*>(v.data());
    for (size_t i = from; i < n; ++i) {
      CheckInt32(d[static_cast<int64_t>(i) * s], i, what, vocab);
      out.push_back(d[static_cast<int64_t>(i) * s]);
    }
  } else if (v.type() == ElemType::kInt64) {
    const auto* d = static_cast<const int64_t*>(v.data());
    for (size_t i = from; i < n; ++i) {
      CheckInt32(d[static_cast<int64_t>(i) * s], i, what, vocab);
      out.push_back(static_cast<int32_t>(d[static_cast<int64_t>(i) * s]));
    }
  } else {
    ThrowInvalid(std::string(what) + " has dtype " + v.type_name() + "; token ids must be int32 or int64");
  }
}

TokenIds TokenIds::From(py::handle obj, const char* what, int64_t vocab) {
  TokenIds t;
  if (!PyList_Check(obj.ptr()) && !PyTuple_Check(obj.ptr())) {
    if (!ArrayView::IsArrayLike(obj)) {
      ThrowInvalid(std::string(what) + ": expected a list of ints, a 1-D integer numpy array or tensor, got " +
                   std::string(py::str(obj.get_type().attr("__name__"))));
    }
    auto v = std::make_unique<ArrayView>(ArrayView::From(obj, what, false));
    if (v->ndim() != 1) ThrowInvalid(std::string(what) + " must be 1-D, got " + std::to_string(v->ndim()) + "-D");
    if (v->type() == ElemType::kInt32 && (v->stride(0) == 1 || v->shape(0) <= 1)) {
      const auto* d = static_cast<const int32_t*>(v->data());
      const size_t n = static_cast<size_t>(v->shape(0));
      for (size_t i = 0; i < n; ++i) CheckInt32(d[i], i, what, vocab);
      t.span_ = std::span<const int32_t>(d, n);
      t.borrowed_ = std::move(v);
      return t;
    }
  }
  AppendTokenIds(obj, 0, what, vocab, t.owned_);
  t.span_ = t.owned_;
  return t;
}

}  // namespace telltale::python
