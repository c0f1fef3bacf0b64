// Zero-copy views of caller arrays: numpy (and anything else exporting the
// buffer protocol), CPU torch tensors (read through data_ptr/shape/stride,
// the cheapest path, including torch.bfloat16, which has no numpy dtype) and
// any other DLPack producer.
//
// An ArrayView borrows the caller's memory; it holds the Py_buffer or the
// DLPack capsule until it is destroyed, so the memory stays valid while
// native code runs without the GIL. Views are created and destroyed under
// the GIL; only data()/shape()/stride() may be read without it.
//
// Edge cases: strides are in elements and may exceed the row length (row
// padding); negative or non-element-multiple strides are rejected, as are
// non-CPU DLPack devices and arrays of more than kMaxDims dimensions.
// Creating a view allocates nothing (shape and strides live inline), since
// logits processors create two per generation step. A DLPack capsule is never renamed "used_dltensor",
// so its producer's capsule destructor frees the DLManagedTensor.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "elem_type.h"

namespace telltale::python {

class ArrayView {
 public:
  static constexpr int kMaxDims = 8;
  // `what` names the argument in errors ("logits"). `writable` asks the
  // producer for a writable buffer (numpy rejects read-only arrays).
  static ArrayView From(pybind11::handle obj, const char* what, bool writable);
  // True when obj exports the buffer protocol or DLPack.
  static bool IsArrayLike(pybind11::handle obj);

  ArrayView(ArrayView&& other) noexcept;
  ArrayView& operator=(ArrayView&&) = delete;
  ArrayView(const ArrayView&) = delete;
  ~ArrayView();

  void* data() const { return data_; }
  ElemType type() const { return type_; }
  const std::string& type_name() const { return type_name_; }
  int ndim() const { return ndim_; }
  int64_t shape(int i) const { return shape_[i]; }
  int64_t stride(int i) const { return strides_[i]; }

 private:
  ArrayView() = default;
  static bool FromTorch(pybind11::handle obj, const char* what, bool writable, ArrayView& v);
  static bool FromTorchImpl(pybind11::handle obj, ArrayView& v);
  void SetNdim(int64_t ndim, const char* what);
  void* data_ = nullptr;
  ElemType type_ = ElemType::kOther;
  std::string type_name_;  // short names fit the small-string buffer: no allocation
  int ndim_ = 0;
  int64_t shape_[kMaxDims] = {};
  int64_t strides_[kMaxDims] = {};
  Py_buffer buffer_{};
  bool has_buffer_ = false;
  pybind11::object capsule_;  // DLPack capsule or torch tensor kept alive
};

// True when CPU torch tensors are read through their TensorImpl
// (torch_view.h) rather than Python attributes; false until torch is
// imported, or when the build had no libtorch headers.
bool TorchFastPathEnabled();

// Token ids as int32: a borrowed view when the caller passed contiguous
// int32 data, else a checked copy (int64 arrays, lists). Every id must lie
// in [0, vocab) when vocab > 0, else in [0, 2^31).
class TokenIds {
 public:
  // Converts a 1-D sequence: list/tuple of ints, or a 1-D integer array.
  static TokenIds From(pybind11::handle obj, const char* what, int64_t vocab);
  std::span<const int32_t> span() const { return span_; }

 private:
  std::unique_ptr<ArrayView> borrowed_;  // keeps a borrowed int32 buffer alive
  std::vector<int32_t> owned_;
  std::span<const int32_t> span_;
};

// Appends ids [from, to) of a 1-D integer sequence to `out`, checked as in
// TokenIds. Used by stateful processors that read only the new tokens.
void AppendTokenIds(pybind11::handle seq, size_t from, const char* what, int64_t vocab, std::vector<int32_t>& out);
// Number of elements of a list/tuple or 1-D array.
size_t SequenceLength(pybind11::handle seq, const char* what);

}  // namespace telltale::python
