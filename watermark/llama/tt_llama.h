/* Telltale for llama.cpp: a watermarking llama_sampler and the per-tenant
 * gateway that the patched llama-server loads (dlopen) from
 * libtelltale_llama.so.
 *
 * Conventions follow capi/telltale.h: pointer + length arguments, tt_status
 * results, and a thread-local last-error message (tt_llama_last_error(),
 * valid until the next tt_llama_* call on the same thread).
 *
 * Chain placement (see docs/llama.md):
 *  - bias schemes (kgw, unigram): FIRST in the chain, before penalties,
 *    top-k, top-p and temperature. Biasing is by token id, so a reduced
 *    candidate array is also handled correctly.
 *  - sampling schemes (gumbel): LAST, in place of dist; it sets selected.
 *  tt_llama_sampler_selects() tells which.
 */
#ifndef TELLTALE_WATERMARK_LLAMA_TT_LLAMA_H_
#define TELLTALE_WATERMARK_LLAMA_TT_LLAMA_H_

#include <stddef.h>
#include <stdint.h>

#include "capi/telltale.h"

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

struct llama_sampler;

/* Bumped whenever a tt_llama_* signature below changes; the server patch
 * refuses a library with another version. */
#define TT_LLAMA_ABI_VERSION 2u
uint32_t tt_llama_abi_version(void);
const char* tt_llama_last_error(void);

/* A new watermark sampler for one sequence, keyed by the key file at
 * key_path (refused if group/other can read it) and the scheme spec string.
 * n_vocab: llama_vocab_n_tokens() of the model. seed: rng for gumbel steps
 * whose context is too short to watermark (unused by bias schemes).
 * Returns NULL on error. The caller owns the result (llama_sampler_free, or
 * a chain that takes ownership). */
struct llama_sampler* tt_llama_sampler_init(const char* key_path, size_t key_path_len, const char* spec,
                                            size_t spec_len, int32_t n_vocab, uint64_t seed);
/* 1 when the sampler selects the token (sampling scheme: put it last, in
 * place of dist), 0 when it only biases logits, -1 when smpl is not a
 * telltale sampler. */
int tt_llama_sampler_selects(const struct llama_sampler* smpl);

/* ---- server gateway: tenants, API keys, policy, records ----
 * scheme: spec string; keys_dir: holds <tenant>.key files (mode 0600);
 * policy_path: policy file or NULL (default: no opt-out for anyone);
 * record_path: JSONL file records are appended to, or NULL (no records);
 * api_keys_path: API-key -> tenant map (docs/llama.md, mode 0600) or NULL
 * (the request's `user` field names the tenant).
 * Thread-safety: every gateway call may run concurrently. */
typedef struct tt_llama_gateway tt_llama_gateway;

TT_NODISCARD tt_status tt_llama_gateway_new(const char* scheme, const char* keys_dir, const char* policy_path,
                                            const char* record_path, const char* api_keys_path,
                                            tt_llama_gateway** out);
void tt_llama_gateway_free(tt_llama_gateway* gw);

/* One request as the server sees it. struct_size: sizeof(tt_llama_request)
 * as the caller compiled it (checked, so a mismatched header fails cleanly).
 * api_key: the bearer token (NULL: the request presented none); user: the
 * `user` field (NULL: absent); watermark_requested: 0 when the request
 * asked to opt out. */
typedef struct tt_llama_request {
  uint32_t struct_size;
  const char* api_key;
  size_t api_key_len;
  const char* user;
  size_t user_len;
  int watermark_requested;
  int32_t n_vocab;
  uint64_t seed;
} tt_llama_request;

#define TT_LLAMA_TENANT_CHARS 128
typedef struct tt_llama_decision {
  uint32_t struct_size;          /* set by the caller: sizeof(tt_llama_decision) */
  struct llama_sampler* sampler; /* caller owns; NULL: served without watermark */
  int selects;                   /* as tt_llama_sampler_selects */
  int unauthenticated;           /* on failure: 1 when the API key was missing or unknown (HTTP 401) */
  char key_id[TT_KEY_ID_CHARS + 1];         /* "" when unwatermarked */
  char tenant[TT_LLAMA_TENANT_CHARS + 1];   /* "" for an anonymous request */
} tt_llama_decision;

/* Resolves one request: who the tenant is (with an API-key map: the key's
 * tenant, `user` ignored; without: `user`), then its sampler. Unwatermarked
 * only when the policy allows it (opt-out, or anonymous requests). Fails
 * with a message for the client: unknown tenants, refused opt-outs and
 * (out->unauthenticated = 1) missing or unknown API keys. */
TT_NODISCARD tt_status tt_llama_gateway_resolve(tt_llama_gateway* gw, const tt_llama_request* req,
                                                tt_llama_decision* out);

/* Appends one record for a finished completion (docs/llama.md, Records). */
TT_NODISCARD tt_status tt_llama_gateway_record(tt_llama_gateway* gw, const char* tenant, size_t tenant_len,
                                               const char* key_id, int watermarked, int64_t prompt_tokens,
                                               int64_t completion_tokens, const char* text, size_t text_len);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif  /* TELLTALE_WATERMARK_LLAMA_TT_LLAMA_H_ */
