#include "../../include/lmrt.h"
#include "common.cuh"
#include "matvec.cuh"

namespace lmrt::cuda {

namespace {

constexpr int kWarpsPerBlock = 4;
// x in shared memory up to 48 KiB (the default limit without opting in)
constexpr int64_t kSharedFloats = 12 * 1024;

// The partial dot product of lane `lane` over its share of one row.
struct F32Row {
    __device__ static float dot(const void *row, int64_t n, const float *x, int lane) {
        const auto *w = static_cast<const float4 *>(row);
        float s = 0.0f;
        for (int64_t b = lane; b < n / 4; b += kWarp) {
            const float4 v = w[b];
            s += v.x * x[4 * b] + v.y * x[4 * b + 1] + v.z * x[4 * b + 2] + v.w * x[4 * b + 3];
        }
        return s;
    }
};

struct F16Row {
    __device__ static float dot(const void *row, int64_t n, const float *x, int lane) {
        const auto *w = static_cast<const uint4 *>(row); // 8 halves per load
        float s = 0.0f;
        for (int64_t b = lane; b < n / 8; b += kWarp) {
            const uint4 v = w[b];
            const __half2 *h = reinterpret_cast<const __half2 *>(&v);
            for (int i = 0; i < 4; ++i) {
                const float2 f = __half22float2(h[i]);
                s += f.x * x[8 * b + 2 * i] + f.y * x[8 * b + 2 * i + 1];
            }
        }
        return s;
    }
};

struct Q8_0Row {
    __device__ static float dot(const void *row, int64_t n, const float *x, int lane) {
        const auto *w = static_cast<const BlockQ8_0 *>(row);
        float s = 0.0f;
        for (int64_t b = lane; b < n / 32; b += kWarp) {
            float block = 0.0f;
            for (int i = 0; i < 32; ++i) block += static_cast<float>(w[b].qs[i]) * x[32 * b + i];
            s += __half2float(w[b].d) * block;
        }
        return s;
    }
};

struct Q4_0Row {
    __device__ static float dot(const void *row, int64_t n, const float *x, int lane) {
        const auto *w = static_cast<const BlockQ4_0 *>(row);
        float s = 0.0f;
        for (int64_t b = lane; b < n / 32; b += kWarp) {
            float block = 0.0f;
            for (int i = 0; i < 16; ++i) {
                const uint8_t q = w[b].qs[i];
                block += static_cast<float>((q & 0x0F) - 8) * x[32 * b + i] + static_cast<float>((q >> 4) - 8) * x[32 * b + i + 16];
            }
            s += __half2float(w[b].d) * block;
        }
        return s;
    }
};

template <typename Row>
__global__ void matvec_rows(const uint8_t *weight, size_t row_bytes, int64_t n, int64_t rows, const float *x, float *y, bool staged) {
    extern __shared__ float shared_x[];
    if (staged) {
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) shared_x[i] = x[i];
        __syncthreads();
    }
    const float *xs = staged ? shared_x : x;
    const int lane = threadIdx.x % kWarp;
    const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
    if (row >= rows) return;
    const float s = warp_sum(Row::dot(weight + row * row_bytes, n, xs, lane));
    if (lane == 0) y[row] = s;
}

template <typename Row>
cudaError_t launch(const void *weight, size_t row_bytes, int64_t n, int64_t rows, const float *x, float *y, cudaStream_t stream) {
    const bool staged = n <= kSharedFloats;
    const int64_t blocks = (rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
    matvec_rows<Row><<<static_cast<unsigned>(blocks), kWarpsPerBlock * kWarp, staged ? n * sizeof(float) : 0, stream>>>(
        static_cast<const uint8_t *>(weight), row_bytes, n, rows, x, y, staged);
    return launched();
}

} // namespace

bool matvec_supports(uint32_t type, int64_t n) {
    switch (type) {
    case LMRT_TYPE_F32: return n % 4 == 0;
    case LMRT_TYPE_F16: return n % 8 == 0;
    case LMRT_TYPE_Q8_0:
    case LMRT_TYPE_Q4_0: return n % 32 == 0;
    default: return false;
    }
}

cudaError_t matvec(uint32_t type, const void *weight, int64_t n, int64_t rows, const float *x, float *y, cudaStream_t stream) {
    if (!matvec_supports(type, n)) return cudaErrorInvalidValue;
    if (rows <= 0) return cudaSuccess;
    switch (type) {
    case LMRT_TYPE_F32: return launch<F32Row>(weight, static_cast<size_t>(n) * 4, n, rows, x, y, stream);
    case LMRT_TYPE_F16: return launch<F16Row>(weight, static_cast<size_t>(n) * 2, n, rows, x, y, stream);
    case LMRT_TYPE_Q8_0: return launch<Q8_0Row>(weight, static_cast<size_t>(n / 32) * sizeof(BlockQ8_0), n, rows, x, y, stream);
    default: return launch<Q4_0Row>(weight, static_cast<size_t>(n / 32) * sizeof(BlockQ4_0), n, rows, x, y, stream);
    }
}

} // namespace lmrt::cuda
