// SchemeSpec: a watermark scheme and its parameters, written as a canonical
// factory string in the style of faiss's index_factory.
//
//   kgw.v1:gamma=0.25,delta=2,h=1,seeding=left,skip_repeat=false
//   unigram.v1:gamma=0.5,delta=2
//   gumbel.v1:h=1,skip_repeat=false
//
// Parse accepts a bare family name ("kgw" means the newest version, v1),
// parameters in any order, and omitted parameters (defaults). ToString writes
// every parameter, defaults included, in the fixed order above, so
// Parse(ToString(s)) == s and equal schemes have byte-equal strings.
//
// Two strings matter downstream:
//  - ToString(): the full generation configuration, recorded in provenance.
//  - PrfIdentity(): only the parameters that change which tokens are green
//    (family.version, gamma's 16-bit threshold, h, seeding). The PRF key is
//    derived from it, so changing delta or skip_repeat never changes the
//    green lists, and a detector needs no generation-only knobs.
//
// gamma is carried as a 16-bit threshold G = round(gamma * 65536), so the
// detector's null uses exactly G/65536. ToString prints the shortest decimal
// that maps back to the same G.
//
// Versioning: any change to green lists, bit layout or scores gets a new
// version name; old versions stay parseable and detectable.
// Thread-safety: a value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace telltale {

enum class SchemeFamily { kKgw, kUnigram, kGumbel };
enum class Seeding { kLeft, kSelf };

struct SchemeSpec {
  SchemeFamily family = SchemeFamily::kKgw;
  int version = 1;
  uint32_t gamma_q16 = 16384;  // green fraction * 65536, in [1, 65535]
  double delta = 2.0;          // logit bias added to green tokens
  int h = 1;                   // context width (tokens); 0 only for unigram
  Seeding seeding = Seeding::kLeft;
  bool skip_repeat = false;    // no bias when this context already occurred

  static StatusOr<SchemeSpec> Parse(std::string_view text);
  std::string ToString() const;
  std::string PrfIdentity() const;

  double gamma() const { return gamma_q16 / 65536.0; }
  // Bits per token slot in the PRF output: 1, 2, 4, 8 or 16 for green lists
  // (the fewest that represent G exactly), 32 for gumbel uniforms.
  int slot_bits() const;
  // The green test on a slot value: green iff slot < green_threshold().
  // Gumbel has no green list (its 32-bit slots are uniforms): 0.
  uint32_t green_threshold() const {
    return family == SchemeFamily::kGumbel ? 0 : gamma_q16 >> (16 - slot_bits());
  }
  bool is_sampling_scheme() const { return family == SchemeFamily::kGumbel; }

  friend bool operator==(const SchemeSpec&, const SchemeSpec&) = default;
};

std::string_view SchemeFamilyName(SchemeFamily f);

}  // namespace telltale
