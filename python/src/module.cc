// telltale._core: the private extension under the pure-Python telltale
// package. Users import `telltale`, never this module directly.
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "errors.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "Private native core of the telltale package (import telltale instead).";
  telltale::python::RegisterErrors(m);
  telltale::python::RegisterKeys(m);
  telltale::python::RegisterScheme(m);
  telltale::python::RegisterWatermarker(m);
  telltale::python::RegisterDetector(m);
  telltale::python::RegisterProcessors(m);
#ifdef TELLTALE_PY_WITH_TOKENIZE
  telltale::python::RegisterTokenizer(m);
#endif
#ifdef TELLTALE_PY_WITH_SCAN
  telltale::python::RegisterScan(m);
#endif
#ifdef TELLTALE_PY_WITH_AUDIT
  telltale::python::RegisterAudit(m);
#endif
#ifdef TELLTALE_PY_WITH_PROVENANCE
  telltale::python::RegisterProvenance(m);
#endif
}
