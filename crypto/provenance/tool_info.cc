#include "crypto/provenance/tool_info.h"

namespace telltale::provenance {

std::string ToolVersion() { return TELLTALE_VERSION_STRING; }

StatusOr<Hash> ToolSha256() {
  StatusOr<Hash> h = Sha256OfFile("/proc/self/exe");
  if (!h.ok()) return h.status().WithContext("tool digest");
  return h;
}

}  // namespace telltale::provenance
