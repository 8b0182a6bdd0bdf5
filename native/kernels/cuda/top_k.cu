#include "common.cuh"
#include "top_k.cuh"

namespace lmrt::cuda {

namespace {

constexpr int kThreads = 512, kWarps = kThreads / kWarp;

__device__ inline float ranked(float v) { return v != v ? -INFINITY : v == 0.0f ? 0.0f : v; } // NaN low, -0 as +0

// A key whose unsigned order is the float order of ranked(v).
__device__ inline uint32_t key_of(float v) {
    const uint32_t b = __float_as_uint(ranked(v));
    return (b & 0x80000000u) != 0 ? ~b : b | 0x80000000u;
}

// Rank of this thread's flag among the block's threads before it, and the
// block's total (every thread calls it).
__device__ int block_rank(bool flag, int *warp_counts, int *total) {
    const unsigned ballot = __ballot_sync(0xffffffffu, flag);
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    if (lane == 0) warp_counts[warp] = __popc(ballot);
    __syncthreads();
    int before = 0, sum = 0;
    for (int w = 0; w < kWarps; ++w) {
        if (w < warp) before += warp_counts[w];
        sum += warp_counts[w];
    }
    __syncthreads(); // warp_counts is reused by the next call
    *total = sum;
    return before + __popc(ballot & ((1u << lane) - 1u));
}

// One block per row:
//   1. radix select: four passes of 8 bits find the key of the k-th largest
//      value and how many values equal to it belong to the top k;
//   2. in index order, tile by tile, the values above it (fewer than k) and
//      the first of the equal ones (the lower indices) are collected;
//   3. the values above are ranked among themselves (largest first, lower
//      index first) and written, then the equal ones in index order.
__global__ void __launch_bounds__(kThreads) top_k_rows(const float *x, int64_t n, int k, int32_t *ids, float *values) {
    __shared__ int hist[256];
    __shared__ int above[kMaxTopK], equal[kMaxTopK];
    __shared__ int warp_counts[kWarps];
    __shared__ uint32_t prefix_s;
    __shared__ int need_s;
    const float *row = x + blockIdx.x * n;
    uint32_t prefix = 0, mask = 0;
    int need = k; // how many of the values matching the prefix belong to the top k
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int b = threadIdx.x; b < 256; b += kThreads) hist[b] = 0;
        __syncthreads();
        for (int64_t i = threadIdx.x; i < n; i += kThreads) {
            const uint32_t key = key_of(row[i]);
            if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1);
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            int cumulative = 0, bin = 0;
            for (bin = 255; bin > 0; --bin) {
                if (cumulative + hist[bin] >= need) break;
                cumulative += hist[bin];
            }
            prefix_s = prefix | (static_cast<uint32_t>(bin) << shift);
            need_s = need - cumulative;
        }
        __syncthreads();
        prefix = prefix_s;
        need = need_s;
        mask |= 255u << shift;
    }
    const uint32_t kth = prefix;
    const int n_above = k - need; // values with a larger key: all of them are in the top k
    int found_above = 0, found_equal = 0;
    for (int64_t base = 0; base < n && (found_above < n_above || found_equal < need); base += kThreads) {
        const int64_t i = base + threadIdx.x;
        const uint32_t key = i < n ? key_of(row[i]) : 0u;
        const bool is_above = i < n && key > kth, is_equal = i < n && key == kth;
        int total_above, total_equal;
        const int rank_above = block_rank(is_above, warp_counts, &total_above);
        const int rank_equal = block_rank(is_equal, warp_counts, &total_equal);
        if (is_above) above[found_above + rank_above] = static_cast<int>(i);
        if (is_equal && found_equal + rank_equal < need) equal[found_equal + rank_equal] = static_cast<int>(i);
        found_above += total_above;
        found_equal += total_equal;
    }
    __syncthreads();
    int32_t *out_ids = ids + static_cast<int64_t>(blockIdx.x) * k;
    float *out_values = values + static_cast<int64_t>(blockIdx.x) * k;
    for (int t = threadIdx.x; t < n_above; t += kThreads) {
        const int id = above[t];
        const float v = ranked(row[id]);
        int rank = 0;
        for (int j = 0; j < n_above; ++j) {
            const float w = ranked(row[above[j]]);
            rank += w > v || (w == v && above[j] < id);
        }
        out_ids[rank] = id;
        out_values[rank] = row[id] != row[id] ? -INFINITY : row[id];
    }
    for (int t = threadIdx.x; t < need; t += kThreads) {
        const int id = equal[t];
        out_ids[n_above + t] = id;
        out_values[n_above + t] = row[id] != row[id] ? -INFINITY : row[id];
    }
}

} // namespace

cudaError_t top_k(const float *x, int rows, int64_t n, int k, int32_t *ids, float *values, cudaStream_t stream) {
    if (rows <= 0) return cudaSuccess;
    if (k < 1 || k > kMaxTopK || k > n || n > INT32_MAX) return cudaErrorInvalidValue;
    top_k_rows<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(x, n, k, ids, values);
    return launched();
}

} // namespace lmrt::cuda
