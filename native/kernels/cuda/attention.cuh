// Paged attention on the device, for decode rows (and prompt rows where
// flash_attention.cuh does not serve the device or head size): each
// batch row's query heads attend to positions first..last of its sequence
// through the sequence's block table (causal: last is the row's own
// position; a sliding window raises first). Grouped-query: one thread
// block serves all query heads of a KV head, so each K/V row is read once
// per row, and long contexts are split over blocks of kAttentionChunk
// positions whose partial softmax sums a second kernel combines.
//
// A row's split count depends on its own span only, so its result does not
// depend on the other rows of the batch.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "paged_kv.cuh"

namespace lmrt::cuda {

constexpr int kAttentionChunk = 512;

struct AttentionRows {
    const float *q = nullptr; // [T, n_head * head_dim], rows q_stride floats apart (0: n_head * head_dim)
    int64_t q_stride = 0;
    float *out = nullptr;     // [T, n_head * head_dim]
    const int32_t *first = nullptr, *last = nullptr; // per row
    const int32_t *tables = nullptr;                 // block tables, concatenated
    const int32_t *table_offset = nullptr;           // per row: where its sequence's table starts in `tables`
    const int32_t *index = nullptr;                  // the rows to attend, T of them (null: rows 0 .. T - 1)
    int T = 0;
    int max_span = 0; // the largest last - first + 1 of the rows
};

// Floats of scratch one row needs for a span of up to max_span positions.
size_t attention_partial_floats(int n_head, int head_dim, int max_span);

// Runs the rows in slices whose partial sums fit in `partials` (at least
// one row's worth: attention_partial_floats).
cudaError_t paged_attention(const PagedKv &kv, int layer, const AttentionRows &rows, int n_head, float scale, float *partials,
                            size_t partial_floats, cudaStream_t stream);

} // namespace lmrt::cuda
