#include "errors.h"

#include <array>
#include <string>

namespace telltale::python {
namespace {

namespace py = pybind11;

struct ErrorClass {
  StatusCode code;
  const char* name;
  PyObject* extra_base;  // a builtin exception it also derives from, or null
};

// Filled once at import; the classes live as long as the module.
std::array<PyObject*, 11> g_classes{};
PyObject* g_base = nullptr;

PyObject* ClassFor(StatusCode code) {
  const auto i = static_cast<size_t>(code);
  if (i < g_classes.size() && g_classes[i] != nullptr) return g_classes[i];
  return g_base;
}

}  // namespace

void SetPythonErrorFromCurrentException() noexcept {
  try {
    throw;
  } catch (const StatusError& e) {
    PyErr_SetString(ClassFor(e.status().code()), e.status().message().c_str());
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "telltale: unknown C++ exception");
  }
}

void RegisterErrors(py::module_& m) {
  const ErrorClass classes[] = {
      {StatusCode::kInvalidArgument, "InvalidArgumentError", PyExc_ValueError},
      {StatusCode::kNotFound, "NotFoundError", nullptr},
      {StatusCode::kPermissionDenied, "PermissionDeniedError", nullptr},
      {StatusCode::kDataLoss, "DataLossError", nullptr},
      {StatusCode::kFailedPrecondition, "FailedPreconditionError", nullptr},
      {StatusCode::kOutOfRange, "OutOfRangeError", PyExc_ValueError},
      {StatusCode::kUnimplemented, "UnimplementedError", nullptr},
      {StatusCode::kInternal, "InternalError", nullptr},
      {StatusCode::kCancelled, "CancelledError", nullptr},
      {StatusCode::kUnavailable, "UnavailableError", nullptr},
  };
  g_base = PyErr_NewExceptionWithDoc("telltale.TelltaleError",
                                     "Base class of every error raised by telltale; `code` names the Status code.",
                                     PyExc_Exception, nullptr);
  if (g_base == nullptr) throw py::error_already_set();
  PyObject_SetAttrString(g_base, "code", py::str("UNKNOWN").ptr());
  m.add_object("TelltaleError", py::handle(g_base));
  for (const ErrorClass& c : classes) {
    py::tuple bases = c.extra_base != nullptr ? py::make_tuple(py::handle(g_base), py::handle(c.extra_base))
                                              : py::make_tuple(py::handle(g_base));
    const std::string qualified = std::string("telltale.") + c.name;
    PyObject* cls = PyErr_NewException(qualified.c_str(), bases.ptr(), nullptr);
    if (cls == nullptr) throw py::error_already_set();
    const std::string code_name(StatusCodeName(c.code));
    PyObject_SetAttrString(cls, "code", py::str(code_name).ptr());
    g_classes[static_cast<size_t>(c.code)] = cls;
    m.add_object(c.name, py::handle(cls));
  }
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      PyErr_SetString(ClassFor(e.status().code()), e.status().message().c_str());
    }
  });
}

}  // namespace telltale::python
