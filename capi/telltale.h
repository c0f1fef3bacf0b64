/* Telltale C ABI: keyed watermarking and exact detection for embedding in
 * inference servers and other languages.
 *
 * Conventions (see docs/ARCHITECTURE.md):
 *  - Opaque handles (tt_key, tt_watermarker, tt_detector, tt_sample_workspace)
 *    are created by tt_*_new / tt_key_* and released by the matching tt_*_free.
 *    A *_free of NULL is a no-op. Handles never take ownership of caller
 *    buffers; every array is passed as pointer + length and stays owned by
 *    the caller.
 *  - Every fallible call returns tt_status. On failure, tt_last_error() gives
 *    a message saying what failed and why; it is thread-local and valid until
 *    the next Telltale call on the same thread.
 *  - Structs passed in or out start with abi_version and struct_size. Set them
 *    with TT_ABI_VERSION and sizeof(struct); the library reads and writes only
 *    the first struct_size bytes, so newer fields can be appended without
 *    breaking old callers. Structs are never passed by value.
 *  - Thread-safety: tt_key, tt_watermarker and tt_detector are immutable after
 *    creation; their functions may run concurrently on the same handle. A
 *    tt_sample_workspace belongs to one thread at a time.
 *  - Secrets: key bytes live in guarded memory and are wiped by tt_key_free.
 */
#ifndef TELLTALE_CAPI_TELLTALE_H_
#define TELLTALE_CAPI_TELLTALE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define TT_ABI_VERSION 1u
#define TT_KEY_BYTES 32u
#define TT_KEY_ID_CHARS 32u /* plus the terminating NUL */

#if defined(__GNUC__)
#define TT_NODISCARD __attribute__((warn_unused_result))
#else
#define TT_NODISCARD
#endif

typedef enum tt_status {
  TT_OK = 0,
  TT_INVALID_ARGUMENT = 1,
  TT_NOT_FOUND = 2,
  TT_PERMISSION_DENIED = 3,
  TT_DATA_LOSS = 4,
  TT_FAILED_PRECONDITION = 5,
  TT_OUT_OF_RANGE = 6,
  TT_UNIMPLEMENTED = 7,
  TT_INTERNAL = 8,
  TT_CANCELLED = 9,
  TT_UNAVAILABLE = 10
} tt_status;

typedef struct tt_key tt_key;
typedef struct tt_watermarker tt_watermarker;
typedef struct tt_detector tt_detector;
typedef struct tt_sample_workspace tt_sample_workspace;

/* The ABI version this library implements (TT_ABI_VERSION it was built with). */
uint32_t tt_abi_version(void);
/* Message of the last failed call on this thread ("" if none). */
const char* tt_last_error(void);

/* ---- keys ---- */
TT_NODISCARD tt_status tt_key_generate(tt_key** out);
/* Loads a key file; refuses files readable by group or others. */
TT_NODISCARD tt_status tt_key_load(const char* path, size_t path_len, tt_key** out);
/* Copies exactly TT_KEY_BYTES bytes; the caller wipes its own copy. */
TT_NODISCARD tt_status tt_key_from_bytes(const uint8_t* bytes, size_t len, tt_key** out);
/* HKDF-SHA256 tenant sub-key of a master key (docs/SPEC.md, Key derivation). */
TT_NODISCARD tt_status tt_key_derive(const tt_key* master, const char* tenant, size_t tenant_len, const char* region,
                                     size_t region_len, const char* epoch, size_t epoch_len, tt_key** out);
/* Writes the 32-character key id and a NUL; buf_len must be >= 33. */
TT_NODISCARD tt_status tt_key_id(const tt_key* key, char* buf, size_t buf_len);
void tt_key_free(tt_key* key);

/* ---- generation ---- */
/* spec: a scheme spec string such as "kgw:gamma=0.25,delta=2,h=1". */
TT_NODISCARD tt_status tt_watermarker_new(const tt_key* key, const char* spec, size_t spec_len, tt_watermarker** out);
void tt_watermarker_free(tt_watermarker* wm);
/* Writes the canonical spec string and a NUL into buf; *needed gets its size. */
TT_NODISCARD tt_status tt_watermarker_spec(const tt_watermarker* wm, char* buf, size_t buf_len, size_t* needed);

/* Bias schemes: adds delta to green logits in place. context = every token
 * before the one being generated (oldest first). Never allocates. */
TT_NODISCARD tt_status tt_watermarker_apply(const tt_watermarker* wm, const int32_t* context, size_t context_len,
                                            float* logits, size_t vocab);
/* Row b (of batch) uses context tokens[offsets[b] .. offsets[b+1]) and logits
 * at logits + b * row_stride (row_stride >= vocab, in floats). */
TT_NODISCARD tt_status tt_watermarker_apply_batch(const tt_watermarker* wm, const int32_t* tokens, size_t n_tokens,
                                                  const int64_t* offsets, size_t batch, float* logits, size_t vocab,
                                                  size_t row_stride);

typedef struct tt_sampling_params {
  uint32_t abi_version;
  uint32_t struct_size;
  float temperature; /* > 0 */
  int32_t top_k;     /* 0 disables */
  float top_p;       /* (0, 1]; 1 disables */
} tt_sampling_params;

TT_NODISCARD tt_status tt_sample_workspace_new(tt_sample_workspace** out);
void tt_sample_workspace_free(tt_sample_workspace* ws);
/* Draws the next token (keyed Gumbel-max for gumbel; bias + multinomial with
 * the splitmix64 state *rng otherwise). params may be NULL for defaults. */
TT_NODISCARD tt_status tt_watermarker_sample(const tt_watermarker* wm, const int32_t* context, size_t context_len,
                                             const float* logits, size_t vocab, const tt_sampling_params* params,
                                             uint64_t* rng, tt_sample_workspace* ws, int32_t* out_token);

/* ---- detection ---- */
typedef enum tt_dedup { TT_DEDUP_CONTEXT_TOKEN = 0, TT_DEDUP_CONTEXT = 1, TT_DEDUP_NONE = 2 } tt_dedup;

typedef struct tt_detect_options {
  uint32_t abi_version;
  uint32_t struct_size;
  int32_t dedup;            /* tt_dedup */
  int32_t window_search;    /* nonzero: also search windows */
  int64_t prompt_tokens;    /* leading tokens used as context only */
  const int32_t* ignore_ids; /* special tokens never scored; may be NULL */
  size_t n_ignore_ids;
  int32_t min_window;       /* scored tokens in the smallest window (default 32) */
} tt_detect_options;

typedef struct tt_detect_result {
  uint32_t abi_version;
  uint32_t struct_size;
  int64_t tokens, scored;
  double score, expected, z;
  double p_value; /* 0 when it underflows: use log10_p */
  double log10_p;
  int32_t has_window;
  int64_t window_begin, window_end; /* token positions [begin, end) */
  double window_log10_p_corrected;
} tt_detect_result;

TT_NODISCARD tt_status tt_detector_new(const tt_key* key, const char* spec, size_t spec_len, tt_detector** out);
void tt_detector_free(tt_detector* det);
/* options may be NULL (defaults). mask may be NULL, else it receives n
 * entries: 1 green, 0 red, -1 no context/prompt, -2 ignored, -3 duplicate. */
TT_NODISCARD tt_status tt_detector_score(const tt_detector* det, const int32_t* tokens, size_t n,
                                         const tt_detect_options* options, tt_detect_result* out, int8_t* mask);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif
#endif /* TELLTALE_CAPI_TELLTALE_H_ */
