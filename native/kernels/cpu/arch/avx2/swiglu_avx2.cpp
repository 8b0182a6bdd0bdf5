// AVX2 SwiGLU: silu(gate) * up with ggml's vector exp over 8-element chunks
// from the row's start and libm's expf for the tail, as llama.cpp computes it.
#include <immintrin.h>

#include <cmath>

#include "avx2.h"
#include "exp_avx2.h"

namespace lmrt::kernels::avx2 {

LMRT_AVX2 void swiglu(const float *gate, const float *up, float *y, int64_t n) {
    int64_t i = 0;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), g))));
        _mm256_storeu_ps(y + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    for (; i < n; ++i) y[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

} // namespace lmrt::kernels::avx2
