// AVX2 + FMA + F16C variants: call only when cpu_features().avx2.
//
// Each function carries the target attribute instead of the files being
// compiled with -mavx2: inline functions and templates shared with
// baseline code then stay baseline wherever the linker keeps one copy.
#pragma once

#include <immintrin.h>

#include "../../../ops.h"

#define LMRT_AVX2 __attribute__((target("avx2,fma,f16c")))

// Small loops over accumulators unrolled whole: GCC otherwise keeps the
// arrays in memory, a store and a load in every step.
#define LMRT_UNROLL _Pragma("GCC unroll 8")

namespace lmrt::kernels::avx2 {

const MatKernels *mat_kernels(uint32_t weight_type);
void attention(const AttentionArgs &a);
void gemm_q4_0(int64_t n, const uint8_t *w, size_t row_bytes, int64_t O, const PackedQ8Group *packed, int64_t T, float *y,
               int64_t y_stride);

// Products over interleaved weights (MatKernels::gemm_interleaved).
void gemm_interleaved_q4_0(int64_t n, const uint8_t *w, int64_t groups, const uint8_t *act, size_t act_bytes, const Q8BlockInfo *info,
                           int64_t T, const RowOrder *orders, float *y, int64_t y_stride);
void gemm_interleaved_q8_0(int64_t n, const uint8_t *w, int64_t groups, const uint8_t *act, size_t act_bytes, const Q8BlockInfo *info,
                           int64_t T, const RowOrder *orders, float *y, int64_t y_stride);
void gemm_interleaved_q4_k(int64_t n, const uint8_t *w, int64_t groups, const uint8_t *act, size_t act_bytes, const Q8BlockInfo *info,
                           int64_t T, const RowOrder *orders, float *y, int64_t y_stride);
void gemm_interleaved_q5_k(int64_t n, const uint8_t *w, int64_t groups, const uint8_t *act, size_t act_bytes, const Q8BlockInfo *info,
                           int64_t T, const RowOrder *orders, float *y, int64_t y_stride);
void gemm_interleaved_q6_k(int64_t n, const uint8_t *w, int64_t groups, const uint8_t *act, size_t act_bytes, const Q8BlockInfo *info,
                           int64_t T, const RowOrder *orders, float *y, int64_t y_stride);

// Hides a value's origin from the optimiser: GCC would otherwise turn
// running integer sums into trees of all the products at once and run out
// of registers (then the products live on the stack). Pass a named value,
// not an array element: GCC keeps an element that an asm touches in memory.
LMRT_AVX2 inline void opaque(__m256i &v) { asm("" : "+x"(v)); }

// A half's value with F16C: exact, as fp16_to_fp32, in one instruction.
LMRT_AVX2 inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// Horizontal sum in ggml's order: (x0+x4 + x2+x6) + (x1+x5 + x3+x7).
LMRT_AVX2 inline float hsum8(__m256 x) {
    __m128 s = _mm_add_ps(_mm256_extractf128_ps(x, 1), _mm256_castps256_ps128(x));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
void swiglu(const float *gate, const float *up, float *y, int64_t n);

} // namespace lmrt::kernels::avx2
