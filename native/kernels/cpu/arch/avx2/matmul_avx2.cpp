// AVX2 dot products. Integer formats use ggml's approach: unsigned x signed
// byte products (maddubs) summed to int32 per block, scaled in float.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "../../../../core/half.h"
#include "../../../../core/quant.h"
#include "../../../ref/ref.h"
#include "../k_quant_sums.h"
#include "avx2.h"

namespace lmrt::kernels::avx2 {

namespace {

LMRT_AVX2 inline int hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

// Sum of products of 32 signed bytes, as 8 int32 lanes.
LMRT_AVX2 inline __m256i dot_i8(__m256i a, __m256i b) {
    const __m256i ax = _mm256_sign_epi8(a, a);
    const __m256i sy = _mm256_sign_epi8(b, a);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

// Float dot products in llama.cpp's two orders: a single row goes through
// its plain dot product (four 8-lane accumulators over 32-element steps,
// folded pairwise, then the tail), a batch of rows through its tiled GEMM
// (one 8-lane accumulator).
LMRT_AVX2 inline float fold4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    const __m256 x = _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3));
    const __m128 t = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    const __m128 h = _mm_hadd_ps(t, t);
    return _mm_cvtss_f32(_mm_hadd_ps(h, h));
}

LMRT_AVX2 inline __m256 load_f32(const float *p) { return _mm256_loadu_ps(p); }
inline float same_f32(float v) { return v; }
LMRT_AVX2 inline __m256 load_f16(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p))); }
LMRT_AVX2 inline __m256 load_bf16(const uint16_t *p) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

// A single row (ggml's plain dot product); the tail past the last multiple of
// 32 is summed in Tail: float for F32, double for F16, as ggml does.
template <typename T, __m256 (*Load)(const T *), float (*Scalar)(T), typename Tail>
LMRT_AVX2 float dot_single(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const T *>(w);
    const auto *b = static_cast<const T *>(x);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    const int64_t np = n & ~int64_t{31};
    for (int64_t i = 0; i < np; i += 32) {
        // f16 weights stream from memory slower than the hardware prefetcher
        // alone brings them (measured 75-80% of a plain read): a hint about
        // 1 KiB ahead, past the row's end into the next row's start
        if (sizeof(T) == 2) _mm_prefetch(reinterpret_cast<const char *>(a + i) + 1024, _MM_HINT_T0);
        for (int j = 0; j < 4; ++j) acc[j] = _mm256_fmadd_ps(Load(a + i + 8 * j), Load(b + i + 8 * j), acc[j]);
    }
    Tail sum = fold4(acc[0], acc[1], acc[2], acc[3]);
    for (int64_t i = np; i < n; ++i) sum += static_cast<Tail>(Scalar(a[i]) * Scalar(b[i]));
    return static_cast<float>(sum);
}

// A row of a batch (ggml's tiled GEMM): one 8-lane accumulator.
template <typename T, __m256 (*Load)(const T *), float (*Scalar)(T)>
LMRT_AVX2 float dot_batched(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const T *>(w);
    const auto *b = static_cast<const T *>(x);
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(Load(a + i), Load(b + i), acc);
    float sum = hsum8(acc);
    for (; i < n; ++i) sum += Scalar(a[i]) * Scalar(b[i]);
    return sum;
}

template <__m256 (*Load)(const uint16_t *), float (*Scalar)(uint16_t)>
LMRT_AVX2 float dot_half(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const uint16_t *>(w);
    const auto *b = static_cast<const uint16_t *>(x);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(Load(a + i), Load(b + i), acc0);
        acc1 = _mm256_fmadd_ps(Load(a + i + 8), Load(b + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(Load(a + i), Load(b + i), acc0);
    float sum = hsum8(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i) sum += Scalar(a[i]) * Scalar(b[i]);
    return sum;
}

// dot_batched for four activation rows sharing one weight row: the same
// per-row order, four independent chains.
template <typename T, __m256 (*Load)(const T *), float (*Scalar)(T)>
LMRT_AVX2 void dot_batched4(int64_t n, const void *w, const void *const x[4], float out[4]) {
    const auto *a = static_cast<const T *>(w);
    const T *b[4] = {static_cast<const T *>(x[0]), static_cast<const T *>(x[1]), static_cast<const T *>(x[2]), static_cast<const T *>(x[3])};
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 wa = Load(a + i);
        for (int r = 0; r < 4; ++r) acc[r] = _mm256_fmadd_ps(wa, Load(b[r] + i), acc[r]);
    }
    for (int r = 0; r < 4; ++r) {
        float sum = hsum8(acc[r]);
        for (int64_t j = i; j < n; ++j) sum += Scalar(a[j]) * Scalar(b[r][j]);
        out[r] = sum;
    }
}

// dot_batched of three weight rows (row_bytes apart) with four activation
// rows, out[4 * r + t]: twelve independent chains, each in dot_batched's
// order. Seven loads feed twelve FMAs, where dot_batched4 needs five for
// four: a batch's float product runs at the FMA units' rate, not the loads'.
template <typename T, __m256 (*Load)(const T *), float (*Scalar)(T)>
LMRT_AVX2 void dot_batched_3x4(int64_t n, const void *w, size_t row_bytes, const void *const x[4], float out[12]) {
    const T *a[3];
    LMRT_UNROLL for (int r = 0; r < 3; ++r) a[r] = reinterpret_cast<const T *>(static_cast<const uint8_t *>(w) + r * row_bytes);
    const T *b[4];
    LMRT_UNROLL for (int t = 0; t < 4; ++t) b[t] = static_cast<const T *>(x[t]);
    __m256 acc[3][4];
    LMRT_UNROLL for (int r = 0; r < 3; ++r) {
        LMRT_UNROLL for (int t = 0; t < 4; ++t) acc[r][t] = _mm256_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wa[3];
        LMRT_UNROLL for (int r = 0; r < 3; ++r) wa[r] = Load(a[r] + i);
        LMRT_UNROLL for (int t = 0; t < 4; ++t) {
            const __m256 xb = Load(b[t] + i);
            LMRT_UNROLL for (int r = 0; r < 3; ++r) acc[r][t] = _mm256_fmadd_ps(wa[r], xb, acc[r][t]);
        }
    }
    for (int r = 0; r < 3; ++r) {
        for (int t = 0; t < 4; ++t) {
            float sum = hsum8(acc[r][t]);
            for (int64_t j = i; j < n; ++j) sum += Scalar(a[r][j]) * Scalar(b[t][j]);
            out[4 * r + t] = sum;
        }
    }
}

LMRT_AVX2 float dot_q8_0(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ8_0 *>(w);
    const auto *b = static_cast<const BlockQ8_0 *>(x);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t k = 0; k < n / 32; ++k) {
        const __m256i qa = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(a[k].qs));
        const __m256i qb = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b[k].qs));
        const __m256 d = _mm256_set1_ps(half_to_float(a[k].d) * half_to_float(b[k].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(qa, qb)), acc);
    }
    return hsum8(acc);
}

// dot_q8_0 for four activation rows: each row's chain as dot_q8_0 runs it.
LMRT_AVX2 void dot4_q8_0(int64_t n, const void *w, const void *const x[4], float out[4]) {
    const auto *a = static_cast<const BlockQ8_0 *>(w);
    const BlockQ8_0 *b[4] = {static_cast<const BlockQ8_0 *>(x[0]), static_cast<const BlockQ8_0 *>(x[1]),
                             static_cast<const BlockQ8_0 *>(x[2]), static_cast<const BlockQ8_0 *>(x[3])};
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t k = 0; k < n / 32; ++k) {
        const __m256i qa = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(a[k].qs));
        const float da = half_to_float(a[k].d);
        for (int r = 0; r < 4; ++r) {
            const __m256i qb = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b[r][k].qs));
            const __m256 d = _mm256_set1_ps(da * half_to_float(b[r][k].d));
            acc[r] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(qa, qb)), acc[r]);
        }
    }
    for (int r = 0; r < 4; ++r) out[r] = hsum8(acc[r]);
}

// Q4_0 sums like llama.cpp's repacked Q4_0 kernels (which it uses for every
// Q4_0 matrix on AVX2): each block's integer dot product whole, then one
// fused multiply-add per block with the product of the two scales. The
// integer sums of four blocks are reduced together (exact in any order).
LMRT_AVX2 inline __m256i q4_0_values(const BlockQ4_0 &b) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i *>(b.qs));
    // elements 0..15 are the low nibbles, 16..31 the high ones
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
    return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

// [sum of a, sum of b, sum of c, sum of d] over their 8 int32 lanes each.
LMRT_AVX2 inline __m128i hsum4_i32(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

LMRT_AVX2 inline __m256i q4_0_block(const BlockQ4_0 &a, const BlockQ8_0 &b) {
    return dot_i8(q4_0_values(a), _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b.qs)));
}

LMRT_AVX2 float dot_q4_0(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ4_0 *>(w);
    const auto *b = static_cast<const BlockQ8_0 *>(x);
    const int64_t nb = n / 32;
    float acc = 0.0f;
    int64_t k = 0;
    for (; k + 4 <= nb; k += 4) {
        alignas(16) int32_t sums[4];
        _mm_store_si128(reinterpret_cast<__m128i *>(sums), hsum4_i32(q4_0_block(a[k], b[k]), q4_0_block(a[k + 1], b[k + 1]), q4_0_block(a[k + 2], b[k + 2]), q4_0_block(a[k + 3], b[k + 3])));
        for (int j = 0; j < 4; ++j) {
            acc = std::fma(static_cast<float>(sums[j]), half_to_float(a[k + j].d) * half_to_float(b[k + j].d), acc);
        }
    }
    for (; k < nb; ++k) acc = std::fma(static_cast<float>(hsum_i32(q4_0_block(a[k], b[k]))), half_to_float(a[k].d) * half_to_float(b[k].d), acc);
    return acc;
}

// dot_q4_0 for four activation rows: each weight block unpacked once, the
// four rows' block sums reduced together, each row's chain as dot_q4_0 runs it.
LMRT_AVX2 void dot4_q4_0(int64_t n, const void *w, const void *const x[4], float out[4]) {
    const auto *a = static_cast<const BlockQ4_0 *>(w);
    const BlockQ8_0 *b[4] = {static_cast<const BlockQ8_0 *>(x[0]), static_cast<const BlockQ8_0 *>(x[1]),
                             static_cast<const BlockQ8_0 *>(x[2]), static_cast<const BlockQ8_0 *>(x[3])};
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int64_t k = 0; k < n / 32; ++k) {
        const __m256i qa = q4_0_values(a[k]);
        __m256i s[4];
        for (int r = 0; r < 4; ++r) s[r] = dot_i8(qa, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b[r][k].qs)));
        alignas(16) int32_t sums[4];
        _mm_store_si128(reinterpret_cast<__m128i *>(sums), hsum4_i32(s[0], s[1], s[2], s[3]));
        const float da = half_to_float(a[k].d);
        for (int r = 0; r < 4; ++r) acc[r] = std::fma(static_cast<float>(sums[r]), da * half_to_float(b[r][k].d), acc[r]);
    }
    for (int r = 0; r < 4; ++r) out[r] = acc[r];
}

// dot_q8_0 of four weight rows with one activation row: four chains, each as
// dot_q8_0 runs it, interleaved.
LMRT_AVX2 void dot_x4_q8_0(int64_t n, const void *w, size_t row_bytes, const void *x, float out[4]) {
    const auto *b = static_cast<const BlockQ8_0 *>(x);
    const BlockQ8_0 *a[4];
    for (int r = 0; r < 4; ++r) a[r] = reinterpret_cast<const BlockQ8_0 *>(static_cast<const uint8_t *>(w) + r * row_bytes);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    for (int64_t k = 0; k < n / 32; ++k) {
        const __m256i qb = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b[k].qs));
        const float db = half_to_float(b[k].d);
        const auto step = [&](const BlockQ8_0 &blk, __m256 acc) LMRT_AVX2 {
            const __m256i qa = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(blk.qs));
            return _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(blk.d) * db), _mm256_cvtepi32_ps(dot_i8(qa, qb)), acc);
        };
        acc0 = step(a[0][k], acc0);
        acc1 = step(a[1][k], acc1);
        acc2 = step(a[2][k], acc2);
        acc3 = step(a[3][k], acc3);
    }
    out[0] = hsum8(acc0);
    out[1] = hsum8(acc1);
    out[2] = hsum8(acc2);
    out[3] = hsum8(acc3);
}

// dot_q4_0 of four weight rows with one activation row: per block, the four
// rows' integer sums reduced together, then each row's fused multiply-add,
// the four chains interleaved.
LMRT_AVX2 void dot_x4_q4_0(int64_t n, const void *w, size_t row_bytes, const void *x, float out[4]) {
    const auto *b = static_cast<const BlockQ8_0 *>(x);
    const BlockQ4_0 *a[4];
    for (int r = 0; r < 4; ++r) a[r] = reinterpret_cast<const BlockQ4_0 *>(static_cast<const uint8_t *>(w) + r * row_bytes);
    float acc0 = 0.0f, acc1 = 0.0f, acc2 = 0.0f, acc3 = 0.0f;
    for (int64_t k = 0; k < n / 32; ++k) {
        const __m256i qb = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b[k].qs));
        alignas(16) int32_t sums[4];
        _mm_store_si128(reinterpret_cast<__m128i *>(sums), hsum4_i32(dot_i8(q4_0_values(a[0][k]), qb), dot_i8(q4_0_values(a[1][k]), qb),
                                                                     dot_i8(q4_0_values(a[2][k]), qb), dot_i8(q4_0_values(a[3][k]), qb)));
        const float db = half_to_float(b[k].d);
        acc0 = std::fma(static_cast<float>(sums[0]), half_to_float(a[0][k].d) * db, acc0);
        acc1 = std::fma(static_cast<float>(sums[1]), half_to_float(a[1][k].d) * db, acc1);
        acc2 = std::fma(static_cast<float>(sums[2]), half_to_float(a[2][k].d) * db, acc2);
        acc3 = std::fma(static_cast<float>(sums[3]), half_to_float(a[3][k].d) * db, acc3);
    }
    out[0] = acc0;
    out[1] = acc1;
    out[2] = acc2;
    out[3] = acc3;
}

// Sum over 32 elements of unsigned weights (< 64) times signed activations,
// weighted per 16 elements by two int16 scales: 8 int32 lanes.
LMRT_AVX2 inline __m256i scaled_dot_u8(__m256i q, __m256i x, __m256i scales16) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(q, x), scales16);
}

LMRT_AVX2 inline __m256i two_scales(int a, int b) {
    return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(b)), _mm_set1_epi16(static_cast<int16_t>(a)));
}

// Q4_K, sub-blocks 2c and 2c+1 of a block: the scaled products as 8 int32 lanes.
LMRT_AVX2 inline __m256i q4_k_pair(const BlockQ4_K &a, const BlockQ8_K &b, const K4Scales &s, int c) {
    const __m256i low = _mm256_set1_epi8(0x0F);
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(a.qs + 32 * c));
    const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b.qs + 64 * c));
    const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b.qs + 64 * c + 32));
    return _mm256_add_epi32(scaled_dot_u8(_mm256_and_si256(q, low), x0, _mm256_set1_epi16(s.sc[2 * c])),
                            scaled_dot_u8(_mm256_and_si256(_mm256_srli_epi16(q, 4), low), x1, _mm256_set1_epi16(s.sc[2 * c + 1])));
}

// Q4_K sums like llama.cpp's repacked Q4_K kernels (used for every Q4_K
// matrix on AVX2). For a single row: per block the exact integer sums of
// the scaled products and of the minimums, each folded in with one fused
// multiply-add; the two totals are subtracted at the end. For rows taken
// four at a time (its GEMM; Grouped): the same, per pair of sub-blocks.
template <bool Grouped>
LMRT_AVX2 float dot_q4_k(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ4_K *>(w);
    const auto *b = static_cast<const BlockQ8_K *>(x);
    float scaled = 0.0f, offsets = 0.0f;
    for (int64_t k = 0; k < n / 256; ++k) {
        const K4Scales s = unpack_k4_scales(a[k].scales);
        const float d = half_to_float(a[k].d) * b[k].d, dmin = half_to_float(a[k].dmin) * b[k].d;
        __m256i acc = _mm256_setzero_si256();
        int mins = 0;
        for (int c = 0; c < 4; ++c) {
            if (Grouped) {
                scaled = std::fma(static_cast<float>(hsum_i32(q4_k_pair(a[k], b[k], s, c))), d, scaled);
                offsets = std::fma(static_cast<float>(k4_pair_mins(b[k], s, c)), dmin, offsets);
            } else {
                acc = _mm256_add_epi32(acc, q4_k_pair(a[k], b[k], s, c));
                mins += k4_pair_mins(b[k], s, c);
            }
        }
        if (!Grouped) {
            scaled = std::fma(static_cast<float>(hsum_i32(acc)), d, scaled);
            offsets = std::fma(static_cast<float>(mins), dmin, offsets);
        }
    }
    return scaled - offsets;
}

LMRT_AVX2 float dot_q5_k(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ5_K *>(w);
    const auto *b = static_cast<const BlockQ8_K *>(x);
    const __m256i low = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(16);
    float sum = 0.0f;
    for (int64_t k = 0; k < n / 256; ++k) {
        const K4Scales s = unpack_k4_scales(a[k].scales);
        const int mins = k4_mins(b[k], s);
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(a[k].qh));
        __m256i acc = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(a[k].qs + 32 * c));
            // fifth bits: bit 2c for the low-nibble sub-block, 2c+1 for the high one
            const __m256i bit_lo = _mm256_set1_epi8(static_cast<char>(1 << (2 * c)));
            const __m256i bit_hi = _mm256_set1_epi8(static_cast<char>(2 << (2 * c)));
            const __m256i h0 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit_lo), bit_lo), sixteen);
            const __m256i h1 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit_hi), bit_hi), sixteen);
            const __m256i q0 = _mm256_or_si256(_mm256_and_si256(q, low), h0);
            const __m256i q1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low), h1);
            const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b[k].qs + 64 * c));
            const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b[k].qs + 64 * c + 32));
            acc = _mm256_add_epi32(acc, scaled_dot_u8(q0, x0, _mm256_set1_epi16(s.sc[2 * c])));
            acc = _mm256_add_epi32(acc, scaled_dot_u8(q1, x1, _mm256_set1_epi16(s.sc[2 * c + 1])));
        }
        const float d = b[k].d * half_to_float(a[k].d);
        const float dmin = b[k].d * half_to_float(a[k].dmin);
        sum += d * static_cast<float>(hsum_i32(acc)) - dmin * static_cast<float>(mins);
    }
    return sum;
}

LMRT_AVX2 float dot_q6_k(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ6_K *>(w);
    const auto *b = static_cast<const BlockQ8_K *>(x);
    const __m256i low = _mm256_set1_epi8(0x0F), three = _mm256_set1_epi8(3);
    float sum = 0.0f;
    for (int64_t k = 0; k < n / 256; ++k) {
        // values are q - 32 with q in [0, 63]: sum q*x, then take 32 * sum x back out
        int offset = 0;
        for (int g = 0; g < 16; ++g) offset += a[k].scales[g] * b[k].bsums[g];
        __m256i acc = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const uint8_t *ql = a[k].ql + 64 * h;
            const uint8_t *qhp = a[k].qh + 32 * h;
            const int8_t *sc = a[k].scales + 8 * h;
            const int8_t *xq = b[k].qs + 128 * h;
            const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(ql));
            const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(ql + 32));
            const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(qhp));
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, low), _mm256_slli_epi16(_mm256_and_si256(hi, three), 4)),
                _mm256_or_si256(_mm256_and_si256(l1, low), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hi, 2), three), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hi, 4), three), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low),
                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hi, 6), three), 4)),
            };
            for (int quarter = 0; quarter < 4; ++quarter) {
                const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(xq + 32 * quarter));
                acc = _mm256_add_epi32(acc, scaled_dot_u8(q[quarter], xv, two_scales(sc[2 * quarter], sc[2 * quarter + 1])));
            }
        }
        const float d = b[k].d * half_to_float(a[k].d);
        sum += d * static_cast<float>(hsum_i32(acc) - 32 * offset);
    }
    return sum;
}

// dot_q4_0 of eight weight rows (row_bytes apart) with one activation row,
// for decoding, where the weights stream from memory once per token. Two
// rows share a vector (one per 128-bit half, unsigned nibbles against the
// activations: 8 times the activations' sum comes off after), the eight
// rows' block sums are reduced into one vector, and the eight chains run
// lane by lane: fma(block sum, weight scale * activation scale, acc) in
// block order, exactly as dot_q4_0 sums each row. Lanes hold the rows in
// the order the reduction leaves them: 0, 2, 4, 6 | 1, 3, 5, 7.
LMRT_AVX2 void dot_x8_q4_0(int64_t n, const void *w, size_t row_bytes, const void *x, float out[8]) {
    const auto *b = static_cast<const BlockQ8_0 *>(x);
    const BlockQ4_0 *r[8];
    for (int i = 0; i < 8; ++i) r[i] = reinterpret_cast<const BlockQ4_0 *>(static_cast<const uint8_t *>(w) + i * row_bytes);
    const __m256i nibble = _mm256_set1_epi8(0x0F), ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t k = 0; k < n / 32; ++k) {
        const __m256i act = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b[k].qs));
        const __m256i act_lo = _mm256_permute2x128_si256(act, act, 0x00), act_hi = _mm256_permute2x128_si256(act, act, 0x11);
        // eight streams at once outrun the hardware prefetcher: ask a few blocks ahead (a hint; past the end is harmless)
        if (k % 2 == 0) {
            for (int i = 0; i < 8; ++i) _mm_prefetch(reinterpret_cast<const char *>(r[i] + k + 4), _MM_HINT_T0);
        }
        __m256i pair[4];
        for (int p = 0; p < 4; ++p) {
            const __m256i q = _mm256_loadu2_m128i(reinterpret_cast<const __m128i *>(r[2 * p + 1][k].qs),
                                                  reinterpret_cast<const __m128i *>(r[2 * p][k].qs));
            const __m256i lo = _mm256_and_si256(q, nibble), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), nibble);
            // at most 2 * 15 * 127 per maddubs lane: no saturation, nor in their sum
            pair[p] = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo, act_lo), _mm256_maddubs_epi16(hi, act_hi)), ones16);
        }
        __m256i sums = _mm256_hadd_epi32(_mm256_hadd_epi32(pair[0], pair[1]), _mm256_hadd_epi32(pair[2], pair[3]));
        __m256i act_sum = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, act), ones16);
        act_sum = _mm256_hadd_epi32(act_sum, act_sum);
        act_sum = _mm256_hadd_epi32(act_sum, act_sum);
        act_sum = _mm256_add_epi32(act_sum, _mm256_permute2x128_si256(act_sum, act_sum, 0x01));
        sums = _mm256_sub_epi32(sums, _mm256_slli_epi32(act_sum, 3));
        __m128i d = _mm_cvtsi32_si128(r[0][k].d);
        d = _mm_insert_epi16(d, r[2][k].d, 1);
        d = _mm_insert_epi16(d, r[4][k].d, 2);
        d = _mm_insert_epi16(d, r[6][k].d, 3);
        d = _mm_insert_epi16(d, r[1][k].d, 4);
        d = _mm_insert_epi16(d, r[3][k].d, 5);
        d = _mm_insert_epi16(d, r[5][k].d, 6);
        d = _mm_insert_epi16(d, r[7][k].d, 7);
        const __m256 scale = _mm256_mul_ps(_mm256_cvtph_ps(d), _mm256_set1_ps(half_to_float(b[k].d)));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), scale, acc);
    }
    _mm256_storeu_ps(out, _mm256_permutevar8x32_ps(acc, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

const MatKernels *ref_of(uint32_t t) { return ref::mat_kernels(t); }

// Q8_0 activations, byte for byte as the reference encodes them: the same
// largest magnitude (maxps keeps the running maximum when a value is NaN, as
// std::max does), the same scalar scale and inverse, products rounded half
// to even, non-finite products stored as 0.
LMRT_AVX2 void quantize_q8_0(const float *x, void *dst, int64_t n) {
    auto *y = static_cast<BlockQ8_0 *>(dst);
    const __m256 sign = _mm256_set1_ps(-0.0f), inf = _mm256_set1_ps(INFINITY);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t b = 0; b < n / 32; ++b, x += 32) {
        __m256 v[4];
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < 4; ++j) {
            v[j] = _mm256_loadu_ps(x + 8 * j);
            m = _mm256_max_ps(_mm256_andnot_ps(sign, v[j]), m);
        }
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        const float amax = _mm_cvtss_f32(h);
        y[b].d = fp32_to_fp16(amax / 127.0f);
        const __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
        __m256i q[4];
        for (int j = 0; j < 4; ++j) {
            const __m256 p = _mm256_mul_ps(v[j], id);
            const __m256 finite = _mm256_cmp_ps(_mm256_andnot_ps(sign, p), inf, _CMP_LT_OQ);
            q[j] = _mm256_cvtps_epi32(_mm256_and_ps(_mm256_round_ps(p, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), finite));
        }
        const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(y[b].qs), _mm256_permutevar8x32_epi32(bytes, order));
    }
}

MatKernels float_kernels(ActType act, VecDotFn dot, VecDotFn batched, decltype(MatKernels::dot_batched4) batched4,
                         decltype(MatKernels::dot_batched_3x4) batched_3x4) {
    MatKernels k{"avx2", act, nullptr, dot, nullptr, batched, batched4};
    k.dot_batched_3x4 = batched_3x4;
    return k;
}
const MatKernels kF32 = float_kernels(ActType::kF32, dot_single<float, load_f32, same_f32, float>, dot_batched<float, load_f32, same_f32>,
                                      dot_batched4<float, load_f32, same_f32>, dot_batched_3x4<float, load_f32, same_f32>);
const MatKernels kF16 =
    float_kernels(ActType::kF16, dot_single<uint16_t, load_f16, half_to_float, double>, dot_batched<uint16_t, load_f16, half_to_float>,
                  dot_batched4<uint16_t, load_f16, half_to_float>, dot_batched_3x4<uint16_t, load_f16, half_to_float>);
const MatKernels kBF16{"avx2", ActType::kBF16, nullptr, dot_half<load_bf16, bf16_to_fp32>};
const MatKernels kQ8_0{"avx2", ActType::kQ8_0, nullptr, dot_q8_0, nullptr, nullptr, nullptr, dot4_q8_0, dot_x4_q8_0};
const MatKernels kQ4_0{"avx2", ActType::kQ8_0, nullptr, dot_q4_0, nullptr, nullptr, nullptr, dot4_q4_0, dot_x4_q4_0, gemm_q4_0, dot_x8_q4_0};
const MatKernels kQ4_K{"avx2", ActType::kQ8_K, nullptr, dot_q4_k<false>, dot_q4_k<true>};
const MatKernels kQ5_K{"avx2", ActType::kQ8_K, nullptr, dot_q5_k};
const MatKernels kQ6_K{"avx2", ActType::kQ8_K, nullptr, dot_q6_k};

// The activation encoders: Q8_0's vectorised (it runs before every Q8_0 and
// Q4_0 product), the others the reference ones; and the products over
// interleaved weights.
MatKernels with_encoder(const MatKernels &k, uint32_t type) {
    MatKernels out = k;
    out.quantize = k.act == ActType::kQ8_0 ? quantize_q8_0 : ref_of(type)->quantize;
    if (type == LMRT_TYPE_Q4_0) out.gemm_interleaved = gemm_interleaved_q4_0;
    if (type == LMRT_TYPE_Q8_0) out.gemm_interleaved = gemm_interleaved_q8_0;
    if (type == LMRT_TYPE_Q4_K) out.gemm_interleaved = gemm_interleaved_q4_k;
    if (type == LMRT_TYPE_Q5_K) out.gemm_interleaved = gemm_interleaved_q5_k;
    if (type == LMRT_TYPE_Q6_K) out.gemm_interleaved = gemm_interleaved_q6_k;
    return out;
}

} // namespace

const MatKernels *mat_kernels(uint32_t weight_type) {
    static const MatKernels f32 = with_encoder(kF32, LMRT_TYPE_F32), f16 = with_encoder(kF16, LMRT_TYPE_F16),
                            bf16 = with_encoder(kBF16, LMRT_TYPE_BF16), q8_0 = with_encoder(kQ8_0, LMRT_TYPE_Q8_0),
                            q4_0 = with_encoder(kQ4_0, LMRT_TYPE_Q4_0), q4_k = with_encoder(kQ4_K, LMRT_TYPE_Q4_K),
                            q5_k = with_encoder(kQ5_K, LMRT_TYPE_Q5_K), q6_k = with_encoder(kQ6_K, LMRT_TYPE_Q6_K);
    switch (weight_type) {
    case LMRT_TYPE_F32: return &f32;
    case LMRT_TYPE_F16: return &f16;
    case LMRT_TYPE_BF16: return &bf16;
    case LMRT_TYPE_Q8_0: return &q8_0;
    case LMRT_TYPE_Q4_0: return &q4_0;
    case LMRT_TYPE_Q4_K: return &q4_k;
    case LMRT_TYPE_Q5_K: return &q5_k;
    case LMRT_TYPE_Q6_K: return &q6_k;
    default: return nullptr;
    }
}

} // namespace lmrt::kernels::avx2
