// NEON dot products for the most common weight types. Integer formats:
// each block's exact integer dot product (widening byte products, pairwise
// added into int32), then one fused multiply-add per block with the two
// scales' product, blocks in order; float formats: four 4-lane
// accumulators. The reference's encoders prepare the activations.
#include <arm_neon.h>

#include <cmath>

#include "../../../../core/half.h"
#include "../../../../core/quant.h"
#include "../../../../include/lmrt.h"
#include "../../../ref/ref.h"
#include "neon.h"

namespace lmrt::kernels::neon {

namespace {

// Sum of the products of 16 signed byte pairs, added into acc's lanes.
inline int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_s8(vget_high_s8(a), vget_high_s8(b)));
}

float dot_q8_0(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ8_0 *>(w);
    const auto *b = static_cast<const BlockQ8_0 *>(x);
    float acc = 0.0f;
    for (int64_t k = 0; k < n / 32; ++k) {
        int32x4_t s = dot16(vdupq_n_s32(0), vld1q_s8(a[k].qs), vld1q_s8(b[k].qs));
        s = dot16(s, vld1q_s8(a[k].qs + 16), vld1q_s8(b[k].qs + 16));
        acc = std::fma(static_cast<float>(vaddvq_s32(s)), fp16_to_fp32(a[k].d) * fp16_to_fp32(b[k].d), acc);
    }
    return acc;
}

float dot_q4_0(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ4_0 *>(w);
    const auto *b = static_cast<const BlockQ8_0 *>(x);
    float acc = 0.0f;
    for (int64_t k = 0; k < n / 32; ++k) {
        int8x16_t lo, hi;
        q4_0_values(a[k].qs, &lo, &hi);
        int32x4_t s = dot16(vdupq_n_s32(0), lo, vld1q_s8(b[k].qs));
        s = dot16(s, hi, vld1q_s8(b[k].qs + 16));
        acc = std::fma(static_cast<float>(vaddvq_s32(s)), fp16_to_fp32(a[k].d) * fp16_to_fp32(b[k].d), acc);
    }
    return acc;
}

inline float32x4_t load4(const float *p) { return vld1q_f32(p); }
inline float32x4_t load4(const uint16_t *p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
inline float scalar(float v) { return v; }
inline float scalar(uint16_t h) { return fp16_to_fp32(h); }

// F32 and F16 rows: four 4-lane accumulators over 16-element steps, then the tail.
template <typename T>
float dot_float(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const T *>(w);
    const auto *b = static_cast<const T *>(x);
    float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int j = 0; j < 4; ++j) acc[j] = vfmaq_f32(acc[j], load4(a + i + 4 * j), load4(b + i + 4 * j));
    }
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
    for (; i < n; ++i) sum += scalar(a[i]) * scalar(b[i]);
    return sum;
}

MatKernels with_reference_encoder(uint32_t type, VecDotFn dot) {
    MatKernels k;
    k.variant = "neon";
    k.act = ref::mat_kernels(type)->act;
    k.quantize = ref::mat_kernels(type)->quantize;
    k.dot = dot;
    return k;
}

} // namespace

const MatKernels *mat_kernels(uint32_t weight_type) {
    static const MatKernels f32 = with_reference_encoder(LMRT_TYPE_F32, dot_float<float>),
                            f16 = with_reference_encoder(LMRT_TYPE_F16, dot_float<uint16_t>),
                            q8_0 = with_reference_encoder(LMRT_TYPE_Q8_0, dot_q8_0),
                            q4_0 = with_reference_encoder(LMRT_TYPE_Q4_0, dot_q4_0);
    switch (weight_type) {
    case LMRT_TYPE_F32: return &f32;
    case LMRT_TYPE_F16: return &f16;
    case LMRT_TYPE_Q8_0: return &q8_0;
    case LMRT_TYPE_Q4_0: return &q4_0;
    default: return nullptr;
    }
}

} // namespace lmrt::kernels::neon
