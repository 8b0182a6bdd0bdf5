// Reference dot products: weights and activations decoded to float, then
// multiplied and summed in double. Mathematically equal to ggml's integer
// formulas for the same encoded operands.
#include <cmath>
#include <cstring>
#include <vector>

#include "../../core/half.h"
#include "../../core/quant.h"
#include "ref.h"

namespace lmrt::kernels {

ActType act_type_for(uint32_t weight_type) {
    switch (weight_type) {
    case LMRT_TYPE_F16: return ActType::kF16;
    case LMRT_TYPE_BF16: return ActType::kBF16;
    case LMRT_TYPE_Q8_0:
    case LMRT_TYPE_Q4_0:
    case LMRT_TYPE_Q5_0: return ActType::kQ8_0;
    case LMRT_TYPE_Q5_1: return ActType::kQ8_1;
    case LMRT_TYPE_Q4_K:
    case LMRT_TYPE_Q5_K:
    case LMRT_TYPE_Q6_K: return ActType::kQ8_K;
    default: return ActType::kF32;
    }
}

size_t act_row_bytes(ActType act, int64_t n) {
    switch (act) {
    case ActType::kF32: return static_cast<size_t>(n) * 4;
    case ActType::kF16:
    case ActType::kBF16: return static_cast<size_t>(n) * 2;
    case ActType::kQ8_0: return static_cast<size_t>(n / 32) * sizeof(BlockQ8_0);
    case ActType::kQ8_1: return static_cast<size_t>(n / 32) * sizeof(BlockQ8_1);
    case ActType::kQ8_K: return static_cast<size_t>(n / 256) * sizeof(BlockQ8_K);
    }
    return 0;
}

namespace ref {

namespace {

void quantize_f32(const float *x, void *dst, int64_t n) { std::memcpy(dst, x, static_cast<size_t>(n) * 4); }

void quantize_f16(const float *x, void *dst, int64_t n) {
    auto *out = static_cast<uint16_t *>(dst);
    for (int64_t i = 0; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
}

void quantize_bf16(const float *x, void *dst, int64_t n) {
    auto *out = static_cast<uint16_t *>(dst);
    for (int64_t i = 0; i < n; ++i) out[i] = fp32_to_bf16(x[i]);
}

// Q8_0 activations as ggml's CPU backend encodes them (its SIMD encoder, not
// the file-format reference): scale = amax / 127 stored as f16, values
// multiplied by 127 / amax and rounded half to even. Non-finite inputs give
// non-finite scales.
void quantize_q8_0(const float *x, void *dst, int64_t n) {
    auto *y = static_cast<BlockQ8_0 *>(dst);
    for (int64_t b = 0; b < n / 32; ++b, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
        y[b].d = fp32_to_fp16(amax / 127.0f);
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        for (int j = 0; j < 32; ++j) {
            const float v = x[j] * id;
            y[b].qs[j] = std::isfinite(v) ? static_cast<int8_t>(std::nearbyint(v)) : 0;
        }
    }
}

// Q8_1 likewise, with s = d * sum(qs) rounded to f16.
void quantize_q8_1(const float *x, void *dst, int64_t n) {
    auto *y = static_cast<BlockQ8_1 *>(dst);
    for (int64_t b = 0; b < n / 32; ++b, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
        const float d = amax / 127.0f;
        y[b].d = fp32_to_fp16(d);
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; ++j) {
            const float v = x[j] * id;
            y[b].qs[j] = std::isfinite(v) ? static_cast<int8_t>(std::nearbyint(v)) : 0;
            sum += y[b].qs[j];
        }
        y[b].s = fp32_to_fp16(d * static_cast<float>(sum));
    }
}

void quantize_q8_k(const float *x, void *dst, int64_t n) {
    auto *y = static_cast<BlockQ8_K *>(dst);
    for (int64_t b = 0; b < n / 256; ++b, x += 256) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 256; ++j) {
            if (std::fabs(x[j]) > amax) {
                amax = std::fabs(x[j]);
                max = x[j];
            }
        }
        if (amax == 0.0f || !std::isfinite(amax)) {
            y[b].d = amax == 0.0f ? 0.0f : NAN;
            std::memset(y[b].qs, 0, sizeof y[b].qs);
            std::memset(y[b].bsums, 0, sizeof y[b].bsums);
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < 256; ++j) {
            const long v = std::lrintf(iscale * x[j]); // round half to even, as ggml
            y[b].qs[j] = static_cast<int8_t>(std::min(127L, std::max(-128L, v)));
        }
        for (int g = 0; g < 16; ++g) {
            int sum = 0;
            for (int k = 0; k < 16; ++k) sum += y[b].qs[16 * g + k];
            y[b].bsums[g] = static_cast<int16_t>(sum);
        }
        y[b].d = 1.0f / iscale;
    }
}

float dot_f32(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const float *>(w);
    const auto *b = static_cast<const float *>(x);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * b[i];
    return static_cast<float>(sum);
}

float dot_f16(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const uint16_t *>(w);
    const auto *b = static_cast<const uint16_t *>(x);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_fp32(a[i])) * fp16_to_fp32(b[i]);
    return static_cast<float>(sum);
}

float dot_bf16(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const uint16_t *>(w);
    const auto *b = static_cast<const uint16_t *>(x);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(bf16_to_fp32(a[i])) * bf16_to_fp32(b[i]);
    return static_cast<float>(sum);
}

float dot_q8_0(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ8_0 *>(w);
    const auto *b = static_cast<const BlockQ8_0 *>(x);
    double sum = 0;
    for (int64_t k = 0; k < n / 32; ++k) {
        int s = 0;
        for (int j = 0; j < 32; ++j) s += a[k].qs[j] * b[k].qs[j];
        sum += static_cast<double>(fp16_to_fp32(a[k].d)) * fp16_to_fp32(b[k].d) * s;
    }
    return static_cast<float>(sum);
}

float dot_q4_0(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ4_0 *>(w);
    const auto *b = static_cast<const BlockQ8_0 *>(x);
    double sum = 0;
    for (int64_t k = 0; k < n / 32; ++k) {
        int s = 0;
        for (int j = 0; j < 16; ++j) {
            s += ((a[k].qs[j] & 0xF) - 8) * b[k].qs[j];
            s += ((a[k].qs[j] >> 4) - 8) * b[k].qs[j + 16];
        }
        sum += static_cast<double>(fp16_to_fp32(a[k].d)) * fp16_to_fp32(b[k].d) * s;
    }
    return static_cast<float>(sum);
}

// Q5_0 against Q8_0: d_w * d_x * sum((q - 16) * q8), as ggml's integer form.
float dot_q5_0(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ5_0 *>(w);
    const auto *b = static_cast<const BlockQ8_0 *>(x);
    double sum = 0;
    int q[32];
    for (int64_t k = 0; k < n / 32; ++k) {
        unpack_q5_levels(a[k].qs, a[k].qh, q);
        int s = 0;
        for (int j = 0; j < 32; ++j) s += (q[j] - 16) * b[k].qs[j];
        sum += static_cast<double>(fp16_to_fp32(a[k].d)) * fp16_to_fp32(b[k].d) * s;
    }
    return static_cast<float>(sum);
}

// Q5_1 against Q8_1: d_w * d_x * sum(q * q8) + m_w * s_x.
float dot_q5_1(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ5_1 *>(w);
    const auto *b = static_cast<const BlockQ8_1 *>(x);
    double sum = 0;
    int q[32];
    for (int64_t k = 0; k < n / 32; ++k) {
        unpack_q5_levels(a[k].qs, a[k].qh, q);
        int s = 0;
        for (int j = 0; j < 32; ++j) s += q[j] * b[k].qs[j];
        sum += static_cast<double>(fp16_to_fp32(a[k].d)) * fp16_to_fp32(b[k].d) * s +
               static_cast<double>(fp16_to_fp32(a[k].m)) * fp16_to_fp32(b[k].s);
    }
    return static_cast<float>(sum);
}

// K-quants: decode each weight block and the matching Q8_K block to floats.
template <uint32_t Type, size_t BlockBytes> float dot_k(int64_t n, const void *w, const void *x) {
    const auto *wb = static_cast<const uint8_t *>(w);
    const auto *b = static_cast<const BlockQ8_K *>(x);
    float decoded[256];
    double sum = 0;
    for (int64_t k = 0; k < n / 256; ++k) {
        (void)dequantize_row(Type, wb + k * BlockBytes, decoded, 256);
        double block = 0;
        for (int j = 0; j < 256; ++j) block += static_cast<double>(decoded[j]) * b[k].qs[j];
        sum += block * b[k].d;
    }
    return static_cast<float>(sum);
}

const MatKernels kF32{"ref", ActType::kF32, quantize_f32, dot_f32};
const MatKernels kF16{"ref", ActType::kF16, quantize_f16, dot_f16};
const MatKernels kBF16{"ref", ActType::kBF16, quantize_bf16, dot_bf16};
const MatKernels kQ8_0{"ref", ActType::kQ8_0, quantize_q8_0, dot_q8_0};
const MatKernels kQ4_0{"ref", ActType::kQ8_0, quantize_q8_0, dot_q4_0};
const MatKernels kQ5_0{"ref", ActType::kQ8_0, quantize_q8_0, dot_q5_0};
const MatKernels kQ5_1{"ref", ActType::kQ8_1, quantize_q8_1, dot_q5_1};
const MatKernels kQ4_K{"ref", ActType::kQ8_K, quantize_q8_k, dot_k<LMRT_TYPE_Q4_K, sizeof(BlockQ4_K)>};
const MatKernels kQ5_K{"ref", ActType::kQ8_K, quantize_q8_k, dot_k<LMRT_TYPE_Q5_K, sizeof(BlockQ5_K)>};
const MatKernels kQ6_K{"ref", ActType::kQ8_K, quantize_q8_k, dot_k<LMRT_TYPE_Q6_K, sizeof(BlockQ6_K)>};

} // namespace

const MatKernels *mat_kernels(uint32_t weight_type) {
    switch (weight_type) {
    case LMRT_TYPE_F32: return &kF32;
    case LMRT_TYPE_F16: return &kF16;
    case LMRT_TYPE_BF16: return &kBF16;
    case LMRT_TYPE_Q8_0: return &kQ8_0;
    case LMRT_TYPE_Q4_0: return &kQ4_0;
    case LMRT_TYPE_Q5_0: return &kQ5_0;
    case LMRT_TYPE_Q5_1: return &kQ5_1;
    case LMRT_TYPE_Q4_K: return &kQ4_K;
    case LMRT_TYPE_Q5_K: return &kQ5_K;
    case LMRT_TYPE_Q6_K: return &kQ6_K;
    default: return nullptr;
    }
}

} // namespace ref
} // namespace lmrt::kernels
