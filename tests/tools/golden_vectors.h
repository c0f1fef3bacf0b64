// Golden vectors for docs/SPEC.md: exact PRF blocks, context hashes, slots,
// green bits, derived keys and detection results for fixed keys and schemes.
// The committed copy is tests/vectors/prf_v1.json; the C++ unit test checks
// the code against it and tests/spec/ recomputes it independently in Python.
#pragma once

#include <nlohmann/json.hpp>

namespace telltale {
nlohmann::json MakeGoldenVectors();
}
