#include "torch_view.h"

#include <c10/core/TensorImpl.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <exception>

#ifndef TELLTALE_TORCH_VERSION
#error "TELLTALE_TORCH_VERSION must name the torch version whose headers are used"
#endif

namespace telltale::python {

bool ReadTorchImpl(const void* impl_ptr, TorchFacts& out) noexcept {
  if (impl_ptr == nullptr) return false;
  const auto* impl = static_cast<const c10::TensorImpl*>(impl_ptr);
  try {
    if (!impl->is_cpu() || impl->layout() != c10::kStrided || impl->is_neg() || impl->is_conj() ||
        impl->requires_grad() || !impl->has_storage()) {
      return false;
    }
    const caffe2::TypeMeta dtype = impl->dtype();
    if (dtype == caffe2::TypeMeta::Make<float>()) {
      out.type = ElemType::kFloat32;
    } else if (dtype == caffe2::TypeMeta::Make<c10::Half>()) {
      out.type = ElemType::kFloat16;
    } else if (dtype == caffe2::TypeMeta::Make<c10::BFloat16>()) {
      out.type = ElemType::kBFloat16;
    } else if (dtype == caffe2::TypeMeta::Make<int64_t>()) {
      out.type = ElemType::kInt64;
    } else if (dtype == caffe2::TypeMeta::Make<int32_t>()) {
      out.type = ElemType::kInt32;
    } else {
      return false;
    }
    // A ZeroTensor has no memory behind its elements.
    if (impl->key_set().has(c10::DispatchKey::ZeroTensor)) return false;
    const c10::IntArrayRef sizes = impl->sizes();
    const c10::IntArrayRef strides = impl->strides();
    if (sizes.size() > static_cast<size_t>(TorchFacts::kMaxDims) || strides.size() != sizes.size()) return false;
    out.ndim = static_cast<int>(sizes.size());
    // The view's last element must lie inside its storage: in-place writes
    // go straight to this memory.
    int64_t last = impl->storage_offset();
    bool empty = false;
    for (int i = 0; i < out.ndim; ++i) {
      out.shape[i] = sizes[static_cast<size_t>(i)];
      out.strides[i] = strides[static_cast<size_t>(i)];
      if (out.strides[i] < 0 || out.shape[i] < 0) return false;
      if (out.shape[i] == 0) empty = true;
      else last += (out.shape[i] - 1) * out.strides[i];
    }
    const auto item = static_cast<int64_t>(dtype.itemsize());
    const auto nbytes = static_cast<int64_t>(impl->unsafe_storage().nbytes());
    if (!empty && (last + 1) * item > nbytes) return false;
    out.data = impl->data();
    return empty || out.data != nullptr;
  } catch (const std::exception&) {  // c10::Error from a TORCH_CHECK: not a tensor we can read
    return false;
  }
}

const char* TorchHeadersVersion() noexcept { return TELLTALE_TORCH_VERSION; }

}  // namespace telltale::python
