#include "common.cuh"
#include "rms_norm.cuh"

namespace lmrt::cuda {

namespace {

constexpr int kThreads = 256;

// One block per row: each thread sums squares over a stride of the row, the
// block adds the threads' sums (warps, then the warps' sums), every thread
// scales its elements.
__global__ void rms_norm_rows(const float *x, const float *weight, float *y, int64_t n, float eps) {
    const float *row = x + blockIdx.x * n;
    float *out = y + blockIdx.x * n;
    float sum = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += row[i] * row[i];
    sum = warp_sum(sum);
    __shared__ float warps[kThreads / kWarp];
    if (threadIdx.x % kWarp == 0) warps[threadIdx.x / kWarp] = sum;
    __syncthreads();
    if (threadIdx.x < kWarp) {
        float total = threadIdx.x < blockDim.x / kWarp ? warps[threadIdx.x] : 0.0f;
        total = warp_sum(total);
        if (threadIdx.x == 0) warps[0] = total;
    }
    __syncthreads();
    const float scale = rsqrtf(warps[0] / static_cast<float>(n) + eps);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = row[i] * scale * (weight != nullptr ? weight[i] : 1.0f);
}

} // namespace

cudaError_t rms_norm(const float *x, const float *weight, float *y, int rows, int64_t n, float eps, cudaStream_t stream) {
    if (rows <= 0) return cudaSuccess;
    rms_norm_rows<<<rows, kThreads, 0, stream>>>(x, weight, y, n, eps);
    return launched();
}

} // namespace lmrt::cuda
