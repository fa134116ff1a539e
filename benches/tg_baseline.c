/* Generation speed of llama.cpp called directly through llama.h: the baseline for the embedded
 * backend (benches/llama-bench.sh). The same loop as ours — one warm-up run, then three runs of N
 * greedy tokens after a short prompt, one token per decode — linked against the very static
 * libraries that llama-cpp-sys-2 built, so the ratio measures only what the binding adds.
 * Usage: tg_baseline MODEL.gguf THREADS TOKENS   (prints tokens/s) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "llama.h"

static void quiet(enum ggml_log_level level, const char *text, void *data) {
    (void)level; (void)text; (void)data;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: tg_baseline MODEL.gguf THREADS TOKENS\n");
        return 2;
    }
    int threads = atoi(argv[2]), n = atoi(argv[3]);
    llama_log_set(quiet, NULL);
    llama_backend_init();
    struct llama_model *model = llama_model_load_from_file(argv[1], llama_model_default_params());
    if (!model) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    /* The same chat-formatted prompt the embedded backend sends. */
    struct llama_chat_message msg = {"user",
        "Write a very long story about a lighthouse keeper, with many chapters."};
    char prompt[1024];
    int len = llama_chat_apply_template(llama_model_chat_template(model, NULL), &msg, 1, 1,
                                        prompt, sizeof prompt);
    if (len < 0 || len >= (int)sizeof prompt) { fprintf(stderr, "chat template failed\n"); return 1; }
    prompt[len] = 0;
    llama_token tokens[256];
    int n_prompt = llama_tokenize(vocab, prompt, len, tokens, 256, 1, 1);
    double sum = 0;
    for (int run = 0; run < 4; run++) {
        struct llama_context_params cp = llama_context_default_params();
        cp.n_ctx = 1024; cp.n_batch = 512; cp.n_threads = threads; cp.n_threads_batch = threads;
        struct llama_context *ctx = llama_init_from_model(model, cp);
        struct llama_sampler *smpl = llama_sampler_chain_init(llama_sampler_chain_default_params());
        llama_sampler_chain_add(smpl, llama_sampler_init_greedy());
        llama_decode(ctx, llama_batch_get_one(tokens, n_prompt));
        int produced = 0;
        double first = 0, start = now();
        for (; produced < n; produced++) {
            llama_token t = llama_sampler_sample(smpl, ctx, -1);
            if (llama_vocab_is_eog(vocab, t)) break;
            if (produced == 0) first = now();
            if (llama_decode(ctx, llama_batch_get_one(&t, 1))) break;
        }
        double end = now();
        (void)start;
        if (run > 0 && produced > 1) sum += (produced - 1) / (end - first);
        llama_sampler_free(smpl);
        llama_free(ctx);
    }
    printf("%.2f\n", sum / 3);
    llama_model_free(model);
    return 0;
}
