#include "argmax.cuh"
#include "common.cuh"

namespace lmrt::cuda {

namespace {

constexpr int kThreads = 256;

// (value, index) a beats b: larger, or as large and earlier; NaN loses.
__device__ inline bool beats(float va, int32_t ia, float vb, int32_t ib) {
    if (ia < 0) return false;
    if (ib < 0) return true;
    return va > vb || (va == vb && ia < ib) || (vb != vb && va == va);
}

__global__ void argmax_rows(const float *x, int64_t n, int32_t *out) {
    const float *row = x + blockIdx.x * n;
    float best = 0.0f;
    int32_t at = -1;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        if (beats(row[i], static_cast<int32_t>(i), best, at)) {
            best = row[i];
            at = static_cast<int32_t>(i);
        }
    }
    for (int offset = kWarp / 2; offset > 0; offset /= 2) {
        const float v = __shfl_xor_sync(0xffffffffu, best, offset);
        const int32_t i = __shfl_xor_sync(0xffffffffu, at, offset);
        if (beats(v, i, best, at)) {
            best = v;
            at = i;
        }
    }
    __shared__ float values[kThreads / kWarp];
    __shared__ int32_t indices[kThreads / kWarp];
    if (threadIdx.x % kWarp == 0) {
        values[threadIdx.x / kWarp] = best;
        indices[threadIdx.x / kWarp] = at;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < kThreads / kWarp; ++w) {
            if (beats(values[w], indices[w], best, at)) {
                best = values[w];
                at = indices[w];
            }
        }
        out[blockIdx.x] = at < 0 ? 0 : at;
    }
}

} // namespace

cudaError_t argmax(const float *x, int rows, int64_t n, int32_t *out, cudaStream_t stream) {
    if (rows <= 0 || n <= 0) return rows <= 0 ? cudaSuccess : cudaErrorInvalidValue;
    argmax_rows<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(x, n, out);
    return launched();
}

} // namespace lmrt::cuda
