// GGUF's quantised block layouts, bit for bit, and their scalar reference
// encoders/decoders. A block covers QK elements of one row; rows are a whole
// number of blocks.
//
//   Q8_0  32 elems: d (f16), 32 x int8                       x = d*q
//   Q4_0  32 elems: d (f16), 16 bytes of nibbles             x = d*(q-8)
//         byte j holds element j (low nibble) and j+16 (high nibble)
//   Q5_0  32 elems: d (f16), qh (32 fifth bits, bit j for element j),
//         nibbles as Q4_0                                     x = d*(q-16)
//   Q5_1  32 elems: d, m (f16), qh, nibbles as Q5_0           x = d*q + m
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

struct BlockQ5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[kQK4_0 / 2];
};

struct BlockQ5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
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

// The 5-bit levels (0..31) of a Q5_0/Q5_1 block's 32 elements.
inline void unpack_q5_levels(const uint8_t qs[16], const uint8_t qh_bytes[4], int q[32]) {
    const uint32_t qh = static_cast<uint32_t>(qh_bytes[0]) | static_cast<uint32_t>(qh_bytes[1]) << 8 |
                        static_cast<uint32_t>(qh_bytes[2]) << 16 | static_cast<uint32_t>(qh_bytes[3]) << 24;
    for (int j = 0; j < 16; ++j) {
        q[j] = (qs[j] & 0x0F) | static_cast<int>(((qh >> j) & 1) << 4);
        q[j + 16] = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
    }
}

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
