// Tokenizer bindings (component tokenize/, built when present): exact
// re-tokenization with byte offsets into the caller's original text.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings.h"
#include "errors.h"
#include "tokenize/tokenizer.h"

namespace telltale::python {
namespace {

namespace py = pybind11;
using tokenize::Encoding;
using tokenize::Tokenizer;

struct PyTokenizer {
  std::shared_ptr<const Tokenizer> tok;
};

// (ids int32 [n], offsets int64 [n, 2]) as fresh numpy arrays.
py::tuple ToArrays(const Encoding& e) {
  const auto n = static_cast<py::ssize_t>(e.ids.size());
  py::array_t<int32_t> ids(n);
  py::array_t<int64_t> offsets({n, py::ssize_t{2}});
  auto i = ids.mutable_unchecked<1>();
  auto o = offsets.mutable_unchecked<2>();
  for (py::ssize_t k = 0; k < n; ++k) {
    i(k) = static_cast<int32_t>(e.ids[static_cast<size_t>(k)]);
    o(k, 0) = e.offsets[static_cast<size_t>(k)].begin;
    o(k, 1) = e.offsets[static_cast<size_t>(k)].end;
  }
  return py::make_tuple(ids, offsets);
}

std::string_view Bytes(py::handle text, std::string& storage) {
  if (py::isinstance<py::str>(text)) {
    storage = text.cast<std::string>();  // UTF-8
    return storage;
  }
  if (py::isinstance<py::bytes>(text)) {
    storage = text.cast<std::string>();
    return storage;
  }
  ThrowInvalid("text must be str or bytes, got " + std::string(py::str(text.get_type().attr("__name__"))));
}

}  // namespace

void RegisterTokenizer(py::module_& m) {
  py::class_<PyTokenizer>(m, "Tokenizer", R"doc(
Exact re-tokenization with a real model's vocabulary: Hugging Face
tokenizer.json (BPE), tiktoken rank files or llama.cpp GGUF.

``encode`` returns ``(ids, offsets)``: int32 ids and an int64 ``[n, 2]``
array of byte ranges into the UTF-8 encoding of the input (the original
bytes, before normalization). No BOS/EOS is added.

>>> import json, telltale
>>> spec = {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, " ": 3},
...                   "merges": ["a b"]}}
>>> tok = telltale.Tokenizer.from_json(json.dumps(spec))
>>> ids, offsets = tok.encode("ab a")
>>> ids.tolist(), offsets.tolist()
([2, 3, 0], [[0, 2], [2, 3], [3, 4]])
>>> tok.decode(ids)
b'ab a'
)doc")
      .def_static(
          "load",
          [](const std::string& path) {
            py::gil_scoped_release nogil;
            return PyTokenizer{ValueOrThrow(Tokenizer::Load(path))};
          },
          py::arg("path"), "Loads tokenizer.json, a .tiktoken rank file or a GGUF file (format from the content).")
      .def_static(
          "from_json",
          [](const std::string& json) { return PyTokenizer{ValueOrThrow(Tokenizer::FromHuggingFaceJson(json))}; },
          py::arg("json"), "From the text of a Hugging Face tokenizer.json.")
      .def_property_readonly("vocab_size", [](const PyTokenizer& t) { return t.tok->vocab_size(); })
      .def_property_readonly("kind", [](const PyTokenizer& t) { return t.tok->kind(); })
      .def(
          "encode",
          [](const PyTokenizer& t, py::handle text, bool match_special) {
            std::string storage;
            const std::string_view bytes = Bytes(text, storage);
            StatusOr<Encoding> e = Status::Internal("not encoded");
            {
              py::gil_scoped_release nogil;
              e = t.tok->Encode(bytes, {match_special});
            }
            return ToArrays(ValueOrThrow(std::move(e)));
          },
          py::arg("text"), py::kw_only(), py::arg("match_special") = true)
      .def(
          "encode_batch",
          [](const PyTokenizer& t, const std::vector<py::object>& texts, unsigned threads, bool match_special) {
            std::vector<std::string> storage(texts.size());
            std::vector<std::string_view> views;
            for (size_t i = 0; i < texts.size(); ++i) views.push_back(Bytes(texts[i], storage[i]));
            StatusOr<std::vector<Encoding>> e = Status::Internal("not encoded");
            {
              py::gil_scoped_release nogil;
              e = t.tok->EncodeBatch(views, threads, {match_special});
            }
            py::list out;
            for (const Encoding& enc : ValueOrThrow(std::move(e))) out.append(ToArrays(enc));
            return out;
          },
          py::arg("texts"), py::kw_only(), py::arg("threads") = 1, py::arg("match_special") = true,
          "Encodes many texts on up to `threads` native threads (0: all cores).")
      .def(
          "decode",
          [](const PyTokenizer& t, py::handle ids, bool skip_special) {
            TokenIds in = TokenIds::From(ids, "ids", 0);
            std::vector<uint32_t> u(in.span().begin(), in.span().end());
            std::string bytes = ValueOrThrow(t.tok->Decode(u, {skip_special}));
            return py::bytes(bytes);
          },
          py::arg("ids"), py::kw_only(), py::arg("skip_special") = false,
          "The tokens' bytes (not necessarily valid UTF-8 when ids cut a character).");
}

}  // namespace telltale::python
