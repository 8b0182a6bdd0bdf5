#include "../../include/lmrt.h"
#include "common.cuh"
#include "matvec.cuh"
#include "weight_rows.cuh"

namespace lmrt::cuda {

namespace {

constexpr int kWarpsPerBlock = 4, kWarpRows = 4;
constexpr int kUnit = kRowUnit;

// A unit's 8 products summed in one fixed chain of fused multiply-adds:
// written out, so that every kernel variant rounds a row alike (the
// compiler's contraction of a plain expression is its own choice).
__device__ inline float dot8(const float *w, float4 a, float4 b) {
    float s = w[0] * a.x;
    s = fmaf(w[1], a.y, s);
    s = fmaf(w[2], a.z, s);
    s = fmaf(w[3], a.w, s);
    s = fmaf(w[4], b.x, s);
    s = fmaf(w[5], b.y, s);
    s = fmaf(w[6], b.z, s);
    return fmaf(w[7], b.w, s);
}

// Block (weight rows, group of up to kMatvecColumns inputs); each warp
// takes kWarpRows consecutive weight rows, so that each input value it
// loads serves that many rows (a quantised weight is a fraction of the f32
// input's bytes: one row per warp would read the input several times over
// for each weight byte). Input t is row index[t] of x (row t without an
// index), its output the same row of y. Each row sums its units in the
// same order however the rows are grouped. kCols: inputs per block (1 for
// a single input, which keeps the registers, and so the warps in flight,
// of decoding at batch 1 free of accumulators it does not use).
template <typename Row, int kCols>
__global__ void matvec_rows(const uint8_t *weight, size_t row_bytes, int64_t n, int64_t rows, const float *x, int64_t x_stride, float *y,
                            int64_t y_stride, const int32_t *index, int t_base, int T) {
    const int lane = threadIdx.x % kWarp;
    const int64_t row0 = (static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp) * kWarpRows;
    const int t0 = t_base + static_cast<int>(blockIdx.y) * kCols;
    const int columns = min(kCols, T - t0);
    if (row0 >= rows) return;
    const int n_rows = rows - row0 < kWarpRows ? static_cast<int>(rows - row0) : kWarpRows;
    int64_t src[kCols];
#pragma unroll
    for (int c = 0; c < kCols; ++c) src[c] = c < columns ? (index != nullptr ? index[t0 + c] : t0 + c) : 0;
    float sums[kWarpRows][kCols] = {};
    for (int64_t u = lane; u < n / kUnit; u += kWarp) {
        if constexpr (kCols == 1) {
            // one input: its 8 values once, then each row decoded and summed in turn
            const float4 *xv = reinterpret_cast<const float4 *>(x + src[0] * x_stride + kUnit * u);
            const float4 a = __ldg(xv), b = __ldg(xv + 1);
#pragma unroll
            for (int r = 0; r < kWarpRows; ++r) {
                if (r >= n_rows) break;
                float w[kUnit];
                Row::decode(weight + (row0 + r) * row_bytes, u, w);
                sums[r][0] += dot8(w, a, b);
            }
        } else {
            float w[kWarpRows][kUnit];
#pragma unroll
            for (int r = 0; r < kWarpRows; ++r) {
                if (r < n_rows) Row::decode(weight + (row0 + r) * row_bytes, u, w[r]);
            }
#pragma unroll
            for (int c = 0; c < kCols; ++c) {
                if (c >= columns) break;
                const float4 *xv = reinterpret_cast<const float4 *>(x + src[c] * x_stride + kUnit * u);
                const float4 a = __ldg(xv), b = __ldg(xv + 1);
#pragma unroll
                for (int r = 0; r < kWarpRows; ++r) {
                    if (r < n_rows) sums[r][c] += dot8(w[r], a, b);
                }
            }
        }
    }
    if constexpr (Row::kTail) {
        const int64_t i = n / kUnit * kUnit + lane; // the last n % 8 values, one per lane
        if (i < n) {
#pragma unroll
            for (int r = 0; r < kWarpRows; ++r) {
                if (r >= n_rows) break;
                const float w = Row::at(weight + (row0 + r) * row_bytes, i);
#pragma unroll
                for (int c = 0; c < kCols; ++c) {
                    if (c < columns) sums[r][c] = fmaf(w, x[src[c] * x_stride + i], sums[r][c]);
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < kWarpRows; ++r) {
#pragma unroll
        for (int c = 0; c < kCols; ++c) {
            if (c >= columns) break;
            const float s = warp_sum(sums[r][c]);
            if (lane == 0 && r < n_rows) y[src[c] * y_stride + row0 + r] = s;
        }
    }
}

template <typename Row>
cudaError_t launch(const void *weight, size_t row_bytes, int64_t n, int64_t rows, const float *x, int64_t x_stride, float *y, int64_t y_stride,
                   const int32_t *index, int T, cudaStream_t stream) {
    const int64_t rows_per_block = kWarpsPerBlock * kWarpRows, blocks = (rows + rows_per_block - 1) / rows_per_block;
    if (T == 1) {
        matvec_rows<Row, 1><<<dim3(static_cast<unsigned>(blocks), 1), kWarpsPerBlock * kWarp, 0, stream>>>(
            static_cast<const uint8_t *>(weight), row_bytes, n, rows, x, x_stride, y, y_stride, index, 0, T);
        return launched();
    }
    const int groups = (T + kMatvecColumns - 1) / kMatvecColumns;
    // grid.y is limited to 65535 groups: larger batches go in slices
    for (int g0 = 0; g0 < groups; g0 += 65535) {
        const int g = min(groups - g0, 65535);
        matvec_rows<Row, kMatvecColumns><<<dim3(static_cast<unsigned>(blocks), static_cast<unsigned>(g)), kWarpsPerBlock * kWarp, 0, stream>>>(
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
