// AVX-512 attention for one query row over block-stored f16 K/V (other KV
// types take the AVX2 kernel), with the
// AVX2 kernel's rounding and order (see attention_avx2.cpp): K·q for two
// positions at once, one 8-lane accumulator per half; the V sum and its
// fold 16 head elements at a time, each element summed as before.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "../../../../core/half.h"
#include "../avx2/avx2.h"
#include "../avx2/exp_avx2.h"
#include "avx512.h"

namespace lmrt::kernels::avx512 {
namespace {

LMRT_AVX512 inline __m512 load_f16x16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p))); }
LMRT_AVX512 inline __m512 load_f16_pair(const uint16_t *a, const uint16_t *b) {
    return _mm512_cvtph_ps(_mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i *>(b)), _mm_loadu_si128(reinterpret_cast<const __m128i *>(a))));
}

// q·k0 and q·k1, each summed like the AVX2 kernel's single one.
LMRT_AVX512 void dot_q_k_pair(const float *q, const uint16_t *k0, const uint16_t *k1, int D, float out[2]) {
    __m512 acc = _mm512_setzero_ps();
    int e = 0;
    for (; e + 8 <= D; e += 8) {
        const __m256 q8 = _mm256_load_ps(q + e);
        acc = _mm512_fmadd_ps(join_ps(q8, q8), load_f16_pair(k0 + e, k1 + e), acc);
    }
    float d0 = avx2::hsum8(_mm512_castps512_ps256(acc));
    float d1 = avx2::hsum8(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
    for (; e < D; ++e) {
        d0 += q[e] * avx2::half_to_float(k0[e]);
        d1 += q[e] * avx2::half_to_float(k1[e]);
    }
    out[0] = d0;
    out[1] = d1;
}

LMRT_AVX512 inline __mmask16 tail_mask(int n) { return static_cast<__mmask16>((1u << n) - 1); }

} // namespace

LMRT_AVX512 void attention(const AttentionArgs &a) {
    // bf16 and q8_0 caches: the AVX2 kernel (this one's order is the f16 one)
    if (a.kv_type != KvType::kF16) {
        avx2::attention(a);
        return;
    }
    const int group = a.n_head / a.n_head_kv;
    const int D = a.head_dim;
    float *scores = a.scratch;
    alignas(64) float q[512];
    alignas(64) float acc[8 * 512];
    for (int h = a.head_begin; h < a.head_end; ++h) {
        const int kvh = h / group;
        const float *qh = a.q + static_cast<size_t>(h) * D;
        const auto at = [&](const uint8_t *const *blocks, int p) { return reinterpret_cast<const uint16_t *>(a.row(blocks, p, kvh)); };
        // the query rounded to f16, as ggml multiplies it with f16 K
        for (int d = 0; d < D; d += 16) {
            const __mmask16 m = tail_mask(std::min(16, D - d));
            const __m256i half = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, qh + d), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            _mm512_store_ps(q + d, _mm512_cvtph_ps(half));
        }

        float max = -INFINITY;
        for (int p = a.first; p <= a.last; p += 2) {
            const int p1 = std::min(p + 1, a.last); // an odd last position pairs with itself
            float dots[2];
            dot_q_k_pair(q, at(a.k_blocks, p), at(a.k_blocks, p1), D, dots);
            for (int i = 0; i < 2 && p + i <= a.last; ++i) {
                scores[p + i - a.first] = dots[i] * a.scale;
                max = std::max(max, dots[i] * a.scale);
            }
        }
        const float inv = avx2::softmax_numerators(scores, a.first, a.last, max);

        // lanes by position mod 8, as the AVX2 kernel (and ggml's GEMM) sums them
        for (int i = 0; i < 8 * D; i += 16) _mm512_store_ps(acc + i, _mm512_setzero_ps());
        for (int p = a.first; p <= a.last; ++p) {
            // the probability rounded to f16, as ggml multiplies it with f16 V
            const __m512 w = _mm512_set1_ps(avx2::half_to_float(fp32_to_fp16(scores[p - a.first] * inv)));
            const uint16_t *v = at(a.v_blocks, p);
            float *lane = acc + static_cast<size_t>(p & 7) * D;
            int e = 0;
            for (; e + 16 <= D; e += 16) _mm512_storeu_ps(lane + e, _mm512_fmadd_ps(w, load_f16x16(v + e), _mm512_loadu_ps(lane + e)));
            if (e < D) {
                const __mmask16 m = tail_mask(D - e);
                const __m512 vt = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, v + e));
                _mm512_mask_storeu_ps(lane + e, m, _mm512_fmadd_ps(w, vt, _mm512_maskz_loadu_ps(m, lane + e)));
            }
        }
        float *out = a.out + static_cast<size_t>(h) * D;
        for (int e = 0; e < D; e += 16) {
            const __mmask16 m = tail_mask(std::min(16, D - e));
            __m512 l[8];
            for (int j = 0; j < 8; ++j) l[j] = _mm512_maskz_loadu_ps(m, acc + static_cast<size_t>(j) * D + e);
            const __m512 u0 = _mm512_add_ps(_mm512_add_ps(l[0], l[4]), _mm512_add_ps(l[2], l[6]));
            const __m512 u1 = _mm512_add_ps(_mm512_add_ps(l[1], l[5]), _mm512_add_ps(l[3], l[7]));
            _mm512_mask_storeu_ps(out + e, m, _mm512_add_ps(u0, u1));
        }
    }
}

} // namespace lmrt::kernels::avx512
