// The identity of the running Telltale binary, recorded in detection-report
// statements: its version and the SHA-256 of the executable itself
// (/proc/self/exe), so an auditor can tell exactly which build made a report.
// Thread-safety: reentrant (reads the file on each call).
#pragma once

#include <string>

#include "common/status.h"
#include "crypto/provenance/sha256.h"

namespace telltale::provenance {

std::string ToolVersion();
StatusOr<Hash> ToolSha256();

}  // namespace telltale::provenance
