/* The entry points of liblmrt_cuda, which the engine opens at run time
 * (dlopen) only when a model asks for the CUDA backend: plain C types, so
 * that the library and the engine agree without sharing C++ objects. A
 * library whose lmrt_cuda_api_version() differs from LMRT_CUDA_ABI_VERSION
 * is refused. Every pointer in a description is host memory the library
 * reads during the call only. Functions returning int give an lmrt_status
 * (LMRT_OK, or a code with a message in `why`, cap bytes). */
#ifndef LMRT_CUDA_ABI_H
#define LMRT_CUDA_ABI_H

#include <stddef.h>
#include <stdint.h>

#define LMRT_CUDA_ABI_VERSION 7

#ifdef __cplusplus
extern "C" {
#endif

/* A weight tensor as the GGUF file stores it; data NULL: absent. */
typedef struct lmrt_cuda_tensor {
    const void *data;
    uint64_t bytes;
    uint32_t type;
    const char *type_name; /* "Q4_K", for messages */
    int64_t ne[4];
} lmrt_cuda_tensor;

/* A layer's tensors; those an architecture does not have are absent. */
typedef struct lmrt_cuda_layer {
    lmrt_cuda_tensor attn_norm, attn_norm_b, wq, wk, wv, wqkv, bq, bk, bv, bqkv, q_norm, k_norm, wo, bo;
    lmrt_cuda_tensor ffn_norm, ffn_norm_b, w_gate, w_up, w_down, b_up, b_down;
} lmrt_cuda_layer;

#define LMRT_CUDA_ARCH_LLAMA 0 /* the Llama family: Llama, Mistral, Qwen2, Qwen3 */
#define LMRT_CUDA_ARCH_GPT2 1

typedef struct lmrt_cuda_model_desc {
    int32_t device;
    int32_t arch; /* LMRT_CUDA_ARCH_* */
    int32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_rot;
    float rope_base, rope_freq_scale, norm_eps;
    int32_t rope_neox;
    lmrt_cuda_tensor tok_embd, pos_embd, output_norm, output_norm_b, output;
    /* The device runs layers first_layer .. n_layer - 1 and the output; the
     * engine's CPU backend the layers before (0: the whole model). */
    int32_t first_layer;
    const lmrt_cuda_layer *layers; /* n_layer - first_layer of them, from first_layer */
} lmrt_cuda_model_desc;

typedef struct lmrt_cuda_context_desc {
    uint32_t n_blocks, block_size; /* the KV pool: the same geometry as the engine's block tables */
    uint32_t max_rows;             /* the most rows of a step */
    uint32_t max_span;             /* the most positions a row attends to */
} lmrt_cuda_context_desc;

/* One batch row: its token and position, the first position it attends to
 * (0, or the start of a sliding window), where its K/V go (block *
 * block_size + row in block), where its sequence's block table starts in
 * lmrt_cuda_step.tables, whether it is a decoded token (LMRT_ROW_DECODE:
 * its matrix products take the single-row kernels, a prompt row's the
 * batched ones, whatever else shares the step), and for a logit row whether
 * only its greedy token (LMRT_ROW_ARGMAX) or its top_k logits (LMRT_ROW_TOPK)
 * are wanted. */
typedef struct lmrt_cuda_row {
    int32_t token, pos, first, slot, table_offset, decode, argmax, topk;
} lmrt_cuda_row;

typedef struct lmrt_cuda_step {
    const lmrt_cuda_row *rows;
    uint32_t n_rows;
    const int32_t *tables; /* block tables of the step's sequences, concatenated */
    uint32_t n_tables;
    const int32_t *copies; /* pairs (from, to) of whole blocks to copy before the step (copy-on-write) */
    uint32_t n_copies;
    const int32_t *logit_rows; /* ascending row indices whose logits the step returns */
    uint32_t n_logit_rows;
    float *logits;  /* host: n_vocab floats for each logit row with neither argmax nor topk, in order */
    int32_t *tokens; /* host: the greedy token of each logit row with argmax, in order */
    uint32_t top_k;  /* lmrt_step_output's: entries per topk row */
    int32_t *top_ids; /* host: top_k per topk row, in order (as lmrt_step_output) */
    float *top_logits;
    uint32_t max_span; /* the largest pos - first + 1 of the rows */
    const float *x;    /* with first_layer > 0: the rows' hidden states after the CPU's layers (n_rows * n_embd floats) */
} lmrt_cuda_step;

typedef int (*lmrt_cuda_api_version_fn)(void);
typedef int (*lmrt_cuda_device_count_fn)(char *why, int cap);
typedef int (*lmrt_cuda_device_info_fn)(int device, char *name, int cap, size_t *total_bytes);
typedef int (*lmrt_cuda_model_create_fn)(const lmrt_cuda_model_desc *desc, void **model, uint64_t *device_bytes, char *why, int cap);
typedef void (*lmrt_cuda_model_free_fn)(void *model);
typedef int (*lmrt_cuda_context_create_fn)(void *model, const lmrt_cuda_context_desc *desc, void **ctx, uint64_t *device_bytes, char *why,
                                           int cap);
typedef void (*lmrt_cuda_context_free_fn)(void *ctx);
typedef int (*lmrt_cuda_context_step_fn)(void *ctx, const lmrt_cuda_step *step, char *why, int cap);

#ifdef __cplusplus
}
#endif

#endif
