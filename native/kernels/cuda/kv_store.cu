#include "common.cuh"
#include "paged_kv.cuh"

namespace lmrt::cuda {

namespace {

// Block t: batch row t's K and V rows of every KV head.
__global__ void store_rows(PagedKv kv, int layer, const float *k, int64_t k_stride, const float *v, int64_t v_stride, const int32_t *slots) {
    const int slot = slots[blockIdx.x];
    const int block = slot / kv.block_size, slot_row = slot % kv.block_size;
    const int values = kv.n_head_kv * kv.head_dim;
    // a position's rows of all KV heads are contiguous in a block
    __half *k_dst = kv.row(block, layer, 0, slot_row, 0), *v_dst = kv.row(block, layer, 1, slot_row, 0);
    const float *k_src = k + blockIdx.x * k_stride, *v_src = v + blockIdx.x * v_stride;
    for (int i = threadIdx.x; i < values; i += blockDim.x) {
        k_dst[i] = __float2half_rn(k_src[i]);
        v_dst[i] = __float2half_rn(v_src[i]);
    }
}

} // namespace

cudaError_t kv_store(const PagedKv &kv, int layer, const float *k, int64_t k_stride, const float *v, int64_t v_stride, const int32_t *slots,
                     int T, cudaStream_t stream) {
    if (T <= 0) return cudaSuccess;
    store_rows<<<static_cast<unsigned>(T), 128, 0, stream>>>(kv, layer, k, k_stride, v, v_stride, slots);
    return launched();
}

} // namespace lmrt::cuda
