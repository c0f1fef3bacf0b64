// Lower-case hexadecimal encoding used in key files, key ids and reports.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace telltale {

std::string HexEncode(std::span<const uint8_t> bytes);

// Decodes exactly out.size() bytes from `hex` (upper or lower case). Fails
// with InvalidArgument naming `what` on a wrong length or a non-hex digit.
// Writes into caller-owned memory so secrets never pass through std::string.
Status HexDecode(std::string_view hex, std::span<uint8_t> out, std::string_view what);

}  // namespace telltale
