// Reading files that hold secrets (watermark key files, signing keys,
// commitment openings, the llama-server API-key map).
//
// ReadPrivateFile refuses anything but a regular file that only its owner
// can read (PermissionDenied with the mode and the chmod fix), exactly as
// watermark key files are treated, and reads at most cap-1 bytes into caller
// memory so the caller can wipe it with sodium_memzero.
// Thread-safety: reentrant.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"

namespace telltale {

// `what` names the file kind in errors ("signing key file").
Status ReadPrivateFile(const std::string& path, const std::string& what, char* buf, size_t cap, size_t* used);

}  // namespace telltale
