// Scalar reference encoders and decoders for the block layouts in quant.h.
// Q8_0 and Q4_0 follow ggml's reference rounding exactly, so re-encoding a
// float model reproduces llama.cpp's files byte for byte. The K-quant
// encoders use a simple min/max fit per sub-block: valid blocks of exactly
// GGUF's layout (optimal scale search is a quality matter, not a format one).
#include "quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ggml_types.h"
#include "half.h"

namespace lmrt {

namespace {

int nearest_int(float x) { return static_cast<int>(std::lrintf(x)); }

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

void quantize_q4_0(const float *x, BlockQ4_0 *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; ++i, x += kQK4_0) {
        // the element of largest magnitude, with its sign, maps to -8
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < kQK4_0; ++j) {
            if (amax < std::fabs(x[j])) {
                amax = std::fabs(x[j]);
                max = x[j];
            }
        }
        const float d = max / -8.0f;
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

// Fits 8 sub-blocks of 32 with x ~ d*ls[j]*q - dmin*lm[j], q in [0, nmax],
// and returns the integer levels in L[256]. Shared by Q4_K and Q5_K.
void fit_k_with_min(const float *x, int nmax, uint16_t *d_out, uint16_t *dmin_out,
                    uint8_t scales[12], uint8_t L[kQK_K]) {
    float sub_scale[8], sub_min[8];
    for (int j = 0; j < 8; ++j) {
        const float *xs = x + 32 * j;
        float mn = 0.0f, mx = xs[0];
        for (int l = 0; l < 32; ++l) {
            mn = std::min(mn, xs[l]);
            mx = std::max(mx, xs[l]);
        }
        sub_scale[j] = (mx - mn) / nmax;
        sub_min[j] = -mn;
    }
    const float max_scale = *std::max_element(sub_scale, sub_scale + 8);
    const float max_min = *std::max_element(sub_min, sub_min + 8);
    const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
        ls[j] = static_cast<uint8_t>(std::min(63, nearest_int(inv_scale * sub_scale[j])));
        lm[j] = static_cast<uint8_t>(std::min(63, nearest_int(inv_min * sub_min[j])));
    }
    std::memset(scales, 0, 12);
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            scales[j] = ls[j];
            scales[j + 4] = lm[j];
        } else {
            scales[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            scales[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
            scales[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
        }
    }
    *d_out = fp32_to_fp16(max_scale / 63.0f);
    *dmin_out = fp32_to_fp16(max_min / 63.0f);
    const float d = fp16_to_fp32(*d_out);
    const float dmin = fp16_to_fp32(*dmin_out);
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        unpack_scale_min_k4(j, scales, &sc, &m);
        const float dj = d * sc;
        const float mj = dmin * m;
        for (int l = 0; l < 32; ++l) {
            const int q = dj != 0.0f ? nearest_int((x[32 * j + l] + mj) / dj) : 0;
            L[32 * j + l] = static_cast<uint8_t>(std::max(0, std::min(nmax, q)));
        }
    }
}

void quantize_q4_k(const float *x, BlockQ4_K *y, uint64_t nb) {
    uint8_t L[kQK_K];
    for (uint64_t i = 0; i < nb; ++i, x += kQK_K) {
        fit_k_with_min(x, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) {
                y[i].qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
            }
        }
    }
}

void dequantize_q4_k(const BlockQ4_K *x, float *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        const float dmin = fp16_to_fp32(x[i].dmin);
        const uint8_t *q = x[i].qs;
        for (int c = 0; c < 4; ++c, q += 32) {
            uint8_t sc, m;
            unpack_scale_min_k4(2 * c, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            unpack_scale_min_k4(2 * c + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

void quantize_q5_k(const float *x, BlockQ5_K *y, uint64_t nb) {
    uint8_t L[kQK_K];
    for (uint64_t i = 0; i < nb; ++i, x += kQK_K) {
        fit_k_with_min(x, 31, &y[i].d, &y[i].dmin, y[i].scales, L);
        std::memset(y[i].qh, 0, sizeof y[i].qh);
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t lo = L[64 * c + l], hi = L[64 * c + 32 + l];
                y[i].qs[32 * c + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
                y[i].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
        }
    }
}

void dequantize_q5_k(const BlockQ5_K *x, float *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        const float dmin = fp16_to_fp32(x[i].dmin);
        const uint8_t *ql = x[i].qs;
        for (int c = 0; c < 4; ++c, ql += 32) {
            uint8_t sc, m;
            unpack_scale_min_k4(2 * c, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            unpack_scale_min_k4(2 * c + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            const uint8_t u1 = static_cast<uint8_t>(1u << (2 * c)), u2 = static_cast<uint8_t>(2u << (2 * c));
            for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + ((x[i].qh[l] & u1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + ((x[i].qh[l] & u2) ? 16 : 0)) - m2;
        }
    }
}

void quantize_q6_k(const float *x, BlockQ6_K *y, uint64_t nb) {
    int8_t L[kQK_K];
    for (uint64_t i = 0; i < nb; ++i, x += kQK_K) {
        // per sub-block of 16: the signed extreme maps to -32
        float sub_scale[16];
        float max_scale = 0.0f, amax_scale = 0.0f;
        for (int j = 0; j < 16; ++j) {
            float amax = 0.0f, max = 0.0f;
            for (int l = 0; l < 16; ++l) {
                const float v = x[16 * j + l];
                if (amax < std::fabs(v)) {
                    amax = std::fabs(v);
                    max = v;
                }
            }
            sub_scale[j] = max / -32.0f;
            if (amax_scale < std::fabs(sub_scale[j])) {
                amax_scale = std::fabs(sub_scale[j]);
                max_scale = sub_scale[j];
            }
        }
        const float iscale = max_scale != 0.0f ? -128.0f / max_scale : 0.0f;
        y[i].d = fp32_to_fp16(iscale != 0.0f ? 1.0f / iscale : 0.0f);
        const float d = fp16_to_fp32(y[i].d);
        for (int j = 0; j < 16; ++j) {
            y[i].scales[j] = static_cast<int8_t>(std::max(-128, std::min(127, nearest_int(iscale * sub_scale[j]))));
            const float dj = d * y[i].scales[j];
            for (int l = 0; l < 16; ++l) {
                const int q = dj != 0.0f ? nearest_int(x[16 * j + l] / dj) : 0;
                L[16 * j + l] = static_cast<int8_t>(std::max(-32, std::min(31, q)));
            }
        }
        for (int h = 0; h < 2; ++h) {
            const int8_t *Lh = L + 128 * h;
            uint8_t *ql = y[i].ql + 64 * h;
            uint8_t *qh = y[i].qh + 32 * h;
            for (int l = 0; l < 32; ++l) {
                const int q1 = Lh[l] + 32, q2 = Lh[l + 32] + 32, q3 = Lh[l + 64] + 32, q4 = Lh[l + 96] + 32;
                ql[l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
                ql[l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
                qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
    }
}

void dequantize_q6_k(const BlockQ6_K *x, float *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        for (int h = 0; h < 2; ++h, y += 128) {
            const uint8_t *ql = x[i].ql + 64 * h;
            const uint8_t *qh = x[i].qh + 32 * h;
            const int8_t *sc = x[i].scales + 8 * h;
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
        }
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
    case LMRT_TYPE_Q4_K: dequantize_q4_k(static_cast<const BlockQ4_K *>(src), dst, nb); break;
    case LMRT_TYPE_Q5_K: dequantize_q5_k(static_cast<const BlockQ5_K *>(src), dst, nb); break;
    case LMRT_TYPE_Q6_K: dequantize_q6_k(static_cast<const BlockQ6_K *>(src), dst, nb); break;
    default: return Status::error(LMRT_E_INTERNAL, "dequantize_row: unhandled type %u", type);
    }
    return Status::ok();
}

} // namespace lmrt
