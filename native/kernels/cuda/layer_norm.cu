#include "common.cuh"
#include "layer_norm.cuh"

namespace lmrt::cuda {

namespace {

constexpr int kThreads = 256;

// The sum of v over the block, in every thread.
__device__ float block_sum(float v, float *warps) {
    v = warp_sum(v);
    if (threadIdx.x % kWarp == 0) warps[threadIdx.x / kWarp] = v;
    __syncthreads();
    float total = threadIdx.x < blockDim.x / kWarp ? warps[threadIdx.x] : 0.0f;
    if (threadIdx.x < kWarp) total = warp_sum(total);
    if (threadIdx.x == 0) warps[0] = total;
    __syncthreads();
    total = warps[0];
    __syncthreads(); // warps[] is reused by the next sum
    return total;
}

// One block per row: the mean, then the variance of the centred values, then the scaled row.
__global__ void layer_norm_rows(const float *x, const float *weight, const float *bias, float *y, int64_t n, float eps) {
    __shared__ float warps[kThreads / kWarp];
    const float *row = x + blockIdx.x * n;
    float *out = y + blockIdx.x * n;
    float sum = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += row[i];
    const float mean = block_sum(sum, warps) / static_cast<float>(n);
    float var = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) var += (row[i] - mean) * (row[i] - mean);
    const float scale = 1.0f / sqrtf(block_sum(var, warps) / static_cast<float>(n) + eps);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        const float v = (row[i] - mean) * scale;
        out[i] = v * (weight != nullptr ? weight[i] : 1.0f) + (bias != nullptr ? bias[i] : 0.0f);
    }
}

} // namespace

cudaError_t layer_norm(const float *x, const float *weight, const float *bias, float *y, int rows, int64_t n, float eps, cudaStream_t stream) {
    if (rows <= 0) return cudaSuccess;
    layer_norm_rows<<<rows, kThreads, 0, stream>>>(x, weight, bias, y, n, eps);
    return launched();
}

} // namespace lmrt::cuda
