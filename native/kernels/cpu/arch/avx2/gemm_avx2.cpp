// AVX2 batch products over packed activations (kernels/packed.h). Each lane
// of a vector is one row of the batch, so every row keeps its own chain of
// fused multiply-adds, rounded exactly as the single-row kernel rounds it.
#include <immintrin.h>

#include <algorithm>

#include "../../../../core/quant.h"
#include "avx2.h"

namespace lmrt::kernels::avx2 {

namespace {

LMRT_AVX2 inline __m256i load(const void *p) { return _mm256_loadu_si256(static_cast<const __m256i *>(p)); }

// Values 4j..4j+3 of a Q4_0 block in every 4-byte lane, from its low
// (values 0..15) and high (16..31) nibbles.
template <int J>
LMRT_AVX2 inline __m256i group_of(__m256i lo, __m256i hi) {
    return _mm256_shuffle_epi32(J < 4 ? lo : hi, (J % 4) * 0x55);
}

// One block of two weight vectors against one packed group of 8 lanes:
// `wa` and `wb` hold 16 weight bytes (a Q4_0 block's nibbles) in each
// 128-bit half, `da` and `db` the weight scales of the lanes. Per lane, the
// exact integer dot product, then acc = fma(sum, weight scale * row scale,
// acc) as dot_q4_0 does. The weights' unsigned nibbles (0..15) multiply the
// signed activations, so a block's 16 pairwise sums add up within int16
// (16 * 15 * 128 < 2^15); the offset of 8 comes back out through the rows'
// value sums. Each activation vector is loaded once for both weight vectors.
LMRT_AVX2 inline void q4_0_block(__m256i wa, __m256i wb, __m256 da, __m256 db, const PackedQ8Group &x, __m256 &acc0, __m256 &acc1) {
    const __m256i low = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    const __m256i lo0 = _mm256_and_si256(wa, low), hi0 = _mm256_and_si256(_mm256_srli_epi16(wa, 4), low);
    const __m256i lo1 = _mm256_and_si256(wb, low), hi1 = _mm256_and_si256(_mm256_srli_epi16(wb, 4), low);
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
#define LMRT_Q4_0_GROUP(J)                                                                                                        \
    {                                                                                                                             \
        const __m256i v = load(x.qs[J]);                                                                                          \
        s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(group_of<J>(lo0, hi0), v));                                                \
        s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(group_of<J>(lo1, hi1), v));                                                \
        opaque(s0);                                                                                                               \
        opaque(s1);                                                                                                               \
    }
    LMRT_Q4_0_GROUP(0) LMRT_Q4_0_GROUP(1) LMRT_Q4_0_GROUP(2) LMRT_Q4_0_GROUP(3)
    LMRT_Q4_0_GROUP(4) LMRT_Q4_0_GROUP(5) LMRT_Q4_0_GROUP(6) LMRT_Q4_0_GROUP(7)
#undef LMRT_Q4_0_GROUP
    const __m256i offset = _mm256_slli_epi32(load(x.sum), 3);
    const __m256 dx = _mm256_loadu_ps(x.d);
    acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_madd_epi16(s0, ones), offset)), _mm256_mul_ps(da, dx), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_madd_epi16(s1, ones), offset)), _mm256_mul_ps(db, dx), acc1);
}

LMRT_AVX2 inline __m256i broadcast_qs(const BlockQ4_0 &b) {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i *>(b.qs)));
}

// Two weight rows against one group of 8 packed rows (every lane a row of
// the batch); out[i][lane].
LMRT_AVX2 void q4_0_two_rows(int64_t nb, const BlockQ4_0 *w0, const BlockQ4_0 *w1, const PackedQ8Group *p, float out[2][8]) {
    // named, not an array: GCC keeps array elements in memory, which puts a
    // store and a load into every step of the chains
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int64_t k = 0; k < nb; ++k, ++p) {
        q4_0_block(broadcast_qs(w0[k]), broadcast_qs(w1[k]), _mm256_set1_ps(half_to_float(w0[k].d)), _mm256_set1_ps(half_to_float(w1[k].d)),
                   *p, acc0, acc1);
    }
    _mm256_storeu_ps(out[0], acc0);
    _mm256_storeu_ps(out[1], acc1);
}

// Four weight rows against a batch of at most 4 rows (packed twice over,
// lanes 0-3 and 4-7): each vector holds two weight rows' chains, one per
// 128-bit half, since a within-half shuffle of [row A | row B] puts A's
// values before B's. out[weight row][batch row].
LMRT_AVX2 void q4_0_four_rows_few(int64_t nb, const BlockQ4_0 *const w[4], const PackedQ8Group *p, float out[4][4]) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const auto halves = [](const BlockQ4_0 &a, const BlockQ4_0 &b) LMRT_AVX2 {
        return _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i *>(b.qs)), _mm_loadu_si128(reinterpret_cast<const __m128i *>(a.qs)));
    };
    const auto scales = [](const BlockQ4_0 &a, const BlockQ4_0 &b) LMRT_AVX2 {
        return _mm256_set_m128(_mm_set1_ps(half_to_float(b.d)), _mm_set1_ps(half_to_float(a.d)));
    };
    for (int64_t k = 0; k < nb; ++k, ++p) {
        q4_0_block(halves(w[0][k], w[1][k]), halves(w[2][k], w[3][k]), scales(w[0][k], w[1][k]), scales(w[2][k], w[3][k]), *p, acc0, acc1);
    }
    alignas(32) float lanes[16];
    _mm256_store_ps(lanes, acc0);
    _mm256_store_ps(lanes + 8, acc1);
    for (int r = 0; r < 4; ++r) {
        for (int t = 0; t < 4; ++t) out[r][t] = lanes[4 * r + t];
    }
}

// A batch of at most 4 rows: weight rows four at a time (the last ones
// repeated to fill the four, their results dropped).
LMRT_AVX2 void gemm_q4_0_few(int64_t nb, const uint8_t *w, size_t row_bytes, int64_t O, const PackedQ8Group *packed, int64_t T, float *y,
                             int64_t y_stride) {
    for (int64_t o = 0; o < O; o += 4) {
        const BlockQ4_0 *rows[4];
        for (int r = 0; r < 4; ++r) rows[r] = reinterpret_cast<const BlockQ4_0 *>(w + static_cast<size_t>(std::min(o + r, O - 1)) * row_bytes);
        float out[4][4];
        q4_0_four_rows_few(nb, rows, packed, out);
        for (int64_t r = 0; r < 4 && o + r < O; ++r) {
            for (int64_t t = 0; t < T; ++t) y[t * y_stride + o + r] = out[r][t];
        }
    }
}

} // namespace

// Weight rows are taken in tiles small enough to stay in L2 while every
// group of 8 rows passes over them; within a tile, two rows at a time.
LMRT_AVX2 void gemm_q4_0(int64_t n, const uint8_t *w, size_t row_bytes, int64_t O, const PackedQ8Group *packed, int64_t T, float *y,
                         int64_t y_stride) {
    const int64_t nb = n / 32, groups = row_groups(T);
    if (T <= 4) return gemm_q4_0_few(nb, w, row_bytes, O, packed, T, y, y_stride);
    const int64_t tile = std::max<int64_t>(2, static_cast<int64_t>((128 * 1024) / row_bytes) & ~int64_t{1});
    const auto row = [&](int64_t o) { return reinterpret_cast<const BlockQ4_0 *>(w + static_cast<size_t>(o) * row_bytes); };
    for (int64_t o0 = 0; o0 < O; o0 += tile) {
        const int64_t o1 = std::min(O, o0 + tile);
        for (int64_t g = 0; g < groups; ++g) {
            const int64_t rows = std::min<int64_t>(8, T - 8 * g);
            float *yg = y + 8 * g * y_stride;
            // weight rows two at a time; an odd last row is paired with itself
            for (int64_t o = o0; o < o1; o += 2) {
                float out[2][8];
                q4_0_two_rows(nb, row(o), row(std::min(o + 1, o1 - 1)), packed + g * nb, out);
                for (int64_t t = 0; t < rows; ++t) {
                    yg[t * y_stride + o] = out[0][t];
                    if (o + 1 < o1) yg[t * y_stride + o + 1] = out[1][t];
                }
            }
        }
    }
}

} // namespace lmrt::kernels::avx2
