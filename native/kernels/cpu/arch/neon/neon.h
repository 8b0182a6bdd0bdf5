// ARM NEON (Advanced SIMD, baseline on AArch64) variants, built only for
// AArch64 targets: plain NEON needs no run-time check beyond the
// architecture; the dot product extension's kernels run only where
// cpu_features().neon_dotprod says the CPU has it.
#pragma once

#include <arm_neon.h>

#include "../../../ops.h"

namespace lmrt::kernels::neon {

// A Q4_0 block's 32 values as signed bytes: 0..15 the low nibbles, 16..31
// the high ones, each stored with an offset of 8.
inline void q4_0_values(const uint8_t qs[16], int8x16_t *lo, int8x16_t *hi) {
    const uint8x16_t q = vld1q_u8(qs);
    *lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F))), vdupq_n_s8(8));
    *hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), vdupq_n_s8(8));
}

// The types with NEON dot products; nullptr for the others (the registry
// then uses the reference's).
const MatKernels *mat_kernels(uint32_t weight_type);

// The types with dot products through SDOT (call only when
// cpu_features().neon_dotprod); nullptr for the others. Every result is
// bit-identical to mat_kernels(): the blocks' integer sums are exact either way.
const MatKernels *dotprod_mat_kernels(uint32_t weight_type);

} // namespace lmrt::kernels::neon
