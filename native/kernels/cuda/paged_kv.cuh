// The KV block pool in device memory, laid out as kv/kv_cache.h lays out
// the host's (f16 rows): block b holds, for every layer l, K then V, each
// [block_size, n_head_kv] rows of head_dim halves at byte
// ((b * n_layer + l) * 2 + kv) * block_bytes. A sequence's positions map
// to blocks through its block table, as on the host.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace lmrt::cuda {

struct PagedKv {
    uint8_t *pool = nullptr;
    int n_layer = 0, n_head_kv = 0, head_dim = 0, block_size = 0;
    size_t block_bytes = 0; // block_size * n_head_kv * head_dim * 2

    // The K (kv 0) or V (kv 1) row of KV head `head` at row `slot_row` of block `block`.
    __host__ __device__ __half *row(int block, int layer, int kv, int slot_row, int head) const {
        uint8_t *base = pool + ((static_cast<size_t>(block) * n_layer + layer) * 2 + kv) * block_bytes;
        return reinterpret_cast<__half *>(base) + (static_cast<size_t>(slot_row) * n_head_kv + head) * head_dim;
    }
};

// Writes the K and V rows (f32, n_head_kv * head_dim values each, rounded to
// f16) of T batch rows into layer `layer`: row t goes to block slots[t] /
// block_size, row slots[t] % block_size.
cudaError_t kv_store(const PagedKv &kv, int layer, const float *k, int64_t k_stride, const float *v, int64_t v_stride, const int32_t *slots,
                     int T, cudaStream_t stream);

} // namespace lmrt::cuda
