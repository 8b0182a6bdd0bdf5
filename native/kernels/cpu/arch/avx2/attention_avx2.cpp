// AVX2 attention for one query row over block-stored K/V. With f16 K/V
// (the default) it rounds the way llama.cpp's CPU backend rounds it (flash
// attention off), so that the same model gives the same tokens:
// - the query is rounded to f16 and the probabilities too, as ggml multiplies
//   them with f16 K and V;
// - softmax uses ggml's vector exp over 8-position chunks counted from
//   position 0, each chunk's sum added into a double;
// - K·q and the V sum follow the order of ggml's tiled f16 GEMM: one 8-lane
//   accumulator, lanes by index mod 8, folded by hsum8.
// bf16 K/V follow the same order with bf16 rounding; q8_0 K takes the query
// as q8_0 blocks and the integer dot product of the Q8_0 matrix kernels,
// and q8_0 V rows are scaled to f32 against unrounded probabilities.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "../../../../core/half.h"
#include "../../../../core/quant.h"
#include "../../../../include/lmrt.h"
#include "avx2.h"
#include "exp_avx2.h"

namespace lmrt::kernels::avx2 {
namespace {

// Eight values of a stored row from element e, and one value, per type.
struct F16Row {
    static constexpr KvType kType = KvType::kF16;
    LMRT_AVX2 static __m256 load8(const uint8_t *row, int e) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(row + 2 * e)));
    }
    LMRT_AVX2 static float at(const uint8_t *row, int e) {
        uint16_t h;
        std::memcpy(&h, row + 2 * e, 2);
        return half_to_float(h);
    }
    // a probability as it multiplies V: converted to f16
    LMRT_AVX2 static float weight(float p) { return half_to_float(fp32_to_fp16(p)); }
};

struct BF16Row {
    static constexpr KvType kType = KvType::kBF16;
    LMRT_AVX2 static __m256 load8(const uint8_t *row, int e) {
        const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(row + 2 * e)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
    }
    LMRT_AVX2 static float at(const uint8_t *row, int e) {
        uint16_t h;
        std::memcpy(&h, row + 2 * e, 2);
        return bf16_to_fp32(h);
    }
    LMRT_AVX2 static float weight(float p) { return bf16_to_fp32(fp32_to_bf16(p)); }
};

struct Q8Row {
    static constexpr KvType kType = KvType::kQ8_0;
    LMRT_AVX2 static __m256 load8(const uint8_t *row, int e) {
        const auto &b = reinterpret_cast<const BlockQ8_0 *>(row)[e / 32];
        const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(b.qs + e % 32))));
        return _mm256_mul_ps(_mm256_set1_ps(half_to_float(b.d)), q); // exact: an f16 times a byte
    }
    LMRT_AVX2 static float at(const uint8_t *row, int e) {
        const auto &b = reinterpret_cast<const BlockQ8_0 *>(row)[e / 32];
        return half_to_float(b.d) * static_cast<float>(b.qs[e % 32]);
    }
    LMRT_AVX2 static float weight(float p) { return p; }
};

// q·k in the order of ggml's tiled float GEMM (one 8-lane accumulator).
template <typename Row>
LMRT_AVX2 float kq_gemm_order(const float *q, const uint8_t *k, int D) {
    __m256 acc = _mm256_setzero_ps();
    int e = 0;
    for (; e + 8 <= D; e += 8) acc = _mm256_fmadd_ps(_mm256_load_ps(q + e), Row::load8(k, e), acc);
    float dot = hsum8(acc);
    for (; e < D; ++e) dot += q[e] * Row::at(k, e);
    return dot;
}

// kq_gemm_order of one query with eight K rows (D a multiple of 8): the
// query's vector is loaded once for the eight chains, and the eight hsum8
// folds run side by side with the same pairings: (x0 + x4) and its three
// siblings, then (x0 + x4) + (x2 + x6) and (x1 + x5) + (x3 + x7), then their
// sum.
template <typename Row>
LMRT_AVX2 void kq8_gemm_order(const float *q, const uint8_t *const k[8], int D, float out[8]) {
    __m256 acc[8];
    LMRT_UNROLL for (int i = 0; i < 8; ++i) acc[i] = _mm256_setzero_ps();
    for (int e = 0; e < D; e += 8) {
        const __m256 qv = _mm256_load_ps(q + e);
        LMRT_UNROLL for (int i = 0; i < 8; ++i) acc[i] = _mm256_fmadd_ps(qv, Row::load8(k[i], e), acc[i]);
    }
    // halves: [lo(a) + hi(a) | lo(b) + hi(b)] for the pairs (0,1), (2,3), (4,5), (6,7)
    __m256 h[4];
    LMRT_UNROLL for (int j = 0; j < 4; ++j) {
        h[j] = _mm256_add_ps(_mm256_permute2f128_ps(acc[2 * j], acc[2 * j + 1], 0x20), _mm256_permute2f128_ps(acc[2 * j], acc[2 * j + 1], 0x31));
    }
    // per 4-lane half: (s0 + s2, s1 + s3) of two chains side by side
    const __m256 z0 = _mm256_add_ps(_mm256_shuffle_ps(h[0], h[1], _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(h[0], h[1], _MM_SHUFFLE(3, 2, 3, 2)));
    const __m256 z1 = _mm256_add_ps(_mm256_shuffle_ps(h[2], h[3], _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(h[2], h[3], _MM_SHUFFLE(3, 2, 3, 2)));
    // [r0 r2 r4 r6 | r1 r3 r5 r7]
    const __m256 r = _mm256_hadd_ps(z0, z1);
    _mm256_storeu_ps(out, _mm256_permutevar8x32_ps(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

// fn(p, row) for positions [a.first, a.last] of KV head kvh, a block at a
// time: no division per position.
template <typename Fn>
LMRT_AVX2 inline void for_each_row(const AttentionArgs &a, const uint8_t *const *blocks, int kvh, Fn fn) {
    const size_t stride = static_cast<size_t>(a.n_head_kv) * kv_row_bytes(a.kv_type, a.head_dim);
    for (int p = a.first; p <= a.last;) {
        const int end = std::min(a.last, (p / a.block_size + 1) * a.block_size - 1);
        for (const uint8_t *row = a.row(blocks, p, kvh); p <= end; ++p, row += stride) fn(p, row);
    }
}

// The probabilities as they multiply V, in place: p * inv, rounded to the
// row type's precision (F16: vcvtps2ph rounds to nearest even, as
// fp32_to_fp16 does).
template <typename Row>
LMRT_AVX2 void v_weights(float *w, int n, float inv) {
    int i = 0;
    if (Row::kType == KvType::kF16) {
        const __m256 vinv = _mm256_set1_ps(inv);
        for (; i + 8 <= n; i += 8) {
            const __m128i h = _mm256_cvtps_ph(_mm256_mul_ps(_mm256_loadu_ps(w + i), vinv), _MM_FROUND_TO_NEAREST_INT);
            _mm256_storeu_ps(w + i, _mm256_cvtph_ps(h));
        }
    }
    for (; i < n; ++i) w[i] = Row::weight(w[i] * inv);
}

// out[e] = sum_p w_p v_p[e] (w: v_weights), lanes by p mod 8, folded like
// hsum8. With D a multiple of 8, positions go in windows of whole 8-position
// chunks, padded at both ends with a zero row at weight 0 (fma(0, 0, acc) is
// acc exactly: a lane's sum, started at +0, is never -0), and the 8 lanes of
// one 8-element slice stay in registers over the window: no store per
// position.
template <typename Row>
LMRT_AVX2 void v_sum_gemm_order(const AttentionArgs &a, int kvh, const float *weights, float *acc, float *out) {
    const int D = a.head_dim;
    for (int i = 0; i < 8 * D; ++i) acc[i] = 0.0f;
    if (D % 8 == 0) {
        alignas(64) static const uint8_t kZeroRow[2 * 512] = {};
        constexpr int kWindow = 256;
        const uint8_t *rows[kWindow];
        alignas(32) float w[kWindow];
        int n = 0;
        const auto flush = [&]() LMRT_AVX2 {
            for (; n % 8 != 0; ++n) {
                rows[n] = kZeroRow;
                w[n] = 0.0f;
            }
            for (int e = 0; e < D; e += 8) {
                __m256 lane[8];
                LMRT_UNROLL for (int l = 0; l < 8; ++l) lane[l] = _mm256_load_ps(acc + static_cast<size_t>(l) * D + e);
                for (int c = 0; c < n; c += 8) {
                    LMRT_UNROLL for (int l = 0; l < 8; ++l) {
                        lane[l] = _mm256_fmadd_ps(_mm256_broadcast_ss(w + c + l), Row::load8(rows[c + l], e), lane[l]);
                    }
                }
                LMRT_UNROLL for (int l = 0; l < 8; ++l) _mm256_store_ps(acc + static_cast<size_t>(l) * D + e, lane[l]);
            }
            n = 0;
        };
        for (int p = a.first & ~7; p < a.first; ++p) {
            rows[n] = kZeroRow;
            w[n++] = 0.0f;
        }
        for_each_row(a, a.v_blocks, kvh, [&](int p, const uint8_t *v) LMRT_AVX2 {
            rows[n] = v;
            w[n++] = weights[p - a.first];
            if (n == kWindow) flush();
        });
        if (n > 0) flush();
    } else {
        for_each_row(a, a.v_blocks, kvh, [&](int p, const uint8_t *v) LMRT_AVX2 {
            const float wp = weights[p - a.first];
            float *lane = acc + static_cast<size_t>(p & 7) * D;
            const __m256 wv = _mm256_set1_ps(wp);
            int e = 0;
            for (; e + 8 <= D; e += 8) _mm256_storeu_ps(lane + e, _mm256_fmadd_ps(wv, Row::load8(v, e), _mm256_loadu_ps(lane + e)));
            for (; e < D; ++e) lane[e] = std::fma(wp, Row::at(v, e), lane[e]);
        });
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

template <typename Row>
LMRT_AVX2 void attention_rows(const AttentionArgs &a) {
    const int group = a.n_head / a.n_head_kv;
    const int D = a.head_dim;
    float *scores = a.scratch;
    alignas(32) float q[512];
    alignas(32) float acc[8 * 512];
    alignas(32) BlockQ8_0 q8[512 / 32];
    const VecDotFn q8_dot = Row::kType == KvType::kQ8_0 ? mat_kernels(LMRT_TYPE_Q8_0)->dot : nullptr;
    for (int h = a.head_begin; h < a.head_end; ++h) {
        const int kvh = h / group;
        const float *qh = a.q + static_cast<size_t>(h) * D;
        // the query converted as ggml converts it for K's dot product
        if (Row::kType == KvType::kQ8_0) {
            kv_encode_row(KvType::kQ8_0, qh, reinterpret_cast<uint8_t *>(q8), D);
        } else if (Row::kType == KvType::kF16) {
            int d = 0;
            for (; d + 8 <= D; d += 8) {
                _mm256_store_ps(q + d, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(qh + d), _MM_FROUND_TO_NEAREST_INT)));
            }
            for (; d < D; ++d) q[d] = half_to_float(fp32_to_fp16(qh[d]));
        } else {
            for (int d = 0; d < D; ++d) q[d] = bf16_to_fp32(fp32_to_bf16(qh[d]));
        }

        float max = -INFINITY;
        const bool eight_at_once = Row::kType != KvType::kQ8_0 && D % 8 == 0;
        const uint8_t *pending[8];
        int n_pending = 0;
        for_each_row(a, a.k_blocks, kvh, [&](int p, const uint8_t *k) LMRT_AVX2 {
            if (eight_at_once) {
                pending[n_pending++] = k;
                if (n_pending < 8) return;
                float dots[8];
                kq8_gemm_order<Row>(q, pending, D, dots);
                for (int i = 0; i < 8; ++i) {
                    const float v = dots[i] * a.scale;
                    scores[p - 7 + i - a.first] = v;
                    max = std::max(max, v);
                }
                n_pending = 0;
                return;
            }
            const float dot = Row::kType == KvType::kQ8_0 ? q8_dot(D, k, q8) : kq_gemm_order<Row>(q, k, D);
            const float v = dot * a.scale;
            scores[p - a.first] = v;
            max = std::max(max, v);
        });
        for (int i = 0; i < n_pending; ++i) {
            const float v = kq_gemm_order<Row>(q, pending[i], D) * a.scale;
            scores[a.last - n_pending + 1 + i - a.first] = v;
            max = std::max(max, v);
        }

        const float inv = softmax_numerators(scores, a.first, a.last, max);
        v_weights<Row>(scores, a.last - a.first + 1, inv);
        v_sum_gemm_order<Row>(a, kvh, scores, acc, a.out + static_cast<size_t>(h) * D);
    }
}

} // namespace

LMRT_AVX2 void attention(const AttentionArgs &a) {
    switch (a.kv_type) {
    case KvType::kBF16: attention_rows<BF16Row>(a); break;
    case KvType::kQ8_0: attention_rows<Q8Row>(a); break;
    default: attention_rows<F16Row>(a); break;
    }
}

} // namespace lmrt::kernels::avx2
