#include "add.cuh"
#include "common.cuh"

namespace lmrt::cuda {

namespace {

constexpr int kThreads = 256;

// Block t: row t. x_stride 0 repeats one row (a bias).
__global__ void add_to_rows(float *y, int64_t y_stride, const float *x, int64_t x_stride, int64_t n) {
    float *out = y + blockIdx.x * y_stride;
    const float *in = x + blockIdx.x * x_stride;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] += in[i];
}

__global__ void gather(float *dst, const float *src, const int32_t *rows, int64_t n) {
    float *out = dst + blockIdx.x * n;
    const float *in = src + static_cast<int64_t>(rows[blockIdx.x]) * n;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = in[i];
}

} // namespace

cudaError_t add_rows(float *y, int64_t y_stride, const float *x, int64_t x_stride, int T, int64_t n, cudaStream_t stream) {
    if (T <= 0 || n <= 0) return cudaSuccess;
    add_to_rows<<<static_cast<unsigned>(T), kThreads, 0, stream>>>(y, y_stride, x, x_stride, n);
    return launched();
}

cudaError_t add_bias(float *y, int64_t y_stride, const float *bias, int T, int64_t n, cudaStream_t stream) {
    return add_rows(y, y_stride, bias, 0, T, n, stream);
}

cudaError_t gather_rows(float *dst, const float *src, const int32_t *rows, int count, int64_t n, cudaStream_t stream) {
    if (count <= 0 || n <= 0) return cudaSuccess;
    gather<<<static_cast<unsigned>(count), kThreads, 0, stream>>>(dst, src, rows, n);
    return launched();
}

} // namespace lmrt::cuda
