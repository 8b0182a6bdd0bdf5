// NEON dot products through SDOT (the ARMv8.2 dot product extension): four
// signed byte products summed into each int32 lane per instruction, where
// plain NEON widens and adds pairwise. A block's integer sum is exact either
// way, so every result equals the plain NEON kernel's bit for bit.
//
// Only these functions may use the extension (the file's other code runs on
// any AArch64 CPU): GCC enables it for the region below, clang per function.
#include <arm_neon.h>

#include <cmath>

#include "../../../../core/half.h"
#include "../../../../core/quant.h"
#include "../../../../include/lmrt.h"
#include "neon.h"

#if defined(__clang__)
#define LMRT_DOTPROD __attribute__((target("dotprod")))
#else
#define LMRT_DOTPROD
#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+dotprod")
#endif

namespace lmrt::kernels::neon {

namespace {

LMRT_DOTPROD float dot_q8_0(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ8_0 *>(w);
    const auto *b = static_cast<const BlockQ8_0 *>(x);
    float acc = 0.0f;
    for (int64_t k = 0; k < n / 32; ++k) {
        int32x4_t s = vdotq_s32(vdupq_n_s32(0), vld1q_s8(a[k].qs), vld1q_s8(b[k].qs));
        s = vdotq_s32(s, vld1q_s8(a[k].qs + 16), vld1q_s8(b[k].qs + 16));
        acc = std::fma(static_cast<float>(vaddvq_s32(s)), fp16_to_fp32(a[k].d) * fp16_to_fp32(b[k].d), acc);
    }
    return acc;
}

LMRT_DOTPROD float dot_q4_0(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ4_0 *>(w);
    const auto *b = static_cast<const BlockQ8_0 *>(x);
    float acc = 0.0f;
    for (int64_t k = 0; k < n / 32; ++k) {
        int8x16_t lo, hi;
        q4_0_values(a[k].qs, &lo, &hi);
        int32x4_t s = vdotq_s32(vdupq_n_s32(0), lo, vld1q_s8(b[k].qs));
        s = vdotq_s32(s, hi, vld1q_s8(b[k].qs + 16));
        acc = std::fma(static_cast<float>(vaddvq_s32(s)), fp16_to_fp32(a[k].d) * fp16_to_fp32(b[k].d), acc);
    }
    return acc;
}

} // namespace

} // namespace lmrt::kernels::neon

#if !defined(__clang__)
#pragma GCC pop_options
#endif

namespace lmrt::kernels::neon {

const MatKernels *dotprod_mat_kernels(uint32_t weight_type) {
    const auto with = [](uint32_t type, VecDotFn dot) {
        MatKernels k = *mat_kernels(type);
        k.variant = "neon_dotprod";
        k.dot = dot;
        return k;
    };
    static const MatKernels q8_0 = with(LMRT_TYPE_Q8_0, dot_q8_0), q4_0 = with(LMRT_TYPE_Q4_0, dot_q4_0);
    switch (weight_type) {
    case LMRT_TYPE_Q8_0: return &q8_0;
    case LMRT_TYPE_Q4_0: return &q4_0;
    default: return nullptr;
    }
}

} // namespace lmrt::kernels::neon
