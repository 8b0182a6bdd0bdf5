#include "common.cuh"
#include "swiglu.cuh"

namespace lmrt::cuda {

namespace {

__global__ void swiglu_values(const float *gate, const float *up, float *y, int64_t n) {
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const float g = gate[i];
        y[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

} // namespace

cudaError_t swiglu(const float *gate, const float *up, float *y, int64_t n, cudaStream_t stream) {
    if (n <= 0) return cudaSuccess;
    constexpr int kThreads = 256;
    const int64_t blocks = (n + kThreads - 1) / kThreads;
    swiglu_values<<<static_cast<unsigned>(blocks < 65535 ? blocks : 65535), kThreads, 0, stream>>>(gate, up, y, n);
    return launched();
}

} // namespace lmrt::cuda
