// Key and Scheme bindings.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>

#include "bindings.h"
#include "errors.h"

namespace telltale::python {
namespace {

namespace py = pybind11;

std::shared_ptr<PyKey> Wrap(KeyFile file) {
  return std::make_shared<PyKey>(PyKey{std::move(file)});
}

}  // namespace

void RegisterKeys(py::module_& m) {
  py::class_<PyKey, std::shared_ptr<PyKey>>(m, "Key", R"doc(
A 256-bit watermark key held in libsodium guarded memory.

Keys are never printed or exposed as bytes; ``id`` is a fingerprint that
reveals nothing about the key.

>>> import telltale
>>> k = telltale.Key.generate()
>>> len(k.id), k.kind
(32, 'master')
>>> t = k.derive(tenant="acme", region="eu", epoch="2026-11")
>>> t.kind, t.parent_id == k.id, t.tenant
('derived', True, 'acme')
>>> t.id == k.derive(tenant="acme", region="eu", epoch="2026-11").id
True
)doc")
      .def_static(
          "generate",
          [] { return Wrap(KeyFile{KeyFile::Kind::kMaster, {}, {}, ValueOrThrow(SecretKey::Generate())}); },
          "A fresh master key from libsodium's CSPRNG.")
      .def_static(
          "load",
          [](const std::string& path) {
            py::gil_scoped_release nogil;
            return Wrap(ValueOrThrow(LoadKeyFile(path)));
          },
          py::arg("path"),
          "Loads a 'telltale-key v1' file. Refuses files readable by group or others (PermissionDeniedError).")
      .def_static(
          "from_bytes",
          [](py::bytes raw) {
            std::string_view b = raw;
            auto key = ValueOrThrow(SecretKey::FromBytes(
                std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(b.data()), b.size())));
            return Wrap(KeyFile{KeyFile::Kind::kMaster, {}, {}, std::move(key)});
          },
          py::arg("raw"), "A master key from exactly 32 bytes (tests and key-management integrations).")
      .def(
          "save",
          [](const PyKey& k, const std::string& path) {
            py::gil_scoped_release nogil;
            ThrowIfError(SaveKeyFile(k.file, path));
          },
          py::arg("path"), "Writes the key file atomically with mode 0600.")
      .def(
          "derive",
          [](const PyKey& k, const std::string& tenant, const std::string& region, const std::string& epoch) {
            if (k.file.kind != KeyFile::Kind::kMaster) {
              ThrowInvalid("key " + k.file.key.KeyId() + " is a derived key; derive tenant keys from a master key");
            }
            KeyLabels labels{tenant, region, epoch};
            SecretKey sub = ValueOrThrow(DeriveTenantKey(k.file.key, labels));
            return Wrap(KeyFile{KeyFile::Kind::kDerived, k.file.key.KeyId(), labels, std::move(sub)});
          },
          py::kw_only(), py::arg("tenant"), py::arg("region"), py::arg("epoch"),
          "The tenant key HKDF-SHA256(master; tenant, region, epoch); same labels, same key.")
      .def_property_readonly("id", [](const PyKey& k) { return k.file.key.KeyId(); })
      .def_property_readonly("kind",
                             [](const PyKey& k) { return k.file.kind == KeyFile::Kind::kMaster ? "master" : "derived"; })
      .def_property_readonly("parent_id",
                             [](const PyKey& k) -> py::object {
                               if (k.file.kind == KeyFile::Kind::kMaster) return py::none();
                               return py::str(k.file.parent_id);
                             })
      .def_property_readonly("tenant", [](const PyKey& k) { return k.file.labels.tenant; })
      .def_property_readonly("region", [](const PyKey& k) { return k.file.labels.region; })
      .def_property_readonly("epoch", [](const PyKey& k) { return k.file.labels.epoch; })
      .def(
          "__eq__", [](const PyKey& a, const PyKey& b) { return a.file.key.KeyId() == b.file.key.KeyId(); },
          py::is_operator())
      .def("__hash__", [](const PyKey& k) { return py::hash(py::str(k.file.key.KeyId())); })
      .def("__repr__", [](const PyKey& k) {
        std::string r = "Key(id='" + k.file.key.KeyId() + "'";
        if (k.file.kind == KeyFile::Kind::kDerived) {
          r += ", tenant='" + k.file.labels.tenant + "', region='" + k.file.labels.region + "', epoch='" +
               k.file.labels.epoch + "'";
        }
        return r + ")";
      });
}

void RegisterScheme(py::module_& m) {
  py::class_<SchemeSpec>(m, "Scheme", R"doc(
A watermark scheme and its parameters, from a canonical spec string.

``str(scheme)`` writes every parameter in a fixed order, so equal schemes
have equal strings and ``Scheme(str(s)) == s``.

>>> import telltale
>>> s = telltale.Scheme("kgw:gamma=0.25,delta=2")
>>> str(s)
'kgw.v1:gamma=0.25,delta=2,h=1,seeding=left,skip_repeat=false'
>>> telltale.Scheme(str(s)) == s, s.family, s.gamma, s.is_sampling
(True, 'kgw', 0.25, False)
>>> s.prf_identity
'kgw.v1:gamma_q16=16384,h=1,seeding=left'
)doc")
      .def(py::init([](const std::string& spec) { return ValueOrThrow(SchemeSpec::Parse(spec)); }), py::arg("spec"))
      .def("__str__", &SchemeSpec::ToString)
      .def("__repr__", [](const SchemeSpec& s) { return "Scheme('" + s.ToString() + "')"; })
      .def(
          "__eq__", [](const SchemeSpec& a, const SchemeSpec& b) { return a == b; }, py::is_operator())
      .def("__hash__", [](const SchemeSpec& s) { return py::hash(py::str(s.ToString())); })
      .def_property_readonly("prf_identity", &SchemeSpec::PrfIdentity)
      .def_property_readonly("family", [](const SchemeSpec& s) { return std::string(SchemeFamilyName(s.family)); })
      .def_readonly("version", &SchemeSpec::version)
      .def_property_readonly("gamma", &SchemeSpec::gamma)
      .def_readonly("delta", &SchemeSpec::delta)
      .def_readonly("h", &SchemeSpec::h)
      .def_property_readonly("seeding", [](const SchemeSpec& s) { return s.seeding == Seeding::kLeft ? "left" : "self"; })
      .def_readonly("skip_repeat", &SchemeSpec::skip_repeat)
      .def_property_readonly("is_sampling", &SchemeSpec::is_sampling_scheme);
}

}  // namespace telltale::python

namespace telltale::python {

SchemeSpec ToScheme(pybind11::handle obj) {
  if (pybind11::isinstance<SchemeSpec>(obj)) return obj.cast<SchemeSpec>();
  if (pybind11::isinstance<pybind11::str>(obj)) return ValueOrThrow(SchemeSpec::Parse(obj.cast<std::string>()));
  ThrowInvalid("scheme must be a telltale.Scheme or a spec string such as 'kgw:gamma=0.25', got " +
               std::string(pybind11::str(obj.get_type().attr("__name__"))));
}

}  // namespace telltale::python
