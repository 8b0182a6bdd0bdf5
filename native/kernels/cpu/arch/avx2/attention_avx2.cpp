// AVX2 attention for one query row over block-stored f16 K/V.
#include <immintrin.h>

#include <cmath>

#include "../../../../core/half.h"
#include "avx2.h"

namespace lmrt::kernels::avx2 {

LMRT_AVX2 void attention(const AttentionArgs &a) {
    const int group = a.n_head / a.n_head_kv;
    const int n = a.last - a.first + 1;
    const int D = a.head_dim;
    float *scores = a.scratch;
    alignas(32) float q[512];
    for (int h = a.head_begin; h < a.head_end; ++h) {
        const int kvh = h / group;
        const float *qh = a.q + static_cast<size_t>(h) * D;
        // the query rounded to f16, as ggml multiplies it with f16 K
        int d = 0;
        for (; d + 8 <= D; d += 8) {
            _mm256_store_ps(q + d, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(qh + d), _MM_FROUND_TO_NEAREST_INT)));
        }
        for (; d < D; ++d) q[d] = fp16_to_fp32(fp32_to_fp16(qh[d]));

        float max = -INFINITY;
        for (int p = a.first; p <= a.last; ++p) {
            const uint16_t *k = a.k_blocks[p / a.block_size] + (static_cast<size_t>(p % a.block_size) * a.n_head_kv + kvh) * D;
            __m256 acc = _mm256_setzero_ps();
            int e = 0;
            for (; e + 8 <= D; e += 8) {
                acc = _mm256_fmadd_ps(_mm256_load_ps(q + e),
                                      _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(k + e))), acc);
            }
            __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
            s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            s = _mm_add_ss(s, _mm_movehdup_ps(s));
            float dot = _mm_cvtss_f32(s);
            for (; e < D; ++e) dot += q[e] * fp16_to_fp32(k[e]);
            const float v = dot * a.scale;
            scores[p - a.first] = v;
            max = std::max(max, v);
        }
        double sum = 0;
        for (int i = 0; i < n; ++i) {
            scores[i] = std::exp(scores[i] - max);
            sum += scores[i];
        }
        const float inv = static_cast<float>(1.0 / sum);

        float *out = a.out + static_cast<size_t>(h) * D;
        for (int e = 0; e < D; ++e) out[e] = 0.0f;
        for (int p = a.first; p <= a.last; ++p) {
            // probabilities rounded to f16, as ggml multiplies them with f16 V
            const float w = fp16_to_fp32(fp32_to_fp16(scores[p - a.first] * inv));
            const uint16_t *v = a.v_blocks[p / a.block_size] + (static_cast<size_t>(p % a.block_size) * a.n_head_kv + kvh) * D;
            const __m256 wv = _mm256_set1_ps(w);
            int e = 0;
            for (; e + 8 <= D; e += 8) {
                _mm256_storeu_ps(out + e, _mm256_fmadd_ps(wv, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(v + e))),
                                                          _mm256_loadu_ps(out + e)));
            }
            for (; e < D; ++e) out[e] += w * fp16_to_fp32(v[e]);
        }
    }
}

} // namespace lmrt::kernels::avx2
