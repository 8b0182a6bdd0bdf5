// AVX2 attention for one query row over block-stored f16 K/V, rounded the
// way llama.cpp's CPU backend rounds it (flash attention off), so that the
// same model gives the same tokens:
// - the query is rounded to f16 and the probabilities too, as ggml multiplies
//   them with f16 K and V;
// - softmax uses ggml's vector exp over 8-position chunks counted from
//   position 0, each chunk's sum added into a double;
// - K·q and the V sum follow the order of ggml's tiled f16 GEMM: one 8-lane
//   accumulator, lanes by index mod 8, folded by hsum8.
#include <immintrin.h>

#include <cmath>

#include "../../../../core/half.h"
#include "avx2.h"
#include "exp_avx2.h"

namespace lmrt::kernels::avx2 {
namespace {

LMRT_AVX2 inline __m256 load_f16x8(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p))); }

LMRT_AVX2 float kq_gemm_order(const float *q, const uint16_t *k, int D) {
    __m256 acc = _mm256_setzero_ps();
    int e = 0;
    for (; e + 8 <= D; e += 8) acc = _mm256_fmadd_ps(_mm256_load_ps(q + e), load_f16x8(k + e), acc);
    float dot = hsum8(acc);
    for (; e < D; ++e) dot += q[e] * half_to_float(k[e]);
    return dot;
}

struct Head {
    const AttentionArgs &a;
    int kvh;
    const uint16_t *v_at(int p) const {
        return a.v_blocks[p / a.block_size] + (static_cast<size_t>(p % a.block_size) * a.n_head_kv + kvh) * a.head_dim;
    }
    // probability of position p, rounded to f16
    float weight(int p, float inv) const { return half_to_float(fp32_to_fp16(a.scratch[p - a.first] * inv)); }
};

// out[e] = sum_p w_p v_p[e], lanes by p mod 8, folded like hsum8.
LMRT_AVX2 void v_sum_gemm_order(const Head &h, float inv, float *acc, float *out) {
    const int D = h.a.head_dim;
    for (int i = 0; i < 8 * D; ++i) acc[i] = 0.0f;
    for (int p = h.a.first; p <= h.a.last; ++p) {
        const float w = h.weight(p, inv);
        const uint16_t *v = h.v_at(p);
        float *lane = acc + static_cast<size_t>(p & 7) * D;
        const __m256 wv = _mm256_set1_ps(w);
        int e = 0;
        for (; e + 8 <= D; e += 8) _mm256_storeu_ps(lane + e, _mm256_fmadd_ps(wv, load_f16x8(v + e), _mm256_loadu_ps(lane + e)));
        for (; e < D; ++e) lane[e] = std::fma(w, half_to_float(v[e]), lane[e]);
    }
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

} // namespace

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
        for (; d < D; ++d) q[d] = half_to_float(fp32_to_fp16(qh[d]));

        float max = -INFINITY;
        for (int p = a.first; p <= a.last; ++p) {
            const uint16_t *k = a.k_blocks[p / a.block_size] + (static_cast<size_t>(p % a.block_size) * a.n_head_kv + kvh) * D;
            const float v = kq_gemm_order(q, k, D) * a.scale;
            scores[p - a.first] = v;
            max = std::max(max, v);
        }

        const float inv = softmax_numerators(scores, a.first, a.last, max);

        const Head head{a, kvh};
        float *out = a.out + static_cast<size_t>(h) * D;
        v_sum_gemm_order(head, inv, acc, out);
    }
}

} // namespace lmrt::kernels::avx2
