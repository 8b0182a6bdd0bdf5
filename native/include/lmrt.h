/*
 * lmrt.h — the C API of lmrt's native engine.
 *
 * This is the only header that the Node addon (native/addon) and the native
 * tests include. Every entry point validates its inputs and reports failure
 * through a status code plus a sentence in a caller-owned lmrt_error; nothing
 * here throws, aborts or keeps global mutable state.
 *
 * Conventions: functions are lmrt_<object>_<action>; objects are created by
 * *_open / *_init and destroyed by *_free (which accepts NULL). Sizes and
 * counts are uint64_t; strings are (pointer, length) pairs, not
 * NUL-terminated, unless the name says `cstr`.
 */
#ifndef LMRT_H
#define LMRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define LMRT_API __attribute__((visibility("default")))
#else
#define LMRT_API
#endif

/* ---------------------------------------------------------------- status */

typedef enum lmrt_status {
    LMRT_OK = 0,
    LMRT_E_INVALID_ARGUMENT = 1, /* a caller passed a bad value          */
    LMRT_E_IO = 2,               /* open/read/write/mmap failed           */
    LMRT_E_GGUF_INVALID = 3,     /* the file breaks the GGUF format       */
    LMRT_E_GGUF_UNSUPPORTED = 4, /* valid GGUF that lmrt cannot handle    */
    LMRT_E_OUT_OF_MEMORY = 5,
    LMRT_E_INTERNAL = 6,         /* a bug in lmrt: please report it       */
    LMRT_E_CANCELLED = 7,        /* a progress callback asked to stop     */
    LMRT_E_KV_FULL = 8,          /* the KV cache cannot hold the request  */
    LMRT_E_ARCH_UNSUPPORTED = 9, /* a model architecture lmrt cannot run  */
    LMRT_E_BACKEND_UNAVAILABLE = 10, /* the backend asked for cannot run here (no library, no device) */
    LMRT_E_DEVICE = 11,          /* a GPU failed an operation             */
} lmrt_status;

/* A failure: its status and a sentence naming the file/tensor/value and the
 * problem. Owned by the caller; functions fill it only when they fail. */
typedef struct lmrt_error {
    lmrt_status status;
    char message[1024];
} lmrt_error;

/* "E_GGUF_INVALID" etc.: the stable code string the TS layer exposes. */
LMRT_API const char *lmrt_status_code(lmrt_status status);

/* ----------------------------------------------------------- tensor types */

/* GGML tensor types, numbered exactly as in GGUF files. Gaps are ids that
 * ggml retired; they are rejected as unknown. */
typedef enum lmrt_ggml_type {
    LMRT_TYPE_F32 = 0,
    LMRT_TYPE_F16 = 1,
    LMRT_TYPE_Q4_0 = 2,
    LMRT_TYPE_Q4_1 = 3,
    LMRT_TYPE_Q5_0 = 6,
    LMRT_TYPE_Q5_1 = 7,
    LMRT_TYPE_Q8_0 = 8,
    LMRT_TYPE_Q8_1 = 9,
    LMRT_TYPE_Q2_K = 10,
    LMRT_TYPE_Q3_K = 11,
    LMRT_TYPE_Q4_K = 12,
    LMRT_TYPE_Q5_K = 13,
    LMRT_TYPE_Q6_K = 14,
    LMRT_TYPE_Q8_K = 15,
    LMRT_TYPE_IQ2_XXS = 16,
    LMRT_TYPE_IQ2_XS = 17,
    LMRT_TYPE_IQ3_XXS = 18,
    LMRT_TYPE_IQ1_S = 19,
    LMRT_TYPE_IQ4_NL = 20,
    LMRT_TYPE_IQ3_S = 21,
    LMRT_TYPE_IQ2_S = 22,
    LMRT_TYPE_IQ4_XS = 23,
    LMRT_TYPE_I8 = 24,
    LMRT_TYPE_I16 = 25,
    LMRT_TYPE_I32 = 26,
    LMRT_TYPE_I64 = 27,
    LMRT_TYPE_F64 = 28,
    LMRT_TYPE_IQ1_M = 29,
    LMRT_TYPE_BF16 = 30,
    LMRT_TYPE_TQ1_0 = 34,
    LMRT_TYPE_TQ2_0 = 35,
    LMRT_TYPE_MXFP4 = 39,
} lmrt_ggml_type;

/* Layout of one type: `block_size` elements are stored in `block_bytes`
 * bytes. Returns 0 and leaves *out untouched for an unknown id. */
typedef struct lmrt_type_layout {
    const char *name; /* "Q4_K", NUL-terminated, static */
    uint32_t block_size;
    uint32_t block_bytes;
} lmrt_type_layout;

LMRT_API int lmrt_type_layout_get(uint32_t type, lmrt_type_layout *out);

/* Whether lmrt's GGUF writer can encode float data into this type. */
LMRT_API int lmrt_type_can_encode(uint32_t type);

/* ------------------------------------------------------- GGUF metadata */

typedef enum lmrt_gguf_value_type {
    LMRT_GGUF_UINT8 = 0,
    LMRT_GGUF_INT8 = 1,
    LMRT_GGUF_UINT16 = 2,
    LMRT_GGUF_INT16 = 3,
    LMRT_GGUF_UINT32 = 4,
    LMRT_GGUF_INT32 = 5,
    LMRT_GGUF_FLOAT32 = 6,
    LMRT_GGUF_BOOL = 7,
    LMRT_GGUF_STRING = 8,
    LMRT_GGUF_ARRAY = 9,
    LMRT_GGUF_UINT64 = 10,
    LMRT_GGUF_INT64 = 11,
    LMRT_GGUF_FLOAT64 = 12,
} lmrt_gguf_value_type;

typedef struct lmrt_string {
    const char *data; /* not NUL-terminated; may hold any bytes */
    uint64_t len;
} lmrt_string;

/* One metadata value as read from a file. Scalars are widened into u64/i64/
 * f64 by signedness. For arrays: numeric and bool elements are packed
 * little-endian at `array.data` (possibly unaligned: memcpy them); string and
 * nested-array elements are read with lmrt_gguf_array_get(). */
typedef struct lmrt_gguf_value {
    lmrt_gguf_value_type type;
    union {
        uint64_t u64; /* UINT8/16/32/64 and BOOL (0 or 1) */
        int64_t i64;  /* INT8/16/32/64                    */
        double f64;   /* FLOAT32/64                       */
        lmrt_string str;
        struct {
            lmrt_gguf_value_type elem_type;
            uint64_t count;
            const void *data;     /* packed elements, numeric/bool only */
            const void *internal; /* reader bookkeeping; do not touch   */
        } array;
    } as;
} lmrt_gguf_value;

/* --------------------------------------------------------- GGUF reader */

typedef struct lmrt_gguf lmrt_gguf;

typedef struct lmrt_gguf_tensor_info {
    lmrt_string name;
    uint32_t type;  /* lmrt_ggml_type */
    uint32_t n_dims;
    uint64_t ne[4]; /* ne[0] is the contiguous (row) dimension; unused = 1 */
    uint64_t offset; /* from the start of the data section, as in the file */
    uint64_t n_bytes;
    const void *data; /* into the mapping */
} lmrt_gguf_tensor_info;

/* Maps the file read-only and validates all of it: header, every metadata
 * value, every tensor info and that each tensor's bytes lie in the file.
 * The data is never copied. */
LMRT_API lmrt_status lmrt_gguf_open(const char *path_cstr, lmrt_gguf **out, lmrt_error *err);

/* The same over bytes the caller keeps alive until lmrt_gguf_free. `name`
 * appears in error messages (may be NULL). */
LMRT_API lmrt_status lmrt_gguf_open_memory(const void *data, uint64_t size, const char *name_cstr,
                                           lmrt_gguf **out, lmrt_error *err);

LMRT_API void lmrt_gguf_free(lmrt_gguf *gguf);

LMRT_API uint32_t lmrt_gguf_version(const lmrt_gguf *gguf);
LMRT_API uint32_t lmrt_gguf_alignment(const lmrt_gguf *gguf);
LMRT_API uint64_t lmrt_gguf_data_offset(const lmrt_gguf *gguf);
LMRT_API uint64_t lmrt_gguf_file_size(const lmrt_gguf *gguf);

LMRT_API uint64_t lmrt_gguf_n_kv(const lmrt_gguf *gguf);
/* Index of `key`, or -1. */
LMRT_API int64_t lmrt_gguf_find_kv(const lmrt_gguf *gguf, const char *key, uint64_t key_len);
/* note: index must be < lmrt_gguf_n_kv(); out of range returns LMRT_E_INVALID_ARGUMENT. */
LMRT_API lmrt_status lmrt_gguf_kv_get(const lmrt_gguf *gguf, uint64_t index, lmrt_string *key,
                                      lmrt_gguf_value *value);
/* Element `index` of an ARRAY value obtained from this reader. */
LMRT_API lmrt_status lmrt_gguf_array_get(const lmrt_gguf *gguf, const lmrt_gguf_value *array,
                                         uint64_t index, lmrt_gguf_value *element);

LMRT_API uint64_t lmrt_gguf_n_tensors(const lmrt_gguf *gguf);
LMRT_API lmrt_status lmrt_gguf_tensor_get(const lmrt_gguf *gguf, uint64_t index,
                                          lmrt_gguf_tensor_info *info);

/* --------------------------------------------------------- GGUF writer */

/* A metadata value to write. Arrays: numeric and bool elements packed
 * little-endian at `array.data` (bool: one byte 0/1 each); STRING elements
 * as an lmrt_string[count]; ARRAY elements as an lmrt_gguf_value_in[count]. */
typedef struct lmrt_gguf_value_in {
    lmrt_gguf_value_type type;
    union {
        uint64_t u64;
        int64_t i64;
        double f64;
        lmrt_string str;
        struct {
            lmrt_gguf_value_type elem_type;
            uint64_t count;
            const void *data;
        } array;
    } as;
} lmrt_gguf_value_in;

typedef struct lmrt_gguf_kv_in {
    lmrt_string key;
    lmrt_gguf_value_in value;
} lmrt_gguf_kv_in;

/* Where a written tensor's values come from. */
typedef enum lmrt_tensor_source {
    /* `data` holds n_elements float32 values, encoded into `type`. */
    LMRT_SOURCE_F32 = 0,
    /* `data` holds exactly the tensor's bytes, already in `type`'s layout. */
    LMRT_SOURCE_RAW = 1,
    /* Uniform in [-scale, scale) from a PRNG seeded by `seed`; the same
     * (seed, scale, shape) gives the same values for every `type`. */
    LMRT_SOURCE_UNIFORM = 2,
    /* Every element equals `scale`. */
    LMRT_SOURCE_CONSTANT = 3,
    /* `data` holds the tensor's bytes in `source_type` (any type lmrt
     * decodes), decoded and encoded into `type` chunk by chunk. */
    LMRT_SOURCE_CONVERT = 4,
} lmrt_tensor_source;

typedef struct lmrt_gguf_tensor_in {
    lmrt_string name;
    uint32_t type; /* lmrt_ggml_type */
    uint32_t n_dims;
    uint64_t ne[4];
    lmrt_tensor_source source;
    const void *data;
    uint64_t data_bytes;
    float scale;
    uint64_t seed;
    uint32_t source_type; /* LMRT_SOURCE_CONVERT: the type of `data` */
} lmrt_gguf_tensor_in;

/* Called as tensor data is written (at least once per tensor); return
 * non-zero to cancel. */
typedef int (*lmrt_progress_fn)(void *user, uint64_t done_bytes, uint64_t total_bytes);

/* Writes a GGUF v3 file: header, metadata, tensor infos, then each tensor
 * (aligned to `alignment`, 0 = 32), streamed so that memory stays near one
 * chunk of one tensor. Writes `path.tmp-*` and renames it into place, so a
 * failure never leaves a partial file under `path`. If `alignment` is not
 * 32, the caller must also pass general.alignment with the same value. */
LMRT_API lmrt_status lmrt_gguf_write(const char *path_cstr, uint32_t alignment,
                                     const lmrt_gguf_kv_in *kvs, uint64_t n_kvs,
                                     const lmrt_gguf_tensor_in *tensors, uint64_t n_tensors,
                                     lmrt_progress_fn progress, void *progress_user,
                                     lmrt_error *err);

/* ------------------------------------------------------------ quantize */

/* A quantisation preset, by llama.cpp's general.file_type id. */
typedef enum lmrt_quant_preset {
    LMRT_QUANT_Q4_0 = 2,
    LMRT_QUANT_Q8_0 = 7,
    LMRT_QUANT_Q4_K_M = 15,
    LMRT_QUANT_Q5_K_M = 17,
    LMRT_QUANT_Q6_K = 18
} lmrt_quant_preset;

typedef struct lmrt_quantize_params {
    uint32_t preset;    /* lmrt_quant_preset */
    uint32_t n_threads; /* 0: one per CPU */
} lmrt_quantize_params;

/* One tensor's choice. `name` is valid during the callback only. */
typedef struct lmrt_quantized_tensor {
    lmrt_string name;
    uint32_t from_type, to_type; /* lmrt_ggml_type; equal: copied as it is */
    uint32_t fallback;           /* 1: the preset's type does not fit its rows; to_type is llama.cpp's fallback */
    uint32_t requantized;        /* 1: the input was already quantised, and is decoded and encoded again */
    uint64_t n_elements, bytes_in, bytes_out;
} lmrt_quantized_tensor;

typedef void (*lmrt_quantize_plan_fn)(void *user, const lmrt_quantized_tensor *tensor);

/* Writes `out_path` (atomically, as lmrt_gguf_write) from the model at
 * `in_path` with a preset's per-tensor types, as llama.cpp's llama-quantize
 * chooses them. `plan` (optional) hears each tensor's choice, in file order,
 * before any data is written; `progress` (optional) the bytes written. */
LMRT_API lmrt_status lmrt_quantize_model(const char *in_path, const char *out_path, const lmrt_quantize_params *params,
                                         lmrt_quantize_plan_fn plan, lmrt_progress_fn progress, void *user, lmrt_error *err);

/* ------------------------------------------------------------ tokenizer */

typedef struct lmrt_tokenizer lmrt_tokenizer;

typedef enum lmrt_vocab_type {
    LMRT_VOCAB_SPM = 0, /* tokenizer.ggml.model = "llama": SentencePiece */
    LMRT_VOCAB_BPE = 1, /* "gpt2": byte-level BPE                       */
    LMRT_VOCAB_WPM = 2, /* "bert": WordPiece                            */
} lmrt_vocab_type;

/* Special token ids; -1 when the vocabulary has none. */
typedef struct lmrt_tokenizer_info {
    lmrt_vocab_type type;
    uint32_t n_vocab;
    int32_t bos, eos, eot, eom, unk, sep, pad, mask;
    int32_t fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
    int add_bos, add_eos, add_sep, add_space_prefix;
    int clean_spaces; /* detokenize removes spaces before punctuation */
    lmrt_string model; /* tokenizer.ggml.model, owned by the tokenizer */
    lmrt_string pre;   /* tokenizer.ggml.pre ("" when absent)           */
} lmrt_tokenizer_info;

enum {
    LMRT_TOKENIZE_ADD_SPECIAL = 1,      /* BOS/EOS/SEP as the vocabulary's flags say */
    LMRT_TOKENIZE_PARSE_SPECIAL = 2,    /* match control-token texts in the input    */
    LMRT_DETOKENIZE_REMOVE_SPECIAL = 1, /* drop a leading BOS / trailing EOS         */
    LMRT_DETOKENIZE_UNPARSE_SPECIAL = 2 /* render control tokens as their text       */
};

/* Loads the tokenizer from a GGUF file's metadata (a vocabulary-only file
 * works); the file is not kept open. */
LMRT_API lmrt_status lmrt_tokenizer_open(const char *path_cstr, lmrt_tokenizer **out, lmrt_error *err);
LMRT_API lmrt_status lmrt_tokenizer_from_gguf(const lmrt_gguf *gguf, lmrt_tokenizer **out, lmrt_error *err);
LMRT_API void lmrt_tokenizer_free(lmrt_tokenizer *tokenizer);
LMRT_API void lmrt_tokenizer_info_get(const lmrt_tokenizer *tokenizer, lmrt_tokenizer_info *info);
/* Ids that end generation (EOS, EOT, ...), sorted; owned by the tokenizer. */
LMRT_API void lmrt_tokenizer_eog(const lmrt_tokenizer *tokenizer, const int32_t **ids, uint64_t *n);

/* Tokenizes `len` bytes of UTF-8 (invalid bytes are treated as llama.cpp
 * treats them). *n_out receives the token count; ids are written only when
 * it is <= capacity, so a caller can retry with a larger buffer. */
LMRT_API lmrt_status lmrt_tokenize(const lmrt_tokenizer *tokenizer, const char *text, uint64_t len, uint32_t flags,
                                   int32_t *out, uint64_t capacity, uint64_t *n_out, lmrt_error *err);

/* The bytes of one token (special = 0 hides control and unknown tokens). */
LMRT_API lmrt_status lmrt_token_piece(const lmrt_tokenizer *tokenizer, int32_t id, int special, lmrt_string *piece,
                                      lmrt_error *err);

/* Detokenizes `n` ids into `out` (not NUL-terminated); *n_out receives the
 * byte count, written only when it is <= capacity. */
LMRT_API lmrt_status lmrt_detokenize(const lmrt_tokenizer *tokenizer, const int32_t *ids, uint64_t n, uint32_t flags,
                                     char *out, uint64_t capacity, uint64_t *n_out, lmrt_error *err);

/* ------------------------------------------------------ models & contexts */

typedef struct lmrt_model lmrt_model;
typedef struct lmrt_context lmrt_context;

typedef struct lmrt_model_info {
    lmrt_string arch; /* general.architecture, owned by the model */
    uint32_t n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
    uint64_t n_params;
    uint64_t file_size;
    uint32_t sliding_window; /* positions each token attends to, itself included (0: all) */
    uint64_t interleaved_bytes; /* weights copied into an interleaved layout at load (lmrt_model_params) */
    uint32_t backend;           /* LMRT_BACKEND_CPU or LMRT_BACKEND_CUDA: where steps run */
    lmrt_string device;         /* the GPU's name with the CUDA backend, else empty; owned by the model */
    uint64_t device_bytes;      /* weights in device memory */
    uint32_t gpu_layers;        /* layers the GPU runs (the last ones; the CPU runs those before) */
} lmrt_model_info;

/* Where a model's steps run. */
#define LMRT_BACKEND_CPU 0
#define LMRT_BACKEND_CUDA 1  /* liblmrt_cuda next to the engine (or LMRT_CUDA_LIBRARY) and a CUDA device */
#define LMRT_BACKEND_AUTO 2  /* CUDA when it is available and runs the model, else the CPU */

typedef struct lmrt_model_params {
    /* 0 (default): matrices whose kernels stream an interleaved layout faster
     * (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K on AVX2 CPUs) are copied into it at load, and the mapped
     * originals' pages are dropped; 1: compute from the mapped file only
     * (pages shared with other processes, no copy). */
    uint32_t mapped_only;
    uint32_t backend;    /* LMRT_BACKEND_*; 0: CPU */
    int32_t gpu_layers;  /* with CUDA: how many of the last layers (and the output) the GPU runs, the CPU running
                            those before; -1 (or n_layer and more): all; 0: none (the CPU backend) */
    int32_t device;      /* CUDA device index */
    const char *cuda_library; /* the CUDA backend's library (NULL: next to this binary); LMRT_CUDA_LIBRARY overrides it */
} lmrt_model_params;

/* The number of CUDA devices the CUDA backend sees (0 when its library or a
 * device is missing; then `why`, cap bytes, says which). */
LMRT_API int lmrt_cuda_available(char *why, uint64_t cap);

/* What the CUDA backend's library looks like from here. */
typedef struct lmrt_cuda_status {
    int32_t loaded;    /* 1: the library opened and is of this lmrt's version */
    int32_t devices;   /* CUDA devices it sees (0 without a driver or a GPU) */
    char library[512]; /* the path it was looked for at */
    char message[512]; /* why it did not load, or why it sees no device; empty otherwise */
    char device[256];  /* device 0's name, where there is one */
} lmrt_cuda_status;

/* Opens the CUDA backend's library (library as in lmrt_model_params) and
 * reports on it; never fails. */
LMRT_API void lmrt_cuda_status_get(const char *library, lmrt_cuda_status *out);

/* Maps a GGUF model and binds its weights; validates architecture,
 * hyper-parameters, tensor names, shapes and types. params may be NULL
 * (defaults). */
LMRT_API lmrt_status lmrt_model_open_with(const char *path_cstr, const lmrt_model_params *params, lmrt_model **out,
                                         lmrt_error *err);
/* lmrt_model_open_with(path, NULL, out, err). */
LMRT_API lmrt_status lmrt_model_open(const char *path_cstr, lmrt_model **out, lmrt_error *err);
LMRT_API void lmrt_model_free(lmrt_model *model);
LMRT_API void lmrt_model_info_get(const lmrt_model *model, lmrt_model_info *info);
/* The model's tokenizer, owned by the model. */
LMRT_API const lmrt_tokenizer *lmrt_model_tokenizer(const lmrt_model *model);
/* A string metadata value of the model's file (e.g. "tokenizer.chat_template"),
 * owned by the model: 1 if the key holds a string, else 0 and *out is empty. */
LMRT_API int lmrt_model_meta_string(const lmrt_model *model, const char *key, lmrt_string *out);

typedef struct lmrt_context_params {
    uint32_t n_ctx;     /* KV cache capacity in tokens, all sequences together (0: min(train context, 4096)) */
    uint32_t n_batch;   /* most rows one step takes (0: 512) */
    uint32_t n_threads; /* compute threads including the caller (0: physical cores) */
    uint32_t kv_type;   /* how K/V are stored: LMRT_TYPE_F16 (0 also means f16), LMRT_TYPE_BF16 or LMRT_TYPE_Q8_0
                           (q8_0 needs a head dimension that is a multiple of 32) */
} lmrt_context_params;

/* A context: the KV cache, scratch memory and threads that run steps. The
 * model must outlive it. A context runs one step at a time. */
LMRT_API lmrt_status lmrt_context_create(lmrt_model *model, const lmrt_context_params *params, lmrt_context **out,
                                         lmrt_error *err);
LMRT_API void lmrt_context_free(lmrt_context *ctx);

LMRT_API lmrt_status lmrt_seq_create(lmrt_context *ctx, int32_t *seq, lmrt_error *err);
/* A new sequence sharing src's cache (copy-on-write). */
LMRT_API lmrt_status lmrt_seq_fork(lmrt_context *ctx, int32_t src, int32_t *dst, lmrt_error *err);
/* Rolls a sequence back to `length` positions. */
LMRT_API lmrt_status lmrt_seq_truncate(lmrt_context *ctx, int32_t seq, int32_t length, lmrt_error *err);
LMRT_API lmrt_status lmrt_seq_release(lmrt_context *ctx, int32_t seq, lmrt_error *err);
/* Prefix caching: starts an empty sequence from the cached KV blocks whose
 * rows match the first of the `n` tokens (the first `n_prompt` of them
 * prompt rows, the rest decoded rows), whole blocks only, and sets *reused
 * to the positions it now holds (0 when nothing matched). */
LMRT_API lmrt_status lmrt_seq_reuse_prefix(lmrt_context *ctx, int32_t seq, const int32_t *tokens, uint32_t n, uint32_t n_prompt,
                                           uint32_t *reused, lmrt_error *err);
/* Positions cached for `seq`, or -1 if it does not exist. */
LMRT_API int32_t lmrt_seq_length(const lmrt_context *ctx, int32_t seq);

/* Row flags. A row's arithmetic depends on its own flags only, never on the
 * other rows of the step: prompt rows sum in the order of a batched prompt,
 * LMRT_ROW_DECODE rows (one token continuing a sequence) in the order of a
 * single row, as llama.cpp's prompt processing and decoding do. */
#define LMRT_ROW_LOGITS 1 /* return this row's logits */
#define LMRT_ROW_DECODE 2 /* a decoded token, not part of a prompt */
#define LMRT_ROW_ARGMAX 4 /* with LMRT_ROW_LOGITS: return the row's greedy token (the index of its largest logit,
                             the first of equal ones; NaN never wins) instead of its logits (lmrt_context_step_ex) */
#define LMRT_ROW_TOPK 8   /* with LMRT_ROW_LOGITS: return the row's top_k largest logits and their ids instead of
                             all of them (lmrt_context_step_ex) */
#define LMRT_MAX_TOP_K 256

typedef struct lmrt_batch_row {
    int32_t seq;
    int32_t token;
    int32_t pos;   /* must be the sequence's next position */
    int32_t flags; /* LMRT_ROW_* */
} lmrt_batch_row;

/* Runs the model on `n` rows (any mix of sequences; each sequence's rows in
 * position order) and writes the logits of the rows that asked for them,
 * in row order, into logits[k * n_vocab ...]. Fails with LMRT_E_KV_FULL,
 * leaving everything unchanged, when the cache cannot hold the rows. */
LMRT_API lmrt_status lmrt_context_step(lmrt_context *ctx, const lmrt_batch_row *rows, uint32_t n, float *logits,
                                       uint64_t logits_capacity, lmrt_error *err);
/* Where lmrt_context_step_ex puts what the logit rows ask for, each kind in
 * row order. On a GPU, the logits of LMRT_ROW_ARGMAX and LMRT_ROW_TOPK rows
 * never leave the device. */
typedef struct lmrt_step_output {
    float *logits;            /* n_vocab floats per logit row with neither ARGMAX nor TOPK */
    uint64_t logits_capacity; /* floats */
    int32_t *tokens;          /* one id per ARGMAX row */
    uint64_t tokens_capacity;
    uint32_t top_k;           /* entries per TOPK row, 1 to LMRT_MAX_TOP_K (at most n_vocab) */
    int32_t *top_ids;         /* top_k per TOPK row: the largest logit first, equal logits the lower id first,
                                 NaN counted as -infinity */
    float *top_logits;        /* their logits (NaN as -infinity) */
    uint64_t top_capacity;    /* entries of each of top_ids and top_logits */
} lmrt_step_output;

/* lmrt_context_step where rows may ask for their greedy token
 * (LMRT_ROW_ARGMAX) or their top_k logits (LMRT_ROW_TOPK) instead of all
 * their logits. `out` may be NULL for a step without logit rows. */
LMRT_API lmrt_status lmrt_context_step_ex(lmrt_context *ctx, const lmrt_batch_row *rows, uint32_t n, const lmrt_step_output *out,
                                          lmrt_error *err);

typedef struct lmrt_kv_stats {
    uint32_t blocks_total, blocks_used, blocks_free, block_size, sequences;
    uint64_t bytes;
    uint32_t blocks_cached; /* full blocks indexed for prefix reuse (held or not) */
    uint64_t prefix_hits;   /* positions served from cached blocks so far */
} lmrt_kv_stats;

LMRT_API void lmrt_kv_stats_get(const lmrt_context *ctx, lmrt_kv_stats *stats);
/* Verifies the KV cache's invariants (ref counts, free list); for tests. */
LMRT_API lmrt_status lmrt_kv_check(const lmrt_context *ctx, lmrt_error *err);

/* ----------------------------------------------- kernels (tests, benches) */

typedef enum lmrt_kernel_variant {
    LMRT_KERNEL_REF = 0,
    LMRT_KERNEL_AVX2 = 1,
    LMRT_KERNEL_AVX512 = 2,
    LMRT_KERNEL_NEON = 3,
    LMRT_KERNEL_NEON_DOTPROD = 4 /* NEON with the ARMv8.2 dot product extension */
} lmrt_kernel_variant;

LMRT_API int lmrt_kernel_variant_available(lmrt_kernel_variant variant);
/* The variant the CPU kernels run: the best this CPU has, capped by
 * LMRT_KERNELS=ref|avx2|avx512|neon. */
LMRT_API lmrt_kernel_variant lmrt_kernel_variant_chosen(void);
/* "ref", "avx2", "avx512", "neon" or "neon_dotprod". */
LMRT_API const char *lmrt_kernel_variant_name(lmrt_kernel_variant variant);
/* How this binary was built: the compiler and the target architecture. */
LMRT_API const char *lmrt_build_info(void);

/* y[t * n_out + o] = dot(weight row o, x row t) with the variant's kernels,
 * activations encoded as the weight type's dot product wants. */
LMRT_API lmrt_status lmrt_kernel_matmul(lmrt_kernel_variant variant, uint32_t weight_type, const void *w, uint64_t n_in,
                                        uint64_t n_out, const float *x, uint64_t n_tokens, float *y, lmrt_error *err);

/* lmrt_kernel_matmul through the variant's product over weights interleaved
 * at load (w is given in the plain layout and interleaved first), as a model
 * opened without mapped_only computes; LMRT_E_GGUF_UNSUPPORTED where the
 * variant has none for the type. */
LMRT_API lmrt_status lmrt_kernel_matmul_interleaved(lmrt_kernel_variant variant, uint32_t weight_type, const void *w,
                                                    uint64_t n_in, uint64_t n_out, const float *x, uint64_t n_tokens,
                                                    float *y, lmrt_error *err);

/* Encodes n activations (a multiple of the weight type's block size) the way
 * the variant's matrix product for weight_type encodes them before its dot
 * products, into dst (dst_bytes must hold them); *written gets the size. */
LMRT_API lmrt_status lmrt_kernel_encode_activations(lmrt_kernel_variant variant, uint32_t weight_type, const float *x, uint64_t n,
                                                    void *dst, uint64_t dst_bytes, uint64_t *written, lmrt_error *err);

/* Attention of one query [n_head, head_dim] over positions first..last of
 * K/V stored contiguously as [positions, n_head_kv] rows of head_dim values
 * in kv_type (as lmrt_context_params.kv_type) and read through blocks of
 * block_size positions. */
LMRT_API lmrt_status lmrt_kernel_attention(lmrt_kernel_variant variant, uint32_t kv_type, const float *q, const void *k,
                                           const void *v, uint32_t block_size, uint32_t first, uint32_t last,
                                           uint32_t n_head, uint32_t n_head_kv, uint32_t head_dim, float scale,
                                           float *out, lmrt_error *err);

/* y[i] = silu(gate[i]) * up[i] (y may be gate). */
LMRT_API lmrt_status lmrt_kernel_swiglu(lmrt_kernel_variant variant, const float *gate, const float *up, float *y,
                                        uint64_t n, lmrt_error *err);

/* x[i] = gelu(x[i]) (tanh form, through f16 as ggml computes it): the
 * reference formula (LMRT_KERNEL_REF) or the lookup table the forward pass
 * uses (any other variant). */
LMRT_API lmrt_status lmrt_kernel_gelu(lmrt_kernel_variant variant, float *x, uint64_t n, lmrt_error *err);

/* Memory read bandwidth: a buffer of `bytes` read by n_threads threads,
 * `passes` times; the best pass in bytes per second (the decode roofline's
 * denominator). */
LMRT_API lmrt_status lmrt_measure_read_bandwidth(uint64_t bytes, uint32_t n_threads, uint32_t passes,
                                                 double *bytes_per_second, lmrt_error *err);

/* ---------------------------------------------------- quantisation (ref) */

/* Encodes n float32 values into `type`'s block layout (n a multiple of the
 * block size; dst has room for n/block_size*block_bytes bytes). */
LMRT_API lmrt_status lmrt_quantize_row(uint32_t type, const float *src, void *dst, uint64_t n,
                                       lmrt_error *err);
/* Decodes n values of `type` into float32. */
LMRT_API lmrt_status lmrt_dequantize_row(uint32_t type, const void *src, float *dst, uint64_t n,
                                         lmrt_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LMRT_H */
