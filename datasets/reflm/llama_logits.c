/* Prints llama.cpp's tokenization and last-position logits for prompts, so
 * tests can compare them with the torch reference LM.
 *
 * Usage: llama_logits MODEL.gguf < prompts   (one prompt per line)
 * Output: one line per prompt: "<n_tokens> ids... | <n_vocab> logits..."
 * Exit code 2 with a one-line message on any failure. Single-threaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

static void quiet_log(enum ggml_log_level level, const char *text, void *user) {
  (void)user;
  if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.gguf < prompts\n", argv[0]);
    return 2;
  }
  llama_log_set(quiet_log, NULL);
  llama_backend_init();
  struct llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  struct llama_model *model = llama_model_load_from_file(argv[1], mp);
  if (!model) {
    fprintf(stderr, "llama_logits: cannot load %s\n", argv[1]);
    return 2;
  }
  const struct llama_vocab *vocab = llama_model_get_vocab(model);
  const int n_vocab = llama_vocab_n_tokens(vocab);
  char line[65536];
  llama_token toks[4096];
  while (fgets(line, sizeof line, stdin)) {
    size_t len = strcspn(line, "\n");
    line[len] = '\0';
    int n = llama_tokenize(vocab, line, (int32_t)len, toks, 4096, true, false);
    if (n <= 0) {
      fprintf(stderr, "llama_logits: tokenize failed (%d) for prompt '%.40s'\n", n, line);
      return 2;
    }
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 256;
    cp.n_batch = 256;
    cp.n_ubatch = 256;
    cp.n_threads = 1;
    cp.n_threads_batch = 1;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) {
      fprintf(stderr, "llama_logits: cannot create context\n");
      return 2;
    }
    if (llama_decode(ctx, llama_batch_get_one(toks, n)) != 0) {
      fprintf(stderr, "llama_logits: decode failed\n");
      return 2;
    }
    const float *logits = llama_get_logits_ith(ctx, -1);
    printf("%d", n);
    for (int i = 0; i < n; i++) printf(" %d", toks[i]);
    printf(" | %d", n_vocab);
    for (int i = 0; i < n_vocab; i++) printf(" %.6g", logits[i]);
    printf("\n");
    llama_free(ctx);
  }
  llama_model_free(model);
  llama_backend_free();
  return 0;
}
