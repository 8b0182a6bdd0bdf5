// AVX-512 dot products, bit-identical to the AVX2 ones (see avx512.h).
// Integer formats: unsigned x signed byte products (maddubs) summed to
// int32, two 32-element blocks (or a K-quant sub-block pair) per register.
#include <immintrin.h>

#include <cmath>

#include "../../../../core/half.h"
#include "../../../../core/quant.h"
#include "../avx2/avx2.h"
#include "../k_quant_sums.h"
#include "avx512.h"

namespace lmrt::kernels::avx512 {

namespace {

LMRT_AVX512 inline __m256 lo_half(__m512 v) { return _mm512_castps512_ps256(v); }
LMRT_AVX512 inline __m256 hi_half(__m512 v) { return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)); }

LMRT_AVX512 inline __m512 load_f32(const float *p) { return _mm512_loadu_ps(p); }
inline float same_f32(float v) { return v; }
LMRT_AVX512 inline __m512 load_f16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p))); }
LMRT_AVX512 inline __m512 load_bf16(const uint16_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p))), 16));
}
LMRT_AVX512 inline __m256 load_bf16x8(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p))), 16));
}

// A single row in ggml's plain order: the AVX2 kernel's four 8-lane
// accumulators over 32-element steps are two 16-lane ones here, folded
// ((a0 + a2) + (a1 + a3)) the same way; the tail is summed in Tail.
template <typename T, __m512 (*Load)(const T *), float (*Scalar)(T), typename Tail>
LMRT_AVX512 float dot_single(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const T *>(w);
    const auto *b = static_cast<const T *>(x);
    __m512 acc01 = _mm512_setzero_ps(), acc23 = _mm512_setzero_ps();
    const int64_t np = n & ~int64_t{31};
    for (int64_t i = 0; i < np; i += 32) {
        acc01 = _mm512_fmadd_ps(Load(a + i), Load(b + i), acc01);
        acc23 = _mm512_fmadd_ps(Load(a + i + 16), Load(b + i + 16), acc23);
    }
    const __m512 pairs = _mm512_add_ps(acc01, acc23); // [a0 + a2 | a1 + a3]
    const __m256 folded = _mm256_add_ps(lo_half(pairs), hi_half(pairs));
    const __m128 t = _mm_add_ps(_mm256_castps256_ps128(folded), _mm256_extractf128_ps(folded, 1));
    const __m128 h = _mm_hadd_ps(t, t);
    Tail sum = _mm_cvtss_f32(_mm_hadd_ps(h, h));
    for (int64_t i = np; i < n; ++i) sum += static_cast<Tail>(Scalar(a[i]) * Scalar(b[i]));
    return static_cast<float>(sum);
}

// BF16 rows: the AVX2 kernel's two 8-lane accumulators over 16-element steps
// are one 16-lane one here.
LMRT_AVX512 float dot_bf16(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const uint16_t *>(w);
    const auto *b = static_cast<const uint16_t *>(x);
    __m512 acc = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) acc = _mm512_fmadd_ps(load_bf16(a + i), load_bf16(b + i), acc);
    __m256 acc0 = lo_half(acc);
    if (i + 8 <= n) {
        acc0 = _mm256_fmadd_ps(load_bf16x8(a + i), load_bf16x8(b + i), acc0);
        i += 8;
    }
    float sum = avx2::hsum8(_mm256_add_ps(acc0, hi_half(acc)));
    for (; i < n; ++i) sum += bf16_to_fp32(a[i]) * bf16_to_fp32(b[i]);
    return sum;
}

// Sum of products of 64 signed bytes, as 16 int32 lanes (4 bytes each).
LMRT_AVX512 inline __m512i dot_i8(__m512i a, __m512i b) {
    const __m512i abs_a = _mm512_abs_epi8(a);
    const __m512i signed_b = _mm512_mask_sub_epi8(b, _mm512_movepi8_mask(a), _mm512_setzero_si512(), b);
    return _mm512_madd_epi16(_mm512_maddubs_epi16(abs_a, signed_b), _mm512_set1_epi16(1));
}

LMRT_AVX512 inline __m256i load256(const void *p) { return _mm256_loadu_si256(static_cast<const __m256i *>(p)); }

LMRT_AVX512 inline __m256i q8_0_values(const BlockQ8_0 &b) { return load256(b.qs); }
LMRT_AVX512 inline __m256i q4_0_values(const BlockQ4_0 &b) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i *>(b.qs));
    // elements 0..15 are the low nibbles, 16..31 the high ones
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
    return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

// Blocks k and k+1 (or block k and zeros when k is the last) against Q8_0
// activations: each block's integer products as 8 int32 lanes of one half.
template <typename Block, __m256i (*Values)(const Block &)>
LMRT_AVX512 __m512i block_pair(const Block *a, const BlockQ8_0 *b, int64_t k, bool both) {
    const __m256i zero = _mm256_setzero_si256();
    return dot_i8(join(Values(a[k]), both ? Values(a[k + 1]) : zero), join(load256(b[k].qs), both ? load256(b[k + 1].qs) : zero));
}

// Q8_0: per block, the scale product times its 8 lanes into one 8-lane
// accumulator, block after block, as the AVX2 kernel does.
LMRT_AVX512 float dot_q8_0(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ8_0 *>(w);
    const auto *b = static_cast<const BlockQ8_0 *>(x);
    const int64_t nb = n / 32;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t k = 0; k < nb; k += 2) {
        const __m512 sums = _mm512_cvtepi32_ps(block_pair<BlockQ8_0, q8_0_values>(a, b, k, k + 1 < nb));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(avx2::half_to_float(a[k].d) * avx2::half_to_float(b[k].d)), lo_half(sums), acc);
        if (k + 1 < nb) acc = _mm256_fmadd_ps(_mm256_set1_ps(avx2::half_to_float(a[k + 1].d) * avx2::half_to_float(b[k + 1].d)), hi_half(sums), acc);
    }
    return avx2::hsum8(acc);
}

// The sums of the 8 int32 lanes of each half: [lo, hi].
LMRT_AVX512 inline void half_sums(__m512i v, int out[2]) {
    const __m256i lo = _mm512_castsi512_si256(v), hi = _mm512_extracti64x4_epi64(v, 1);
    // the two halves side by side, folded to 2 + 2 lanes, then to 1 + 1
    __m256i s = _mm256_hadd_epi32(lo, hi);      // lo pairs | hi pairs, per 128-bit lane
    s = _mm256_hadd_epi32(s, s);
    const __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    out[0] = _mm_cvtsi128_si32(t);
    out[1] = _mm_extract_epi32(t, 1);
}

// Q4_0: per block, its exact integer sum times the scale product, one fused
// multiply-add per block in order (the AVX2 kernel's, llama.cpp's repacked order).
LMRT_AVX512 float dot_q4_0(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ4_0 *>(w);
    const auto *b = static_cast<const BlockQ8_0 *>(x);
    const int64_t nb = n / 32;
    float acc = 0.0f;
    for (int64_t k = 0; k < nb; k += 2) {
        int sums[2];
        half_sums(block_pair<BlockQ4_0, q4_0_values>(a, b, k, k + 1 < nb), sums);
        acc = std::fma(static_cast<float>(sums[0]), avx2::half_to_float(a[k].d) * avx2::half_to_float(b[k].d), acc);
        if (k + 1 < nb) acc = std::fma(static_cast<float>(sums[1]), avx2::half_to_float(a[k + 1].d) * avx2::half_to_float(b[k + 1].d), acc);
    }
    return acc;
}

// Unsigned weights (< 64) times signed activations over 64 elements, each
// 32-element half weighted by its own int16 scale: 16 int32 lanes.
LMRT_AVX512 inline __m512i scaled_dot_u8(__m512i q, __m512i x, __m512i scales16) {
    return _mm512_madd_epi16(_mm512_maddubs_epi16(q, x), scales16);
}

LMRT_AVX512 inline __m512i two_scales(int lo, int hi) {
    return join(_mm256_set1_epi16(static_cast<int16_t>(lo)), _mm256_set1_epi16(static_cast<int16_t>(hi)));
}

// The 32 bytes of chunk c of a Q4_K/Q5_K block as sub-blocks 2c (low
// nibbles) and 2c+1 (high nibbles), which is how the activations lie.
LMRT_AVX512 inline __m512i nibble_pair(const uint8_t *qs, int c) {
    const __m256i low = _mm256_set1_epi8(0x0F);
    const __m256i q = load256(qs + 32 * c);
    return join(_mm256_and_si256(q, low), _mm256_and_si256(_mm256_srli_epi16(q, 4), low));
}


// Q4_K in the AVX2 kernel's orders: exact integer sums per block (single
// row) or per sub-block pair (Grouped), each folded in with a fused
// multiply-add, scaled products and minimums apart.
template <bool Grouped>
LMRT_AVX512 float dot_q4_k(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ4_K *>(w);
    const auto *b = static_cast<const BlockQ8_K *>(x);
    float scaled = 0.0f, offsets = 0.0f;
    for (int64_t k = 0; k < n / 256; ++k) {
        const K4Scales s = unpack_k4_scales(a[k].scales);
        const float d = avx2::half_to_float(a[k].d) * b[k].d, dmin = avx2::half_to_float(a[k].dmin) * b[k].d;
        __m512i products = _mm512_setzero_si512();
        int mins = 0;
        for (int c = 0; c < 4; ++c) {
            const __m512i xv = _mm512_loadu_si512(b[k].qs + 64 * c);
            const __m512i pair = scaled_dot_u8(nibble_pair(a[k].qs, c), xv, two_scales(s.sc[2 * c], s.sc[2 * c + 1]));
            if (Grouped) {
                scaled = std::fma(static_cast<float>(_mm512_reduce_add_epi32(pair)), d, scaled);
                offsets = std::fma(static_cast<float>(k4_pair_mins(b[k], s, c)), dmin, offsets);
            } else {
                products = _mm512_add_epi32(products, pair);
                mins += k4_pair_mins(b[k], s, c);
            }
        }
        if (!Grouped) {
            scaled = std::fma(static_cast<float>(_mm512_reduce_add_epi32(products)), d, scaled);
            offsets = std::fma(static_cast<float>(mins), dmin, offsets);
        }
    }
    return scaled - offsets;
}

LMRT_AVX512 float dot_q5_k(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ5_K *>(w);
    const auto *b = static_cast<const BlockQ8_K *>(x);
    const __m512i sixteen = _mm512_set1_epi8(16);
    float sum = 0.0f;
    for (int64_t k = 0; k < n / 256; ++k) {
        const K4Scales s = unpack_k4_scales(a[k].scales);
        const int mins = k4_mins(b[k], s);
        const __m256i qh = load256(a[k].qh);
        const __m512i qh2 = join(qh, qh);
        __m512i acc = _mm512_setzero_si512();
        for (int c = 0; c < 4; ++c) {
            // fifth bits: bit 2c for the low-nibble sub-block, 2c+1 for the high one
            const __m512i bits = join(_mm256_set1_epi8(static_cast<char>(1 << (2 * c))), _mm256_set1_epi8(static_cast<char>(2 << (2 * c))));
            const __m512i low4 = nibble_pair(a[k].qs, c);
            const __m512i q = _mm512_mask_add_epi8(low4, _mm512_test_epi8_mask(qh2, bits), low4, sixteen);
            const __m512i xv = _mm512_loadu_si512(b[k].qs + 64 * c);
            acc = _mm512_add_epi32(acc, scaled_dot_u8(q, xv, two_scales(s.sc[2 * c], s.sc[2 * c + 1])));
        }
        const float d = b[k].d * avx2::half_to_float(a[k].d);
        const float dmin = b[k].d * avx2::half_to_float(a[k].dmin);
        sum += d * static_cast<float>(_mm512_reduce_add_epi32(acc)) - dmin * static_cast<float>(mins);
    }
    return sum;
}

// int16 lane j of a 64-element product takes the scale of its 16-element
// group, j / 8; the second register of a half starts four groups later.
alignas(64) constexpr int16_t kGroupOfLane[32] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                                  2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};

LMRT_AVX512 float dot_q6_k(int64_t n, const void *w, const void *x) {
    const auto *a = static_cast<const BlockQ6_K *>(w);
    const auto *b = static_cast<const BlockQ8_K *>(x);
    const __m512i low = _mm512_set1_epi8(0x0F), three = _mm512_set1_epi8(3);
    const __m512i group = _mm512_load_si512(kGroupOfLane);
    // the two high bits of the first register's halves sit at bits 0 and 2
    // of qh, the second's at bits 4 and 6
    const __m512i shift_a = join(_mm256_set1_epi16(0), _mm256_set1_epi16(2));
    const __m512i shift_b = join(_mm256_set1_epi16(4), _mm256_set1_epi16(6));
    float sum = 0.0f;
    for (int64_t k = 0; k < n / 256; ++k) {
        // values are q - 32 with q in [0, 63]: sum q*x, then take 32 * sum x back out
        int offset = 0;
        for (int g = 0; g < 16; ++g) offset += a[k].scales[g] * b[k].bsums[g];
        const __m512i scales16 =
            _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(a[k].scales))), 0);
        __m512i acc = _mm512_setzero_si512();
        for (int h = 0; h < 2; ++h) {
            const __m512i l = _mm512_loadu_si512(a[k].ql + 64 * h);
            const __m256i hi = load256(a[k].qh + 32 * h);
            const __m512i hi2 = join(hi, hi);
            const __m512i qa = _mm512_or_si512(_mm512_and_si512(l, low), _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(hi2, shift_a), three), 4));
            const __m512i qb = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), low),
                                               _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(hi2, shift_b), three), 4));
            const __m512i first = _mm512_add_epi16(group, _mm512_set1_epi16(static_cast<int16_t>(8 * h)));
            const __m512i second = _mm512_add_epi16(first, _mm512_set1_epi16(4));
            const int8_t *xq = b[k].qs + 128 * h;
            acc = _mm512_add_epi32(acc, scaled_dot_u8(qa, _mm512_loadu_si512(xq), _mm512_permutexvar_epi16(first, scales16)));
            acc = _mm512_add_epi32(acc, scaled_dot_u8(qb, _mm512_loadu_si512(xq + 64), _mm512_permutexvar_epi16(second, scales16)));
        }
        const float d = b[k].d * avx2::half_to_float(a[k].d);
        sum += d * static_cast<float>(_mm512_reduce_add_epi32(acc) - 32 * offset);
    }
    return sum;
}

// The AVX2 table with this variant's kernels put in: the encoders and the
// batched float products (one 8-lane chain each) stay the AVX2 ones.
MatKernels widened(uint32_t type, VecDotFn dot, VecDotFn dot_grouped = nullptr) {
    MatKernels k = *avx2::mat_kernels(type);
    k.variant = "avx512";
    k.dot = dot;
    if (dot_grouped != nullptr) k.dot_grouped = dot_grouped;
    return k;
}

} // namespace

const MatKernels *mat_kernels(uint32_t weight_type) {
    static const MatKernels f32 = widened(LMRT_TYPE_F32, dot_single<float, load_f32, same_f32, float>),
                            f16 = widened(LMRT_TYPE_F16, dot_single<uint16_t, load_f16, avx2::half_to_float, double>),
                            bf16 = widened(LMRT_TYPE_BF16, dot_bf16), q8_0 = widened(LMRT_TYPE_Q8_0, dot_q8_0),
                            q4_0 = widened(LMRT_TYPE_Q4_0, dot_q4_0), q4_k = widened(LMRT_TYPE_Q4_K, dot_q4_k<false>, dot_q4_k<true>),
                            q5_k = widened(LMRT_TYPE_Q5_K, dot_q5_k), q6_k = widened(LMRT_TYPE_Q6_K, dot_q6_k);
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

} // namespace lmrt::kernels::avx512
