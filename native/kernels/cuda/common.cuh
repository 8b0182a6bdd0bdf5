// Shared by the CUDA kernels: launch checks and the GGUF block layouts as
// the device reads them (the same bytes as core/quant.h's blocks).
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace lmrt::cuda {

constexpr int kWarp = 32;

struct BlockQ8_0 {
    __half d;
    int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 layout");

struct BlockQ4_0 {
    __half d;
    uint8_t qs[16]; // value i: low nibble of byte i, value i + 16: high nibble; stored with an offset of 8
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 layout");

struct BlockQ4_K {
    __half d, dmin;
    uint8_t scales[12]; // eight 6-bit scales and mins (core/quant.h's unpack_scale_min_k4)
    uint8_t qs[128];
};
static_assert(sizeof(BlockQ4_K) == 144, "Q4_K layout");

struct BlockQ5_K {
    __half d, dmin;
    uint8_t scales[12]; // as Q4_K's
    uint8_t qh[32];     // bit c of byte l: the fifth bit of value 32c + l
    uint8_t qs[128];
};
static_assert(sizeof(BlockQ5_K) == 176, "Q5_K layout");

struct BlockQ6_K {
    uint8_t ql[128], qh[64];
    int8_t scales[16];
    __half d;
};
static_assert(sizeof(BlockQ6_K) == 210, "Q6_K layout");

// bf16 is the top half of an f32.
__device__ inline float bf16_to_float(uint16_t v) { return __uint_as_float(static_cast<uint32_t>(v) << 16); }

// Values 8j .. 8j + 7 of a 256-value K-quant super-block, as core/quant.cpp
// decodes them.
// Sub-block `sub`'s 6-bit scale and min of a Q4_K/Q5_K scales array (core/quant.h's unpack_scale_min_k4).
__device__ inline void scale_min_k4(const uint8_t *scales, int sub, int *sc, int *m) {
    if (sub < 4) {
        *sc = scales[sub] & 63;
        *m = scales[sub + 4] & 63;
    } else {
        *sc = (scales[sub + 4] & 0xF) | ((scales[sub - 4] >> 6) << 4);
        *m = (scales[sub + 4] >> 4) | ((scales[sub] >> 6) << 4);
    }
}

__device__ inline void decode8(const BlockQ4_K &b, int j, float out[8]) {
    const int v0 = 8 * j, chunk = v0 / 64, within = v0 % 64, sub = 2 * chunk + (within >= 32 ? 1 : 0);
    int sc, m;
    scale_min_k4(b.scales, sub, &sc, &m);
    const float d = __half2float(b.d) * static_cast<float>(sc), dm = __half2float(b.dmin) * static_cast<float>(m);
    const uint8_t *q = b.qs + 32 * chunk + within % 32;
    const int shift = within >= 32 ? 4 : 0;
    for (int i = 0; i < 8; ++i) out[i] = d * static_cast<float>((q[i] >> shift) & 0xF) - dm;
}

__device__ inline void decode8(const BlockQ5_K &b, int j, float out[8]) {
    const int v0 = 8 * j, chunk = v0 / 64, within = v0 % 64, sub = 2 * chunk + (within >= 32 ? 1 : 0);
    int sc, m;
    scale_min_k4(b.scales, sub, &sc, &m);
    const float d = __half2float(b.d) * static_cast<float>(sc), dm = __half2float(b.dmin) * static_cast<float>(m);
    const int l = within % 32;
    const uint8_t *q = b.qs + 32 * chunk + l, *qh = b.qh + l;
    const int shift = within >= 32 ? 4 : 0;
    for (int i = 0; i < 8; ++i) out[i] = d * static_cast<float>(((q[i] >> shift) & 0xF) + (((qh[i] >> sub) & 1) << 4)) - dm;
}

__device__ inline void decode8(const BlockQ6_K &b, int j, float out[8]) {
    const int v0 = 8 * j, half = v0 / 128, quarter = (v0 % 128) / 32, l = v0 % 32;
    const uint8_t *ql = b.ql + 64 * half + l + (quarter % 2 == 1 ? 32 : 0);
    const uint8_t *qh = b.qh + 32 * half + l;
    const int low_shift = quarter >= 2 ? 4 : 0, high_shift = 2 * quarter;
    const float d = __half2float(b.d) * static_cast<float>(b.scales[8 * half + l / 16 + 2 * quarter]);
    for (int i = 0; i < 8; ++i) {
        const int q = (((ql[i] >> low_shift) & 0xF) | (((qh[i] >> high_shift) & 3) << 4)) - 32;
        out[i] = d * static_cast<float>(q);
    }
}

// Sum of v over the 32 lanes of a warp, in every lane.
__device__ inline float warp_sum(float v) {
    for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// The error of the last launch on this thread (cudaSuccess when it started).
inline cudaError_t launched() { return cudaGetLastError(); }

} // namespace lmrt::cuda
