// A context on the device: the KV block pool, the scratch of the largest
// step, and the forward pass (the Llama family, GPT-2) over a batch of rows
// (prompt and decode rows alike), writing the logits the step asks for to
// host memory. Block tables stay with the engine's KvCache; each step
// brings the tables of its sequences and the copy-on-write block copies
// the cache decided on.
//
// Logits stay on the device for rows that want only their greedy token
// (LMRT_ROW_ARGMAX) or their top-k (LMRT_ROW_TOPK): those come back instead.
//
// Steps of up to kGraphRows rows (decoding) replay a CUDA graph of their
// kernels, captured once per shape (rows, logit rows, attention splits):
// a decode step launches hundreds of small kernels, and one graph launch
// costs what a few of them do. What changes from step to step lives in
// device buffers the graph reads (tokens, positions, tables), uploaded
// before it runs. LMRT_CUDA_GRAPHS=0 launches the kernels one by one.
#pragma once

#include <cuda_runtime.h>

#include <map>
#include <tuple>

#include "../../kernels/cuda/attention.cuh"
#include "../../kernels/cuda/paged_kv.cuh"
#include "abi.h"
#include "device.cuh"
#include "device_model.cuh"

namespace lmrt::cuda {

class DeviceContext {
  public:
    explicit DeviceContext(const DeviceModel &model) : m_(model) {}
    ~DeviceContext();
    DeviceContext(const DeviceContext &) = delete;
    DeviceContext &operator=(const DeviceContext &) = delete;

    int create(const lmrt_cuda_context_desc &desc, const Why &why);
    int step(const lmrt_cuda_step &step, const Why &why);
    size_t bytes() const;

    static constexpr int kGraphRows = 64;

  private:
    // The per-step integers, laid out alike in pinned and device memory:
    // per row, then the logit rows, then the rows of each kind (decode or
    // prompt) among all rows and among the logit rows, ascending, then
    // where each flash-attention tile starts among the prompt rows (and
    // where the last ends).
    struct RowArrays {
        int32_t *tokens, *pos, *first, *slots, *table_offset, *logit_rows;
        int32_t *decode_rows, *prompt_rows, *decode_logits, *prompt_logits, *tile_start;
    };
    RowArrays row_arrays(int32_t *base) const;
    // Rows of a matrix product split by kind: decode rows take matvec, prompt
    // rows the tensor-core gemm (where the weight type has one), so that a
    // row's arithmetic does not depend on what shares its step.
    struct RowSet {
        int n_decode, n_prompt;
        const int32_t *decode, *prompt;
    };
    int project(const DeviceTensor &w, const float *x, int64_t x_stride, float *y, int64_t y_stride, const RowSet &rows, const char *what,
                const Why &why);
    RowSet all_rows(const lmrt_cuda_step &step) const;
    RowSet logit_rows(const lmrt_cuda_step &step) const; // indices among the logit rows
    // The attention kernel's view of the step: queries in q (rows q_stride apart), output in attn_.
    AttentionRows attention_rows(const lmrt_cuda_step &step, int max_span, const float *q, int64_t q_stride) const;
    // Layer il's attention over the paged cache (its K/V stored), the output
    // projection and its bias, then the residual add into *x; in the last
    // layer only for the logit rows (keep_logit_rows), *kept saying how many.
    int attend(const lmrt_cuda_step &step, int il, const AttentionRows &rows, const DeviceLayer &L, int q_width, float **x, float **o,
               int *kept, const Why &why);
    // In the last layer, as the CPU backend: only the rows that want logits
    // go on through the feed-forward block. Gathers them (x_ and tmp_ into
    // xg_ and og_, pointing *x and *o there) unless they are all the rows,
    // and sets *kept to how many there are.
    int keep_logit_rows(const lmrt_cuda_step &step, float **x, float **o, int *kept, const Why &why);
    int ensure_tables(size_t n, const Why &why);
    // The kernels of a step, on stream_: the layers, then the final norm of
    // the logit rows into cur_.
    int layers(const lmrt_cuda_step &step, int max_span, const Why &why);
    int layers_gpt2(const lmrt_cuda_step &step, int max_span, const Why &why);
    // Logits of the logit rows r0 .. r0 + n - 1 (rows of cur_) into logits_
    // (n <= logit_slice_), their greedy tokens into ids_ + r0, and where the
    // step has top-k rows their top-k into top_ids_ / top_values_.
    int output(int r0, int n, const Why &why);
    // Queues the copies to the host of what the step asked for of logit rows
    // r0 .. r0 + n - 1: the greedy tokens and top-k entries (into pinned
    // staging), and the logits of the rows that want them (a run of
    // consecutive such rows in one copy).
    int fetch(const lmrt_cuda_step &step, int r0, int n, const Why &why);
    // The graph of a step's shape, captured on first use (null on failure:
    // the step then launches its kernels directly).
    cudaGraphExec_t graph_for(const lmrt_cuda_step &step, int max_span, const Why &why);
    void drop_graphs();

    const DeviceModel &m_;
    lmrt_cuda_context_desc desc_{};
    cudaStream_t stream_ = nullptr;
    PagedKv kv_;
    DeviceBuffer pool_, activations_, ints_, tables_, logits_, partials_, ids_, top_ids_, top_values_;
    PinnedBuffer staging_ints_, staging_tables_, staging_ids_, staging_top_ids_, staging_top_values_;
    float *x_ = nullptr, *xg_ = nullptr, *cur_ = nullptr, *q_ = nullptr, *k_ = nullptr, *v_ = nullptr, *attn_ = nullptr, *tmp_ = nullptr,
          *og_ = nullptr, *ffn_a_ = nullptr, *ffn_b_ = nullptr;
    int logit_slice_ = 0; // rows of logits computed per output product
    size_t partial_floats_ = 0;
    bool graphs_enabled_ = true;
    // the kinds of this step's rows, counted as the host filled them
    int n_decode_ = 0, n_logits_ = 0, n_decode_logits_ = 0;
    int top_k_ = 0; // entries per top-k row this step (0: none asks)
    // prompt rows attend through flash attention where the device serves the
    // head size (LMRT_CUDA_FLASH=0: through the paged kernel, as decode rows)
    bool flash_ = false;
    int tile_rows_ = 0, n_tiles_ = 0;
    // (rows, decode rows, logit rows, decode logit rows, top-k, attention span rounded to splits, flash tiles)
    std::map<std::tuple<int, int, int, int, int, int, int>, cudaGraphExec_t> graphs_;
};

} // namespace lmrt::cuda
