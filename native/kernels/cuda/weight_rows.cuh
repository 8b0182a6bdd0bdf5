// The device's view of one weight row in a GGUF type: unit u is values
// 8u .. 8u + 7, decoded to floats as core/quant.cpp decodes them, so that a
// warp's lanes, taking consecutive units, read one stretch of memory.
// Shared by the matrix products and the embedding lookup.
#pragma once

#include "../../include/lmrt.h"
#include "common.cuh"

namespace lmrt::cuda {

constexpr int kRowUnit = 8; // values a lane decodes at a time

// Each weight type decodes unit u (values 8u .. 8u + 7) of a row; the
// float types also read single values (`at`), for rows whose length is
// not a multiple of 8 (their tails, and rows not 16-byte aligned).
struct F32Row {
    static constexpr bool kTail = true;
    __device__ static float at(const uint8_t *row, int64_t i) { return reinterpret_cast<const float *>(row)[i]; }
    __device__ static void decode(const uint8_t *row, int64_t u, float w[kRowUnit]) {
        const float4 *p = reinterpret_cast<const float4 *>(row) + 2 * u;
        const float4 a = p[0], b = p[1];
        w[0] = a.x, w[1] = a.y, w[2] = a.z, w[3] = a.w, w[4] = b.x, w[5] = b.y, w[6] = b.z, w[7] = b.w;
    }
};

struct F16Row {
    static constexpr bool kTail = true;
    __device__ static float at(const uint8_t *row, int64_t i) { return __half2float(reinterpret_cast<const __half *>(row)[i]); }
    __device__ static void decode(const uint8_t *row, int64_t u, float w[kRowUnit]) {
        const uint4 v = reinterpret_cast<const uint4 *>(row)[u];
        const __half2 *h = reinterpret_cast<const __half2 *>(&v);
        for (int i = 0; i < 4; ++i) {
            const float2 f = __half22float2(h[i]);
            w[2 * i] = f.x, w[2 * i + 1] = f.y;
        }
    }
};

struct BF16Row {
    static constexpr bool kTail = true;
    __device__ static float at(const uint8_t *row, int64_t i) { return bf16_to_float(reinterpret_cast<const uint16_t *>(row)[i]); }
    __device__ static void decode(const uint8_t *row, int64_t u, float w[kRowUnit]) {
        const uint4 v = reinterpret_cast<const uint4 *>(row)[u];
        const uint32_t words[4] = {v.x, v.y, v.z, v.w};
        for (int i = 0; i < 4; ++i) {
            w[2 * i] = __uint_as_float(words[i] << 16);
            w[2 * i + 1] = __uint_as_float(words[i] & 0xFFFF0000u);
        }
    }
};

// A float row of any length: single loads throughout.
template <typename Float> struct UnalignedRow {
    static constexpr bool kTail = true;
    __device__ static float at(const uint8_t *row, int64_t i) { return Float::at(row, i); }
    __device__ static void decode(const uint8_t *row, int64_t u, float w[kRowUnit]) {
        for (int i = 0; i < kRowUnit; ++i) w[i] = Float::at(row, kRowUnit * u + i);
    }
};

struct Q8_0Row {
    static constexpr bool kTail = false;
    __device__ static void decode(const uint8_t *row, int64_t u, float w[kRowUnit]) {
        const BlockQ8_0 &b = reinterpret_cast<const BlockQ8_0 *>(row)[u / 4];
        const float d = __half2float(b.d);
        const int8_t *q = b.qs + 8 * (u % 4);
        for (int i = 0; i < kRowUnit; ++i) w[i] = d * static_cast<float>(q[i]);
    }
};

struct Q4_0Row {
    static constexpr bool kTail = false;
    __device__ static void decode(const uint8_t *row, int64_t u, float w[kRowUnit]) {
        const BlockQ4_0 &b = reinterpret_cast<const BlockQ4_0 *>(row)[u / 4];
        const float d = __half2float(b.d);
        const int part = static_cast<int>(u % 4);
        const uint8_t *q = b.qs + 8 * (part % 2);
        const int shift = part >= 2 ? 4 : 0; // values 16..31 are the high nibbles
        for (int i = 0; i < kRowUnit; ++i) w[i] = d * static_cast<float>(((q[i] >> shift) & 0xF) - 8);
    }
};

struct Q4_KRow {
    static constexpr bool kTail = false;
    __device__ static void decode(const uint8_t *row, int64_t u, float w[kRowUnit]) {
        decode8(reinterpret_cast<const BlockQ4_K *>(row)[u / 32], static_cast<int>(u % 32), w);
    }
};

struct Q5_KRow {
    static constexpr bool kTail = false;
    __device__ static void decode(const uint8_t *row, int64_t u, float w[kRowUnit]) {
        decode8(reinterpret_cast<const BlockQ5_K *>(row)[u / 32], static_cast<int>(u % 32), w);
    }
};

struct Q6_KRow {
    static constexpr bool kTail = false;
    __device__ static void decode(const uint8_t *row, int64_t u, float w[kRowUnit]) {
        decode8(reinterpret_cast<const BlockQ6_K *>(row)[u / 32], static_cast<int>(u % 32), w);
    }
};


// Calls fn(Row{}, row_bytes) with the decoder of `type` for rows of n values;
// returns cudaErrorInvalidValue for a type or length the decoders cannot take.
template <typename Fn> cudaError_t with_row_type(uint32_t type, int64_t n, Fn fn) {
    const size_t nb32 = static_cast<size_t>(n / 32), nb256 = static_cast<size_t>(n / 256);
    switch (type) {
    case LMRT_TYPE_F32:
        if (n % 4 != 0) return fn(UnalignedRow<F32Row>{}, static_cast<size_t>(n) * 4);
        return fn(F32Row{}, static_cast<size_t>(n) * 4);
    case LMRT_TYPE_F16:
        if (n % 8 != 0) return fn(UnalignedRow<F16Row>{}, static_cast<size_t>(n) * 2);
        return fn(F16Row{}, static_cast<size_t>(n) * 2);
    case LMRT_TYPE_BF16:
        if (n % 8 != 0) return fn(UnalignedRow<BF16Row>{}, static_cast<size_t>(n) * 2);
        return fn(BF16Row{}, static_cast<size_t>(n) * 2);
    case LMRT_TYPE_Q8_0:
        if (n % 32 != 0) break;
        return fn(Q8_0Row{}, nb32 * sizeof(BlockQ8_0));
    case LMRT_TYPE_Q4_0:
        if (n % 32 != 0) break;
        return fn(Q4_0Row{}, nb32 * sizeof(BlockQ4_0));
    case LMRT_TYPE_Q4_K:
        if (n % 256 != 0) break;
        return fn(Q4_KRow{}, nb256 * sizeof(BlockQ4_K));
    case LMRT_TYPE_Q5_K:
        if (n % 256 != 0) break;
        return fn(Q5_KRow{}, nb256 * sizeof(BlockQ5_K));
    case LMRT_TYPE_Q6_K:
        if (n % 256 != 0) break;
        return fn(Q6_KRow{}, nb256 * sizeof(BlockQ6_K));
    default: break;
    }
    return cudaErrorInvalidValue;
}

} // namespace lmrt::cuda
