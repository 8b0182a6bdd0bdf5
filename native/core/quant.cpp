// Scalar reference encoders and decoders for the block layouts in quant.h.
// Q8_0, Q4_0, Q5_0 and Q5_1 follow ggml's reference rounding exactly, so
// re-encoding a float model reproduces llama.cpp's files byte for byte. The
// K-quants (quant_k.cpp) search their scales.
#include "quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ggml_types.h"
#include "half.h"
#include "quant_k.h"

namespace lmrt {

namespace {

void quantize_q8_0(const float *x, BlockQ8_0 *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; ++i, x += kQK8_0) {
        float amax = 0.0f;
        for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        for (int j = 0; j < kQK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
    }
}

void dequantize_q8_0(const BlockQ8_0 *x, float *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < kQK8_0; ++j) *y++ = d * x[i].qs[j];
    }
}

// The first element of largest magnitude, with its sign (ggml's reference
// scale for the symmetric 4- and 5-bit types).
float signed_extreme(const float *x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; ++j) {
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    }
    return max;
}

void quantize_q4_0(const float *x, BlockQ4_0 *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; ++i, x += kQK4_0) {
        // the element of largest magnitude, with its sign, maps to -8
        const float d = signed_extreme(x, kQK4_0) / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        for (int j = 0; j < kQK4_0 / 2; ++j) {
            const float x0 = x[j] * id;
            const float x1 = x[j + kQK4_0 / 2] * id;
            const uint8_t q0 = static_cast<uint8_t>(std::min(15, static_cast<int>(static_cast<int8_t>(x0 + 8.5f))));
            const uint8_t q1 = static_cast<uint8_t>(std::min(15, static_cast<int>(static_cast<int8_t>(x1 + 8.5f))));
            y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
        }
    }
}

void dequantize_q4_0(const BlockQ4_0 *x, float *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; ++i, y += kQK4_0) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < kQK4_0 / 2; ++j) {
            y[j] = d * ((x[i].qs[j] & 0xF) - 8);
            y[j + kQK4_0 / 2] = d * ((x[i].qs[j] >> 4) - 8);
        }
    }
}

// The 5-bit types keep each element's fifth bit in qh: bit j for element j
// (low nibbles) and bit j + 16 for element j + 16 (high nibbles).
void pack_5bit(const uint8_t q[32], uint8_t qs[16], uint8_t qh_bytes[4]) {
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        qs[j] = static_cast<uint8_t>((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
        qh |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
        qh |= static_cast<uint32_t>((q[j + 16] >> 4) & 1) << (j + 16);
    }
    std::memcpy(qh_bytes, &qh, 4); // little-endian, as the file stores it
}

void quantize_q5_0(const float *x, BlockQ5_0 *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; ++i, x += 32) {
        // as Q4_0: the element of largest magnitude, with its sign, maps to -16
        const float d = signed_extreme(x, 32) / -16.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        uint8_t q[32];
        for (int j = 0; j < 32; ++j) q[j] = static_cast<uint8_t>(std::min(31, static_cast<int>(static_cast<int8_t>(x[j] * id + 16.5f))));
        pack_5bit(q, y[i].qs, y[i].qh);
    }
}

void dequantize_q5_0(const BlockQ5_0 *x, float *y, uint64_t nb) {
    int q[32];
    for (uint64_t i = 0; i < nb; ++i, y += 32) {
        const float d = fp16_to_fp32(x[i].d);
        unpack_q5_levels(x[i].qs, x[i].qh, q);
        for (int j = 0; j < 32; ++j) y[j] = d * (q[j] - 16);
    }
}

void quantize_q5_1(const float *x, BlockQ5_1 *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; ++i, x += 32) {
        float min = x[0], max = x[0];
        for (int j = 1; j < 32; ++j) {
            min = std::min(min, x[j]);
            max = std::max(max, x[j]);
        }
        const float d = (max - min) / 31.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        y[i].m = fp32_to_fp16(min);
        uint8_t q[32];
        for (int j = 0; j < 32; ++j) q[j] = static_cast<uint8_t>((x[j] - min) * id + 0.5f); // truncation, as ggml's reference
        pack_5bit(q, y[i].qs, y[i].qh);
    }
}

void dequantize_q5_1(const BlockQ5_1 *x, float *y, uint64_t nb) {
    int q[32];
    for (uint64_t i = 0; i < nb; ++i, y += 32) {
        const float d = fp16_to_fp32(x[i].d), m = fp16_to_fp32(x[i].m);
        unpack_q5_levels(x[i].qs, x[i].qh, q);
        for (int j = 0; j < 32; ++j) y[j] = d * q[j] + m;
    }
}

Status check_row(uint32_t type, uint64_t n, const TypeLayout **layout) {
    *layout = find_type_layout(type);
    if (*layout == nullptr || !can_encode_type(type)) {
        return Status::error(LMRT_E_GGUF_UNSUPPORTED, "lmrt cannot encode or decode tensor type %s",
                             *layout ? (*layout)->name : "(unknown)");
    }
    if (n % (*layout)->block_size != 0) {
        return Status::error(LMRT_E_INVALID_ARGUMENT,
                             "%llu elements are not a whole number of %s blocks of %u",
                             static_cast<unsigned long long>(n), (*layout)->name, (*layout)->block_size);
    }
    return Status::ok();
}

} // namespace

bool can_encode_type(uint32_t type) {
    switch (type) {
    case LMRT_TYPE_F32:
    case LMRT_TYPE_F16:
    case LMRT_TYPE_BF16:
    case LMRT_TYPE_Q8_0:
    case LMRT_TYPE_Q4_0:
    case LMRT_TYPE_Q5_0:
    case LMRT_TYPE_Q5_1:
    case LMRT_TYPE_Q4_K:
    case LMRT_TYPE_Q5_K:
    case LMRT_TYPE_Q6_K: return true;
    default: return false;
    }
}

Status quantize_row(uint32_t type, const float *src, void *dst, uint64_t n) {
    const TypeLayout *layout;
    LMRT_RETURN_IF_ERROR(check_row(type, n, &layout));
    if (layout->block_size > 1) {
        // block scales cannot represent NaN/inf, and converting them to int is undefined
        for (uint64_t i = 0; i < n; ++i) {
            if (!std::isfinite(src[i])) {
                return Status::error(LMRT_E_INVALID_ARGUMENT,
                                     "value %llu is %s, which %s cannot encode",
                                     static_cast<unsigned long long>(i), std::isnan(src[i]) ? "NaN" : "infinite",
                                     layout->name);
            }
        }
    }
    const uint64_t nb = n / layout->block_size;
    switch (type) {
    case LMRT_TYPE_F32: std::memcpy(dst, src, n * sizeof(float)); break;
    case LMRT_TYPE_F16: {
        auto *out = static_cast<uint16_t *>(dst);
        for (uint64_t i = 0; i < n; ++i) out[i] = fp32_to_fp16(src[i]);
        break;
    }
    case LMRT_TYPE_BF16: {
        auto *out = static_cast<uint16_t *>(dst);
        for (uint64_t i = 0; i < n; ++i) out[i] = fp32_to_bf16(src[i]);
        break;
    }
    case LMRT_TYPE_Q8_0: quantize_q8_0(src, static_cast<BlockQ8_0 *>(dst), nb); break;
    case LMRT_TYPE_Q4_0: quantize_q4_0(src, static_cast<BlockQ4_0 *>(dst), nb); break;
    case LMRT_TYPE_Q5_0: quantize_q5_0(src, static_cast<BlockQ5_0 *>(dst), nb); break;
    case LMRT_TYPE_Q5_1: quantize_q5_1(src, static_cast<BlockQ5_1 *>(dst), nb); break;
    case LMRT_TYPE_Q4_K: quantize_q4_k(src, static_cast<BlockQ4_K *>(dst), nb); break;
    case LMRT_TYPE_Q5_K: quantize_q5_k(src, static_cast<BlockQ5_K *>(dst), nb); break;
    case LMRT_TYPE_Q6_K: quantize_q6_k(src, static_cast<BlockQ6_K *>(dst), nb); break;
    default: return Status::error(LMRT_E_INTERNAL, "quantize_row: unhandled type %u", type);
    }
    return Status::ok();
}

Status dequantize_row(uint32_t type, const void *src, float *dst, uint64_t n) {
    const TypeLayout *layout;
    LMRT_RETURN_IF_ERROR(check_row(type, n, &layout));
    const uint64_t nb = n / layout->block_size;
    switch (type) {
    case LMRT_TYPE_F32: std::memcpy(dst, src, n * sizeof(float)); break;
    case LMRT_TYPE_F16: {
        const auto *in = static_cast<const uint16_t *>(src);
        for (uint64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(in[i]);
        break;
    }
    case LMRT_TYPE_BF16: {
        const auto *in = static_cast<const uint16_t *>(src);
        for (uint64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(in[i]);
        break;
    }
    case LMRT_TYPE_Q8_0: dequantize_q8_0(static_cast<const BlockQ8_0 *>(src), dst, nb); break;
    case LMRT_TYPE_Q4_0: dequantize_q4_0(static_cast<const BlockQ4_0 *>(src), dst, nb); break;
    case LMRT_TYPE_Q5_0: dequantize_q5_0(static_cast<const BlockQ5_0 *>(src), dst, nb); break;
    case LMRT_TYPE_Q5_1: dequantize_q5_1(static_cast<const BlockQ5_1 *>(src), dst, nb); break;
    case LMRT_TYPE_Q4_K: dequantize_q4_k(static_cast<const BlockQ4_K *>(src), dst, nb); break;
    case LMRT_TYPE_Q5_K: dequantize_q5_k(static_cast<const BlockQ5_K *>(src), dst, nb); break;
    case LMRT_TYPE_Q6_K: dequantize_q6_k(static_cast<const BlockQ6_K *>(src), dst, nb); break;
    default: return Status::error(LMRT_E_INTERNAL, "dequantize_row: unhandled type %u", type);
    }
    return Status::ok();
}

} // namespace lmrt
