#include "../../include/lmrt.h"
#include "common.cuh"
#include "matvec.cuh"
#include "weight_rows.cuh"

namespace lmrt::cuda {

namespace {

constexpr int kWarpsPerBlock = 4;
constexpr int kUnit = kRowUnit;

// Block (weight rows, group of up to kMatvecColumns inputs); one warp per
// row. Input t is row index[t] of x (row t without an index), its output
// the same row of y.
template <typename Row>
__global__ void matvec_rows(const uint8_t *weight, size_t row_bytes, int64_t n, int64_t rows, const float *x, int64_t x_stride, float *y,
                            int64_t y_stride, const int32_t *index, int t_base, int T) {
    const int lane = threadIdx.x % kWarp;
    const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
    const int t0 = t_base + static_cast<int>(blockIdx.y) * kMatvecColumns;
    const int columns = min(kMatvecColumns, T - t0);
    if (row >= rows) return;
    const uint8_t *w_row = weight + row * row_bytes;
    int64_t src[kMatvecColumns];
#pragma unroll
    for (int c = 0; c < kMatvecColumns; ++c) src[c] = c < columns ? (index != nullptr ? index[t0 + c] : t0 + c) : 0;
    float sums[kMatvecColumns] = {};
    for (int64_t u = lane; u < n / kUnit; u += kWarp) {
        float w[kUnit];
        Row::decode(w_row, u, w);
#pragma unroll
        for (int c = 0; c < kMatvecColumns; ++c) {
            if (c >= columns) break;
            const float4 *xv = reinterpret_cast<const float4 *>(x + src[c] * x_stride + kUnit * u);
            const float4 a = __ldg(xv), b = __ldg(xv + 1);
            sums[c] += w[0] * a.x + w[1] * a.y + w[2] * a.z + w[3] * a.w + w[4] * b.x + w[5] * b.y + w[6] * b.z + w[7] * b.w;
        }
    }
    if constexpr (Row::kTail) {
        const int64_t i = n / kUnit * kUnit + lane; // the last n % 8 values, one per lane
        if (i < n) {
            const float w = Row::at(w_row, i);
            for (int c = 0; c < columns; ++c) sums[c] += w * x[src[c] * x_stride + i];
        }
    }
#pragma unroll
    for (int c = 0; c < kMatvecColumns; ++c) {
        if (c >= columns) break;
        const float s = warp_sum(sums[c]);
        if (lane == 0) y[src[c] * y_stride + row] = s;
    }
}

template <typename Row>
cudaError_t launch(const void *weight, size_t row_bytes, int64_t n, int64_t rows, const float *x, int64_t x_stride, float *y, int64_t y_stride,
                   const int32_t *index, int T, cudaStream_t stream) {
    const int64_t blocks = (rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
    const int groups = (T + kMatvecColumns - 1) / kMatvecColumns;
    // grid.y is limited to 65535 groups: larger batches go in slices
    for (int g0 = 0; g0 < groups; g0 += 65535) {
        const int g = min(groups - g0, 65535);
        matvec_rows<Row><<<dim3(static_cast<unsigned>(blocks), static_cast<unsigned>(g)), kWarpsPerBlock * kWarp, 0, stream>>>(
            static_cast<const uint8_t *>(weight), row_bytes, n, rows, x, x_stride, y, y_stride, index, g0 * kMatvecColumns, T);
        const cudaError_t e = launched();
        if (e != cudaSuccess) return e;
    }
    return cudaSuccess;
}

} // namespace

bool matvec_supports(uint32_t type, int64_t n) {
    return with_row_type(type, n, [](auto, size_t) { return cudaSuccess; }) == cudaSuccess;
}

cudaError_t matvec(uint32_t type, const void *weight, int64_t n, int64_t rows, const float *x, int64_t x_stride, float *y, int64_t y_stride,
                   int T, cudaStream_t stream, const int32_t *index) {
    // float4 loads of x need 16-byte aligned rows
    if (!matvec_supports(type, n) || x_stride % 4 != 0 || reinterpret_cast<uintptr_t>(x) % 16 != 0) return cudaErrorInvalidValue;
    if (rows <= 0 || T <= 0) return cudaSuccess;
    return with_row_type(type, n, [&](auto row, size_t row_bytes) {
        return launch<decltype(row)>(weight, row_bytes, n, rows, x, x_stride, y, y_stride, index, T, stream);
    });
}

} // namespace lmrt::cuda
