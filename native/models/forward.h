// One forward step over a batch of rows from one or more sequences: the
// inputs, the reusable scratch memory, and the per-architecture passes.
//
// A pass runs on every thread of the pool at once (thread ith of nth) and
// synchronises with barriers between ops. Rows are owned by thread
// row % nth for row-wise ops; matrix products split output features.
#pragma once

#include <cstdint>
#include <vector>

#include "../core/thread_pool.h"
#include "../kernels/ops.h"
#include "../kv/kv_cache.h"
#include "model.h"
#include "step_profile.h"

namespace lmrt {

struct BatchRow {
    int seq;
    int32_t token;
    int pos;
    bool logits;
    bool decode; // a decoded token (single-row order), else a prompt row
    bool argmax; // with logits: only the greedy token is handed out (the forward pass computes the logits alike)
    bool topk;   // with logits: only the top-k entries are handed out
};

// Buffers sized once for the context's largest batch (no allocation per step).
struct StepScratch {
    int max_rows = 0;
    std::vector<float> x, cur, q, k, v, attn, tmp, ffn_a, ffn_b;
    std::vector<uint8_t> act; // encoded activations of a matrix product
    std::vector<kernels::PackedQ8Group> packed; // act transposed for MatKernels::gemm
    std::vector<kernels::Q8BlockInfo> act_info; // act's blocks for MatKernels::gemm_interleaved
    // per thread: attention scores and block pointer lists
    std::vector<std::vector<float>> scores;
    std::vector<std::vector<const uint8_t *>> k_blocks, v_blocks;
    std::vector<int> logit_rows;
    std::vector<BatchRow> batch; // the validated rows
    // each row's summation order (kernels/ops.h), for the batch's rows and
    // for the logit rows the last layer keeps
    std::vector<kernels::RowOrder> row_orders, logit_orders;
    const kernels::RowOrder *orders = nullptr; // for the rows the next matrix product sees
    // What `act` (and `act_info`) hold: the rows of x encoded as `type`,
    // for a matrix product on the same input (layers::matmul's same_input).
    struct Encoded {
        const float *x = nullptr;
        int64_t x_stride = 0, n = 0;
        int T = 0;
        kernels::ActType type = kernels::ActType::kF32;
        bool info = false;
    } encoded;

    void allocate(const HParams &hp, int max_rows, int n_threads, int max_positions, int max_blocks);
};

struct StepArgs {
    const HParams &hp;
    const ModelWeights &w;
    KvCache &kv;
    ThreadPool &pool;
    StepScratch &s;
    const BatchRow *rows;
    int n_rows;
    float *logits; // [number of rows with logits, n_vocab]
    StepProfile *profile = nullptr; // LMRT_PROFILE
    // Run layers [0, layer_end) only and leave every row's hidden state in
    // s.x, no logits (the CUDA backend runs the rest); -1: the whole model.
    int layer_end = -1;
};

void forward_llama(StepArgs &a, int ith, int nth);
void forward_gpt2(StepArgs &a, int ith, int nth);

} // namespace lmrt
