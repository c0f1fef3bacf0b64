// Prints the golden vectors (tests/vectors/prf_v1.json) to stdout.
#include <cstdio>

#include "tests/tools/golden_vectors.h"

int main() {
  std::printf("%s\n", telltale::MakeGoldenVectors().dump(1).c_str());
  return 0;
}
