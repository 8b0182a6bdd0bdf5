// GGUF's quantised block layouts, bit for bit, and their scalar reference
// encoders/decoders. A block covers QK elements of one row; rows are a whole
// number of blocks.
//
//   Q8_0  32 elems: d (f16), 32 x int8                       x = d*q
//   Q4_0  32 elems: d (f16), 16 bytes of nibbles             x = d*(q-8)
//         byte j holds element j (low nibble) and j+16 (high nibble)
//   Q4_K 256 elems: d, dmin (f16), 12 bytes of 6-bit sub-block scales and
//         mins (8 sub-blocks of 32), 128 bytes of nibbles   x = d*sc*q - dmin*m
//   Q5_K  like Q4_K plus qh[32]: the fifth bit of each element
//   Q6_K 256 elems: ql[128] low nibbles, qh[64] 2-bit highs, 16 int8 scales
//         (sub-blocks of 16), d (f16)                        x = d*sc*(q-32)
#pragma once

#include <cstdint>

#include "status.h"

namespace lmrt {

constexpr int kQK8_0 = 32;
constexpr int kQK4_0 = 32;
constexpr int kQK_K = 256;

struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[kQK8_0];
};

struct BlockQ4_0 {
    uint16_t d;
    uint8_t qs[kQK4_0 / 2];
};

struct BlockQ4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qs[kQK_K / 2];
};

struct BlockQ5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qh[kQK_K / 8];
    uint8_t qs[kQK_K / 2];
};

struct BlockQ6_K {
    uint8_t ql[kQK_K / 2];
    uint8_t qh[kQK_K / 4];
    int8_t scales[kQK_K / 16];
    uint16_t d;
};

// Whether quantize_row/dequantize_row handle this type.
bool can_encode_type(uint32_t type);

// n must be a multiple of the type's block size; dst must hold the bytes.
Status quantize_row(uint32_t type, const float *src, void *dst, uint64_t n);
Status dequantize_row(uint32_t type, const void *src, float *dst, uint64_t n);

// Unpacks sub-block j's 6-bit scale and min from a Q4_K/Q5_K scales array.
inline void unpack_scale_min_k4(int j, const uint8_t *q, uint8_t *scale, uint8_t *min) {
    if (j < 4) {
        *scale = q[j] & 63;
        *min = q[j + 4] & 63;
    } else {
        *scale = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

} // namespace lmrt
