// A loaded model's description: hyper-parameters from GGUF metadata and
// views of its weight tensors inside the mapped file (never copied).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../core/status.h"
#include "../gguf/gguf_reader.h"
#include "../kernels/ops.h"

namespace lmrt {

enum class Arch { kLlama, kQwen2, kQwen3, kGpt2 };

struct HParams {
    Arch arch = Arch::kLlama;
    std::string arch_name;
    int n_vocab = 0, n_ctx_train = 0, n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ff = 0, n_rot = 0;
    float rope_base = 10000.0f, rope_freq_scale = 1.0f, norm_eps = 1e-5f;
    bool rope_neox = false;
    int sliding_window = 0; // 0: full causal attention
};

// A weight tensor: data in the mapping (or, interleaved, in memory the
// model owns), its type, shape (ne[0] = row length) and the dot-product
// kernels chosen for this CPU.
struct Tensor {
    const void *data = nullptr;
    uint32_t type = 0;
    int64_t ne[4] = {1, 1, 1, 1};
    const kernels::MatKernels *kernels = nullptr;
    bool interleaved = false; // rows in kernels/interleave.h's layout

    explicit operator bool() const { return data != nullptr; }
    int64_t rows() const { return ne[1] * ne[2] * ne[3]; }
    const float *f32() const { return static_cast<const float *>(data); }
};

struct LayerWeights {
    Tensor attn_norm, attn_norm_b;
    Tensor wq, wk, wv, wqkv, bq, bk, bv, bqkv;
    Tensor q_norm, k_norm; // Qwen3: per-head RMSNorm of queries and keys
    Tensor wo, bo;
    Tensor ffn_norm, ffn_norm_b;
    Tensor w_gate, w_up, w_down, b_up, b_down;
};

// Interleaved copies of weight matrices (kernels/interleave.h), 64-byte
// aligned, those of 2 MiB or more on 2 MiB boundaries (huge pages).
struct InterleavedStorage {
    struct Free {
        void operator()(uint8_t *p) const;
    };
    std::vector<std::unique_ptr<uint8_t, Free>> buffers;
    uint64_t bytes = 0;
};

struct ModelWeights {
    Tensor tok_embd, pos_embd, output_norm, output_norm_b, output;
    std::vector<LayerWeights> layers;
    InterleavedStorage interleaved;
};

// Reads hyper-parameters and binds every tensor the architecture needs,
// checking names, shapes and types. Unknown architectures give
// E_ARCH_UNSUPPORTED naming them.
Status load_model(const GgufReader &gguf, const std::string &name, int n_vocab, HParams *hp, ModelWeights *w);

// Copies the matrices whose kernels have an interleaved product into that
// layout (decode streams them about 1.5x faster); the mapped originals
// are then no longer read, and their pages leave memory. Out of memory
// gives LMRT_E_OUT_OF_MEMORY.
Status interleave_weights(const GgufReader &gguf, ModelWeights *w);

} // namespace lmrt
