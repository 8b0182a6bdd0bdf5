// AVX2 attention for one query row over block-stored f16 K/V, rounded the
// way llama.cpp's CPU backend rounds it (flash attention off): K·q with the
// query in f16 and one 8-lane accumulator; softmax with ggml's vector exp in
// 8-position chunks counted from position 0, each chunk summed into a double;
// probabilities rounded to f16; the V sum kept in 8 lanes by position mod 8
// and folded in ggml's horizontal-sum order.
#include <immintrin.h>

#include <cmath>

#include "../../../../core/half.h"
#include "avx2.h"
#include "exp_avx2.h"

namespace lmrt::kernels::avx2 {

LMRT_AVX2 void attention(const AttentionArgs &a) {
    const int group = a.n_head / a.n_head_kv;
    const int D = a.head_dim;
    float *scores = a.scratch;
    alignas(32) float q[512];
    alignas(32) float acc[8 * 512];
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
            __m256 kq = _mm256_setzero_ps();
            int e = 0;
            for (; e + 8 <= D; e += 8) {
                kq = _mm256_fmadd_ps(_mm256_load_ps(q + e), _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(k + e))), kq);
            }
            float dot = hsum8(kq);
            for (; e < D; ++e) dot += q[e] * fp16_to_fp32(k[e]);
            const float v = dot * a.scale;
            scores[p - a.first] = v;
            max = std::max(max, v);
        }
        // softmax over chunks of 8 positions aligned to position 0; positions
        // outside [first, last] count as masked (-inf, which exp8 maps to 0)
        double sum = 0;
        const int chunk0 = a.first & ~7;
        for (int c = chunk0; c <= a.last; c += 8) {
            alignas(32) float lanes[8];
            for (int i = 0; i < 8; ++i) {
                const int p = c + i;
                lanes[i] = p >= a.first && p <= a.last ? scores[p - a.first] - max : -INFINITY;
            }
            const __m256 e = exp8(_mm256_load_ps(lanes));
            _mm256_store_ps(lanes, e);
            for (int i = 0; i < 8; ++i) {
                const int p = c + i;
                if (p >= a.first && p <= a.last) scores[p - a.first] = lanes[i];
            }
            sum += static_cast<double>(hsum8(e));
        }
        const float inv = static_cast<float>(1.0 / sum);

        // V sum: lane (p mod 8) of acc holds its positions' share, in position order
        for (int i = 0; i < 8 * D; i += 8) _mm256_store_ps(acc + i, _mm256_setzero_ps());
        for (int p = a.first; p <= a.last; ++p) {
            // probabilities rounded to f16, as ggml multiplies them with f16 V
            const float w = fp16_to_fp32(fp32_to_fp16(scores[p - a.first] * inv));
            const uint16_t *v = a.v_blocks[p / a.block_size] + (static_cast<size_t>(p % a.block_size) * a.n_head_kv + kvh) * D;
            float *lane = acc + static_cast<size_t>(p & 7) * D;
            const __m256 wv = _mm256_set1_ps(w);
            int e = 0;
            for (; e + 8 <= D; e += 8) {
                _mm256_storeu_ps(lane + e, _mm256_fmadd_ps(wv, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(v + e))),
                                                          _mm256_loadu_ps(lane + e)));
            }
            for (; e < D; ++e) lane[e] = std::fma(w, fp16_to_fp32(v[e]), lane[e]);
        }
        float *out = a.out + static_cast<size_t>(h) * D;
        int e = 0;
        for (; e + 8 <= D; e += 8) {
            const float *l = acc + e;
            const __m256 u0 = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(l), _mm256_loadu_ps(l + 4 * D)),
                                            _mm256_add_ps(_mm256_loadu_ps(l + 2 * D), _mm256_loadu_ps(l + 6 * D)));
            const __m256 u1 = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(l + D), _mm256_loadu_ps(l + 5 * D)),
                                            _mm256_add_ps(_mm256_loadu_ps(l + 3 * D), _mm256_loadu_ps(l + 7 * D)));
            _mm256_storeu_ps(out + e, _mm256_add_ps(u0, u1));
        }
        for (; e < D; ++e) {
            const float *l = acc + e;
            out[e] = ((l[0] + l[4 * D]) + (l[2 * D] + l[6 * D])) + ((l[D] + l[5 * D]) + (l[3 * D] + l[7 * D]));
        }
    }
}

} // namespace lmrt::kernels::avx2
