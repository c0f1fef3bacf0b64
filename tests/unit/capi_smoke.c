/* Compiled as C and linked against libtelltale.so: proves the header is
 * valid C and the shared library exports the ABI. */
#include <stdio.h>
#include <string.h>

#include "capi/telltale.h"

int main(void) {
  tt_key* key = NULL;
  tt_watermarker* wm = NULL;
  float logits[64];
  int32_t ctx[2] = {3, 4};
  const char* spec = "kgw:gamma=0.5,delta=1";
  int changed = 0;
  if (tt_abi_version() != TT_ABI_VERSION) return 1;
  if (tt_key_generate(&key) != TT_OK) return 2;
  if (tt_watermarker_new(key, spec, strlen(spec), &wm) != TT_OK) return 3;
  for (int i = 0; i < 64; ++i) logits[i] = 0.0f;
  if (tt_watermarker_apply(wm, ctx, 2, logits, 64) != TT_OK) return 4;
  for (int i = 0; i < 64; ++i) changed += logits[i] == 1.0f;
  tt_watermarker_free(wm);
  tt_key_free(key);
  if (changed < 16 || changed > 48) return 5; /* about half are green */
  printf("capi_smoke: %d of 64 tokens green\n", changed);
  return 0;
}
