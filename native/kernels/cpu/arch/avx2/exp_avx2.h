// Vector e^x with the numerics of ggml's AVX2 CPU backend, so softmax and
// SiLU round exactly as llama.cpp's do (libm's expf differs from it by up to
// ~1.5 ulp, enough to flip a later f16 or Q8_0 rounding).
//
// The method: x = n*ln2 + b with n = round(x/ln2) (found by adding 1.5*2^23),
// ln2 split in a high and a low part; e^b by a degree-5 polynomial; 2^n put
// straight into the exponent bits. When |n| > 126 the scale is applied in
// two factors so that results near the float range's ends neither overflow
// nor lose the subnormals early; |n| > 192 saturates to 0 or +inf.
#pragma once

#include <immintrin.h>

#include <cmath>

#include "avx2.h"

namespace lmrt::kernels::avx2 {

LMRT_AVX2 inline __m256 exp8(__m256 x) {
    const __m256 shifter = _mm256_set1_ps(0x1.8p23f);
    const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), shifter); // x/ln2 + shifter
    const __m256 n = _mm256_sub_ps(z, shifter);
    const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f), _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    const __m256i exponent = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
    const __m256 scale = _mm256_castsi256_ps(_mm256_add_epi32(exponent, _mm256_castps_si256(_mm256_set1_ps(1.0f))));
    const __m256 abs_n = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), n);
    const __m256 big = _mm256_cmp_ps(abs_n, _mm256_set1_ps(126.0f), _CMP_GT_OQ);
    const __m256 b2 = _mm256_mul_ps(b, b);
    const __m256 hi = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), b2,
                                      _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f)));
    const __m256 poly = _mm256_fmadd_ps(hi, b2, _mm256_mul_ps(_mm256_set1_ps(0x1.ffffecp-1f), b)); // e^b - 1
    const __m256 common = _mm256_fmadd_ps(poly, scale, scale);
    if (_mm256_movemask_ps(big) == 0) return common;
    // |n| > 126: 2^n = s1 * s2 with s1 = 2^±127 (sign of n), s2 the rest
    const __m256i neg_bias = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                                              _mm256_set1_epi32(static_cast<int>(0x82000000u)));
    const __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(neg_bias, _mm256_set1_epi32(0x7f000000)));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(exponent, neg_bias));
    const __m256 huge = _mm256_cmp_ps(abs_n, _mm256_set1_ps(192.0f), _CMP_GT_OQ);
    const __m256 scaled = _mm256_mul_ps(_mm256_fmadd_ps(s2, poly, s2), s1);
    const __m256 finite = _mm256_or_ps(_mm256_and_ps(big, scaled), _mm256_andnot_ps(big, common));
    return _mm256_or_ps(_mm256_and_ps(huge, _mm256_mul_ps(s1, s1)), _mm256_andnot_ps(huge, finite));
}

// Softmax as llama.cpp's CPU backend computes it: scores[p - first] (for
// positions first..last) becomes e^(score - max), computed over chunks of 8
// positions counted from position 0 (positions outside [first, last] count as
// masked: -inf, which exp8 maps to 0), each chunk's sum added into a double.
// Returns 1 / the sum.
LMRT_AVX2 inline float softmax_numerators(float *scores, int first, int last, float max) {
    double sum = 0;
    const __m256 vmax = _mm256_set1_ps(max);
    for (int c = first & ~7; c <= last; c += 8) {
        if (c >= first && c + 7 <= last) {
            // a whole chunk: the same lanes, loaded and stored at once
            const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(scores + (c - first)), vmax));
            _mm256_storeu_ps(scores + (c - first), e);
            sum += static_cast<double>(hsum8(e));
            continue;
        }
        alignas(32) float lanes[8];
        for (int i = 0; i < 8; ++i) {
            const int p = c + i;
            lanes[i] = p >= first && p <= last ? scores[p - first] - max : -INFINITY;
        }
        const __m256 e = exp8(_mm256_load_ps(lanes));
        _mm256_store_ps(lanes, e);
        for (int i = 0; i < 8; ++i) {
            const int p = c + i;
            if (p >= first && p <= last) scores[p - first] = lanes[i];
        }
        sum += static_cast<double>(hsum8(e));
    }
    return static_cast<float>(1.0 / sum);
}

} // namespace lmrt::kernels::avx2
