#include <cuda_bf16.h>
#include <mma.h>

#include "gemm.cuh"
#include "weight_rows.cuh"

namespace lmrt::cuda {

namespace {

constexpr int kTileO = 64, kTileT = 64, kTileK = 32;
constexpr int kPad = 8;                      // keeps WMMA's leading dimensions multiples of 16 bytes, off the banks' stride
constexpr int kLd = kTileK + kPad, kLdC = kTileO + 4;
constexpr int kThreads = 128;                // 4 warps, each a 32 x 32 quarter of the tile

template <typename Elem> __device__ inline Elem to_elem(float v);
template <> __device__ inline __half to_elem<__half>(float v) { return __float2half_rn(v); }
template <> __device__ inline __nv_bfloat16 to_elem<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

template <typename Row, typename Elem>
__global__ void __launch_bounds__(kThreads) gemm_tiles(const uint8_t *weight, size_t row_bytes, int64_t n, int64_t rows, const float *x,
                                                       int64_t x_stride, float *y, int64_t y_stride, const int32_t *index, int t_base, int T) {
    using namespace nvcuda;
    __shared__ __align__(32) Elem ws[kTileO][kLd];
    __shared__ __align__(32) Elem xs[kTileT][kLd];
    __shared__ __align__(32) float cs[kTileT][kLdC];
    const int64_t o0 = static_cast<int64_t>(blockIdx.x) * kTileO;
    const int t0 = t_base + static_cast<int>(blockIdx.y) * kTileT;
    const int warp = threadIdx.x / kWarp;
    const int wo = (warp / 2) * 32, wt = (warp % 2) * 32;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
    for (int i = 0; i < 2; ++i) {
        for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);
    }
    for (int64_t k0 = 0; k0 < n; k0 += kTileK) {
        // the weight tile: 64 rows of 4 units of 8 values
        for (int i = threadIdx.x; i < kTileO * (kTileK / kRowUnit); i += kThreads) {
            const int r = i / (kTileK / kRowUnit), u = i % (kTileK / kRowUnit);
            float w[kRowUnit] = {};
            if (o0 + r < rows) Row::decode(weight + (o0 + r) * row_bytes, k0 / kRowUnit + u, w);
            for (int e = 0; e < kRowUnit; ++e) ws[r][kRowUnit * u + e] = to_elem<Elem>(w[e]);
        }
        // the input tile: 64 rows of 8 float4s, zeros past the batch
        for (int i = threadIdx.x; i < kTileT * (kTileK / 4); i += kThreads) {
            const int t = i / (kTileK / 4), q = i % (kTileK / 4);
            float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            if (t0 + t < T) {
                const int64_t src = index != nullptr ? index[t0 + t] : t0 + t;
                v = __ldg(reinterpret_cast<const float4 *>(x + src * x_stride + k0) + q);
            }
            xs[t][4 * q] = to_elem<Elem>(v.x);
            xs[t][4 * q + 1] = to_elem<Elem>(v.y);
            xs[t][4 * q + 2] = to_elem<Elem>(v.z);
            xs[t][4 * q + 3] = to_elem<Elem>(v.w);
        }
        __syncthreads();
        for (int kk = 0; kk < kTileK; kk += 16) {
            // A = weights [o][k] (row-major), B = inputs [k][t] (stored [t][k]: column-major)
            wmma::fragment<wmma::matrix_a, 16, 16, 16, Elem, wmma::row_major> a[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, Elem, wmma::col_major> b[2];
            for (int i = 0; i < 2; ++i) wmma::load_matrix_sync(a[i], &ws[wo + 16 * i][kk], kLd);
            for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(b[j], &xs[wt + 16 * j][kk], kLd);
            for (int i = 0; i < 2; ++i) {
                for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
            }
        }
        __syncthreads();
    }
    // C [o][t] stored column-major is cs[t][o]: each batch row's outputs contiguous
    for (int i = 0; i < 2; ++i) {
        for (int j = 0; j < 2; ++j) wmma::store_matrix_sync(&cs[wt + 16 * j][wo + 16 * i], acc[i][j], kLdC, wmma::mem_col_major);
    }
    __syncthreads();
    for (int i = threadIdx.x; i < kTileT * kTileO; i += kThreads) {
        const int t = i / kTileO, o = i % kTileO;
        if (t0 + t < T && o0 + o < rows) {
            const int64_t dst = index != nullptr ? index[t0 + t] : t0 + t;
            y[dst * y_stride + o0 + o] = cs[t][o];
        }
    }
}

template <typename Row, typename Elem>
cudaError_t launch(const void *weight, size_t row_bytes, int64_t n, int64_t rows, const float *x, int64_t x_stride, float *y, int64_t y_stride,
                   const int32_t *index, int T, cudaStream_t stream) {
    const int64_t blocks = (rows + kTileO - 1) / kTileO;
    const int tiles = (T + kTileT - 1) / kTileT;
    for (int g0 = 0; g0 < tiles; g0 += 65535) {
        const int g = min(tiles - g0, 65535);
        gemm_tiles<Row, Elem><<<dim3(static_cast<unsigned>(blocks), static_cast<unsigned>(g)), kThreads, 0, stream>>>(
            static_cast<const uint8_t *>(weight), row_bytes, n, rows, x, x_stride, y, y_stride, index, g0 * kTileT, T);
        const cudaError_t e = launched();
        if (e != cudaSuccess) return e;
    }
    return cudaSuccess;
}

} // namespace

bool gemm_supports(uint32_t type, int64_t n) {
    if (type == LMRT_TYPE_F32 || n % kTileK != 0) return false;
    return with_row_type(type, n, [](auto, size_t) { return cudaSuccess; }) == cudaSuccess;
}

cudaError_t gemm(uint32_t type, const void *weight, int64_t n, int64_t rows, const float *x, int64_t x_stride, float *y, int64_t y_stride,
                 int T, cudaStream_t stream, const int32_t *index) {
    if (!gemm_supports(type, n) || x_stride % 4 != 0 || reinterpret_cast<uintptr_t>(x) % 16 != 0) return cudaErrorInvalidValue;
    if (rows <= 0 || T <= 0) return cudaSuccess;
    return with_row_type(type, n, [&](auto row, size_t row_bytes) {
        if (type == LMRT_TYPE_BF16) return launch<decltype(row), __nv_bfloat16>(weight, row_bytes, n, rows, x, x_stride, y, y_stride, index, T, stream);
        return launch<decltype(row), __half>(weight, row_bytes, n, rows, x, x_stride, y, y_stride, index, T, stream);
    });
}

} // namespace lmrt::cuda
