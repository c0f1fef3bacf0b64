// Status -> Python exception mapping for the telltale._core extension.
//
// Every StatusCode has one Python exception class (InvalidArgumentError,
// NotFoundError, ...), all subclasses of telltale.TelltaleError; the
// InvalidArgument and OutOfRange classes also subclass ValueError so generic
// `except ValueError` code keeps working. Binding code reports failure by
// throwing StatusError (ThrowIfError); a registered translator turns it into
// the matching Python exception with the Status message, unchanged.
//
// Thread-safety: RegisterErrors runs once at import, under the GIL.
// ThrowIfError may be called without the GIL; translation happens after the
// GIL is re-acquired, when the exception crosses back into pybind11.
#pragma once

#include <pybind11/pybind11.h>

#include <stdexcept>
#include <utility>

#include "common/status.h"

namespace telltale::python {

class StatusError : public std::runtime_error {
 public:
  explicit StatusError(Status status) : std::runtime_error(status.message()), status_(std::move(status)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

inline void ThrowIfError(const Status& s) {
  if (!s.ok()) throw StatusError(s);
}

template <typename T>
T ValueOrThrow(StatusOr<T>&& v) {
  if (!v.ok()) throw StatusError(v.status());
  return std::move(v).value();
}

[[noreturn]] inline void ThrowInvalid(std::string message) { throw StatusError(Status::InvalidArgument(std::move(message))); }

// For entry points written against the CPython C API (no pybind11
// dispatcher to translate): turns the exception being handled into the
// pending Python error, as the translator would. Call inside `catch (...)`.
void SetPythonErrorFromCurrentException() noexcept;

// Creates the exception classes on `m` and installs the translator.
void RegisterErrors(pybind11::module_& m);

}  // namespace telltale::python
