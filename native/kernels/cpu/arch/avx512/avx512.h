// AVX-512 (F, BW, VL) variants: call only when cpu_features().avx512.
//
// Like the AVX2 ones, each function carries a target attribute rather than
// the files being built with -mavx512f, so shared inline code stays
// baseline. The attribute includes AVX2/FMA/F16C, which every AVX-512 CPU
// has, so these kernels may call the AVX2 helpers.
//
// Results are bit for bit those of the AVX2 variant (which sums in the order
// of llama.cpp's AVX2 build), so a model gives the same tokens on both:
// the wider registers carry two of the AVX2 kernel's independent 8-lane
// accumulators, two blocks' integer sums (exact in any order), or two
// positions' K·q, never a different float order. Where a kernel has a
// single 8-lane chain (the batched float products), the AVX2 one runs.
#pragma once

#include <immintrin.h>

#include "../../../ops.h"

#define LMRT_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

namespace lmrt::kernels::avx512 {

const MatKernels *mat_kernels(uint32_t weight_type);
void attention(const AttentionArgs &a);

// The 256-bit halves lo, hi as one 512-bit register.
LMRT_AVX512 inline __m512i join(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }
LMRT_AVX512 inline __m512 join_ps(__m256 lo, __m256 hi) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)), _mm256_castps_pd(hi), 1));
}

} // namespace lmrt::kernels::avx512
