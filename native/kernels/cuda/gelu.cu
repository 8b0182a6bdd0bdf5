#include "common.cuh"
#include "gelu.cuh"

namespace lmrt::cuda {

namespace {

__global__ void gelu_values(float *x, int64_t n) {
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const float v = x[i];
        if (v <= -10.0f) {
            x[i] = 0.0f;
        } else if (v < 10.0f) {
            const float f = __half2float(__float2half_rn(v));
            const float g = 0.5f * f * (1.0f + tanhf(0.79788456080286535587989211986876f * f * (1.0f + 0.044715f * f * f)));
            x[i] = __half2float(__float2half_rn(g));
        }
    }
}

} // namespace

cudaError_t gelu(float *x, int64_t n, cudaStream_t stream) {
    if (n <= 0) return cudaSuccess;
    constexpr int kThreads = 256;
    const int64_t blocks = (n + kThreads - 1) / kThreads;
    gelu_values<<<static_cast<unsigned>(blocks < 65535 ? blocks : 65535), kThreads, 0, stream>>>(x, n);
    return launched();
}

} // namespace lmrt::cuda
