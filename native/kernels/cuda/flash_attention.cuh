// Flash attention for prompt rows: the rows of one sequence in a step are
// grouped into tiles, and a thread block attends a tile's queries (its rows
// times the query heads of one KV head) to the sequence's K/V one tile of
// positions at a time, on tensor cores (f16 inputs, f32 sums), keeping a
// running softmax (maximum, sum, rescaled output) per query. Each K/V row
// is read once per tile instead of once per row, as paged_attention does.
//
// Masks are per row (causal: positions first..last of the row, a sliding
// window raising first). Position tiles are aligned to absolute positions
// and a tile a row does not see leaves its sums exactly as they were, so a
// row's result depends on its own span only, not on the rows sharing its
// tile. Queries are rounded to f16 as the CPU backend rounds them against
// f16 keys; the probabilities are rounded to f16 before they weight V.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "attention.cuh"
#include "paged_kv.cuh"

namespace lmrt::cuda {

// Tiles of batch rows: tile t holds rows[start[t]] .. rows[start[t + 1] - 1],
// at most flash_tile_rows() of them, all of one sequence (one block table).
struct QueryTiles {
    const int32_t *rows = nullptr;
    const int32_t *start = nullptr; // n + 1 entries
    int n = 0;
};

// Rows one tile holds for a model with these heads.
int flash_tile_rows(int n_head, int n_head_kv);

// Whether the kernel serves this head size on the current device, opting
// its launches into the shared memory that takes (call once per device,
// outside graph capture). False where the device has too little.
bool flash_attention_ready(int head_dim);

// Attends the tiles' rows (rows.q, rows.out, rows.first, rows.last,
// rows.tables and rows.table_offset as for paged_attention; rows.T,
// rows.index and rows.max_span are not read).
cudaError_t flash_attention(const PagedKv &kv, int layer, const AttentionRows &rows, const QueryTiles &tiles, int n_head, float scale,
                            cudaStream_t stream);

} // namespace lmrt::cuda
