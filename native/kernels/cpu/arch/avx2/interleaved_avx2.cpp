// AVX2 products over interleaved weights (kernels/interleave.h). A vector
// load takes the same 4 bytes of 8 weight rows, so each lane is one weight
// row and keeps its own chain, summed exactly as the single-row kernel sums
// that row; the activations' 4-byte groups are broadcast to all lanes.
#include <immintrin.h>

#include <algorithm>

#include "../../../../core/quant.h"
#include "../../../interleave.h"
#include "avx2.h"

namespace lmrt::kernels::avx2 {

namespace {

LMRT_AVX2 inline __m256i load(const void *p) { return _mm256_loadu_si256(static_cast<const __m256i *>(p)); }
// vbroadcastss: a load alone, where vpbroadcastd also takes a shuffle
LMRT_AVX2 inline __m256i broadcast4(const void *p) { return _mm256_castps_si256(_mm256_broadcast_ss(static_cast<const float *>(p))); }
// Every cache line of the group block about kPrefetchBytes ahead of g.
constexpr size_t kPrefetchBytes = 1024;
template <typename Group>
LMRT_AVX2 inline void prefetch_ahead(const Group *g) {
    const Group *ahead = g + std::max<size_t>(1, (kPrefetchBytes + sizeof(Group) / 2) / sizeof(Group));
    for (size_t i = 0; i < sizeof(Group); i += 64) _mm_prefetch(reinterpret_cast<const char *>(ahead) + i, _MM_HINT_T0);
}

LMRT_AVX2 inline __m256 scales(const uint16_t d[8]) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(d))); }

// 8 weight rows against R activation rows: y[t][r] = row r . row t. Per
// lane, a block's exact integer dot product (the weights' unsigned nibbles
// against the signed activations: 8 products of at most 2 * 15 * 127 per
// int16 lane, no overflow; the offset of 8 comes back out through the
// activations' block sums), then fma(sum, weight scale * activation scale,
// acc) in block order, as dot_q4_0 sums a row.
template <int R>
LMRT_AVX2 void q4_0_rows(int64_t nb, const Q4_0Group *w, const BlockQ8_0 *const x[R], const Q8BlockInfo *const info[R], float *const y[R]) {
    const __m256i nibble = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    __m256 acc[R];
    LMRT_UNROLL for (int t = 0; t < R; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t k = 0; k < nb; ++k) {
        // a hint a few blocks ahead: the stream outruns the hardware prefetcher when both cores read
        prefetch_ahead(w + k);
        __m256i s[R];
        LMRT_UNROLL for (int t = 0; t < R; ++t) s[t] = _mm256_setzero_si256();
        LMRT_UNROLL for (int j = 0; j < 4; ++j) {
            const __m256i v = load(w[k].qs[j]);
            const __m256i lo = _mm256_and_si256(v, nibble), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
            LMRT_UNROLL for (int t = 0; t < R; ++t) {
                __m256i part = _mm256_add_epi16(s[t], _mm256_maddubs_epi16(lo, broadcast4(x[t][k].qs + 4 * j)));
                part = _mm256_add_epi16(part, _mm256_maddubs_epi16(hi, broadcast4(x[t][k].qs + 16 + 4 * j)));
                opaque(part);
                s[t] = part;
            }
        }
        const __m256 wd = scales(w[k].d);
        LMRT_UNROLL for (int t = 0; t < R; ++t) {
            const __m256i sum = _mm256_sub_epi32(_mm256_madd_epi16(s[t], ones), _mm256_slli_epi32(broadcast4(&info[t][k].sum), 3));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_mul_ps(wd, _mm256_broadcast_ss(&info[t][k].d)), acc[t]);
        }
    }
    LMRT_UNROLL for (int t = 0; t < R; ++t) _mm256_storeu_ps(y[t], acc[t]);
}

// 8 weight rows against one activation row. dot_q8_0 keeps 8 lanes per row
// (lane j: values 4j..4j+3 of every block) and sums them at the end in
// hsum8's order; here lane j of a row is lane r of acc[j].
LMRT_AVX2 void q8_0_row(int64_t nb, const Q8_0Group *w, const BlockQ8_0 *x, const Q8BlockInfo *info, float *y) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[8];
    LMRT_UNROLL for (auto &a : acc) a = _mm256_setzero_ps();
    for (int64_t k = 0; k < nb; ++k) {
        prefetch_ahead(w + k);
        const __m256 d = _mm256_mul_ps(scales(w[k].d), _mm256_broadcast_ss(&info[k].d));
        LMRT_UNROLL for (int j = 0; j < 8; ++j) {
            const __m256i v = load(w[k].qs[j]);
            const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(v, v), _mm256_sign_epi8(broadcast4(x[k].qs + 4 * j), v)), ones);
            acc[j] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc[j]);
        }
    }
    const __m256 sum = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(acc[4], acc[0]), _mm256_add_ps(acc[6], acc[2])),
                                     _mm256_add_ps(_mm256_add_ps(acc[5], acc[1]), _mm256_add_ps(acc[7], acc[3])));
    _mm256_storeu_ps(y, sum);
}

// The int16 pair of each 32-bit lane set to its first (second) element:
// a sub-block's scale for both halves of a lane's products.
LMRT_AVX2 inline __m256i first_of_pairs(__m256i v) {
    return _mm256_shuffle_epi8(v, _mm256_setr_epi8(0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13, 0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12,
                                                   13, 12, 13));
}
LMRT_AVX2 inline __m256i second_of_pairs(__m256i v) {
    return _mm256_shuffle_epi8(v, _mm256_setr_epi8(2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15, 2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10,
                                                   11, 14, 15, 14, 15));
}

// The activations' sums of each pair of sub-blocks (32 values each) of a
// block, as int16 pairs (at most 2 * 32 * 128): pairs 0 and 1 in lanes 0
// and 1, pairs 2 and 3 in lanes 4 and 5 (hadd_epi16 adds within halves).
LMRT_AVX2 inline __m256i pair_sums(const BlockQ8_K &b) {
    const __m256i bsums = load(b.bsums);
    return _mm256_hadd_epi16(bsums, bsums);
}
// The scales (minimums) of pair c of every row, widened: one int16 pair per lane.
LMRT_AVX2 inline __m256i widened_pair(const uint8_t (*pair)[2]) {
    return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(pair)));
}
// Per lane, pair c's two minimums times the activations' sums of its two sub-blocks.
LMRT_AVX2 inline __m256i pair_mins(__m256i mins, __m256i sums, int c) {
    return _mm256_madd_epi16(mins, _mm256_permutevar8x32_epi32(sums, _mm256_set1_epi32(c < 2 ? c : c + 2)));
}

// 8 Q4_K weight rows against R activation rows. Per lane (a weight row),
// each sub-block's exact integer dot product times its scale, and the
// minimums times the activations' sub-block sums, as dot_q4_k sums them:
// Grouped (a batch's rows, llama.cpp's GEMM order) folds them into the two
// float sums per pair of sub-blocks, otherwise per block; the result is
// their difference. A pair of sub-blocks' scales (minimums) is one int16
// pair per lane: one madd applies both minimums to the pair's activation
// sums, held as an int16 pair too.
template <bool Grouped, int R>
LMRT_AVX2 void q4_k_rows(int64_t nb, const Q4_KGroup *w, const BlockQ8_K *const x[R], float *const y[R]) {
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    __m256 scaled[R], offsets[R];
    LMRT_UNROLL for (int t = 0; t < R; ++t) scaled[t] = offsets[t] = _mm256_setzero_ps();
    for (int64_t k = 0; k < nb; ++k) {
        prefetch_ahead(w + k);
        __m256i block_sum[R], block_mins[R], sums[R];
        LMRT_UNROLL for (int t = 0; t < R; ++t) {
            block_sum[t] = block_mins[t] = _mm256_setzero_si256();
            sums[t] = pair_sums(x[t][k]);
        }
        LMRT_UNROLL for (int c = 0; c < 4; ++c) {
            __m256i s_lo[R], s_hi[R];
            LMRT_UNROLL for (int t = 0; t < R; ++t) s_lo[t] = s_hi[t] = _mm256_setzero_si256();
            LMRT_UNROLL for (int j = 0; j < 8; ++j) {
                const __m256i v = load(w[k].qs[c][j]);
                const __m256i lo = _mm256_and_si256(v, nibble), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
                LMRT_UNROLL for (int t = 0; t < R; ++t) {
                    // at most 8 * 2 * 15 * 128 per int16 lane: no overflow
                    __m256i part_lo = _mm256_add_epi16(s_lo[t], _mm256_maddubs_epi16(lo, broadcast4(x[t][k].qs + 64 * c + 4 * j)));
                    __m256i part_hi = _mm256_add_epi16(s_hi[t], _mm256_maddubs_epi16(hi, broadcast4(x[t][k].qs + 64 * c + 32 + 4 * j)));
                    opaque(part_lo);
                    opaque(part_hi);
                    s_lo[t] = part_lo;
                    s_hi[t] = part_hi;
                }
            }
            const __m256i sc = widened_pair(w[k].sc[c]), mn = widened_pair(w[k].mn[c]);
            const __m256i sc_lo = first_of_pairs(sc), sc_hi = second_of_pairs(sc);
            LMRT_UNROLL for (int t = 0; t < R; ++t) {
                const BlockQ8_K &b = x[t][k];
                const __m256i pair = _mm256_add_epi32(_mm256_madd_epi16(s_lo[t], sc_lo), _mm256_madd_epi16(s_hi[t], sc_hi));
                const __m256i mins = pair_mins(mn, sums[t], c);
                if (Grouped) {
                    scaled[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pair), _mm256_mul_ps(scales(w[k].d), _mm256_set1_ps(b.d)), scaled[t]);
                    offsets[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_mul_ps(scales(w[k].dmin), _mm256_set1_ps(b.d)), offsets[t]);
                } else {
                    block_sum[t] = _mm256_add_epi32(block_sum[t], pair);
                    block_mins[t] = _mm256_add_epi32(block_mins[t], mins);
                }
            }
        }
        if (!Grouped) {
            LMRT_UNROLL for (int t = 0; t < R; ++t) {
                const float bd = x[t][k].d;
                scaled[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(block_sum[t]), _mm256_mul_ps(scales(w[k].d), _mm256_set1_ps(bd)), scaled[t]);
                offsets[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(block_mins[t]), _mm256_mul_ps(scales(w[k].dmin), _mm256_set1_ps(bd)), offsets[t]);
            }
        }
    }
    LMRT_UNROLL for (int t = 0; t < R; ++t) _mm256_storeu_ps(y[t], _mm256_sub_ps(scaled[t], offsets[t]));
}

// 8 Q5_K weight rows against R activation rows, as dot_q5_k sums a row: per
// block, the exact integer sum of each sub-block's 5-bit codes times the
// activations times its scale, and of the minimums times the activations'
// sub-block sums; then sum += d * that - dmin * those. The fifth bits come
// from qh (bit 2c, 2c + 1) moved to bit 4; 5-bit codes fold into int32
// every four steps (4 * 2 * 31 * 128 per int16 lane at most). The inner
// loop is q4_k_rows's written out again: a helper taking the accumulator
// arrays left them in memory (both kernels measured about 35% slower).
template <int R>
LMRT_AVX2 void q5_k_rows(int64_t nb, const Q5_KGroup *w, const BlockQ8_K *const x[R], float *const y[R]) {
    const __m256i nibble = _mm256_set1_epi8(0x0F), fifth = _mm256_set1_epi8(0x10);
    __m256 sum[R];
    LMRT_UNROLL for (int t = 0; t < R; ++t) sum[t] = _mm256_setzero_ps();
    for (int64_t k = 0; k < nb; ++k) {
        prefetch_ahead(w + k);
        __m256i block_sum[R], block_mins[R], sums[R];
        LMRT_UNROLL for (int t = 0; t < R; ++t) {
            block_sum[t] = block_mins[t] = _mm256_setzero_si256();
            sums[t] = pair_sums(x[t][k]);
        }
        LMRT_UNROLL for (int c = 0; c < 4; ++c) {
            const __m256i sc = widened_pair(w[k].sc[c]), mn = widened_pair(w[k].mn[c]);
            const __m256i sc_lo = first_of_pairs(sc), sc_hi = second_of_pairs(sc);
            LMRT_UNROLL for (int half = 0; half < 2; ++half) {
                __m256i s_lo[R], s_hi[R];
                LMRT_UNROLL for (int t = 0; t < R; ++t) s_lo[t] = s_hi[t] = _mm256_setzero_si256();
                LMRT_UNROLL for (int j = 4 * half; j < 4 * half + 4; ++j) {
                    const __m256i v = load(w[k].qs[c][j]), h = load(w[k].qh[j]);
                    // bit 2c (2c + 1) of h to bit 4: 16-bit shifts, the neighbour bytes' bits masked off
                    const __m256i h_lo = 2 * c <= 4 ? _mm256_slli_epi16(h, 4 - 2 * c) : _mm256_srli_epi16(h, 2 * c - 4);
                    const __m256i h_hi = 2 * c + 1 <= 4 ? _mm256_slli_epi16(h, 3 - 2 * c) : _mm256_srli_epi16(h, 2 * c - 3);
                    const __m256i lo = _mm256_or_si256(_mm256_and_si256(v, nibble), _mm256_and_si256(h_lo, fifth));
                    const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), nibble), _mm256_and_si256(h_hi, fifth));
                    LMRT_UNROLL for (int t = 0; t < R; ++t) {
                        __m256i part_lo = _mm256_add_epi16(s_lo[t], _mm256_maddubs_epi16(lo, broadcast4(x[t][k].qs + 64 * c + 4 * j)));
                        __m256i part_hi = _mm256_add_epi16(s_hi[t], _mm256_maddubs_epi16(hi, broadcast4(x[t][k].qs + 64 * c + 32 + 4 * j)));
                        opaque(part_lo);
                        opaque(part_hi);
                        s_lo[t] = part_lo;
                        s_hi[t] = part_hi;
                    }
                }
                LMRT_UNROLL for (int t = 0; t < R; ++t) {
                    block_sum[t] = _mm256_add_epi32(block_sum[t],
                                                    _mm256_add_epi32(_mm256_madd_epi16(s_lo[t], sc_lo), _mm256_madd_epi16(s_hi[t], sc_hi)));
                }
            }
            LMRT_UNROLL for (int t = 0; t < R; ++t) {
                block_mins[t] = _mm256_add_epi32(block_mins[t], pair_mins(mn, sums[t], c));
            }
        }
        LMRT_UNROLL for (int t = 0; t < R; ++t) {
            const __m256 bd = _mm256_set1_ps(x[t][k].d);
            const __m256 d = _mm256_mul_ps(bd, scales(w[k].d)), dmin = _mm256_mul_ps(bd, scales(w[k].dmin));
            sum[t] = _mm256_add_ps(sum[t], _mm256_sub_ps(_mm256_mul_ps(d, _mm256_cvtepi32_ps(block_sum[t])),
                                                          _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(block_mins[t]))));
        }
    }
    LMRT_UNROLL for (int t = 0; t < R; ++t) _mm256_storeu_ps(y[t], sum[t]);
}

// 8 Q6_K weight rows against one activation row, as dot_q6_k sums a row:
// per block, the exact integer sum of each group of 16 values (unsigned
// 6-bit codes times the activations) times its scale, less 32 times the
// scales times the activations' group sums; then sum += d * that, a
// multiply and an add. Each quarter's two groups share one load of their
// scales (a pair per row lane): one madd applies the two groups' scales to
// the group sums, and each group's scale, copied into both halves of the
// lane, multiplies its partial sums in one madd.
LMRT_AVX2 void q6_k_row(int64_t nb, const Q6_KGroup *w, const BlockQ8_K *x, float *y) {
    const __m256i six = _mm256_set1_epi8(0x3F), low = _mm256_set1_epi8(0x0F), high = _mm256_set1_epi8(0x30);
    __m256 sum = _mm256_setzero_ps();
    for (int64_t k = 0; k < nb; ++k) {
        prefetch_ahead(w + k);
        const BlockQ8_K &b = x[k];
        const Q6_KGroup &g = w[k];
        __m256i acc = _mm256_setzero_si256(), offset = _mm256_setzero_si256();
        LMRT_UNROLL for (int h = 0; h < 2; ++h) {
            // the four quarters of the half, 32 values each; group of 16 values: 8h + 2 * quarter + j / 4
            __m256i part[4][2];
            LMRT_UNROLL for (int q = 0; q < 4; ++q) part[q][0] = part[q][1] = _mm256_setzero_si256();
            LMRT_UNROLL for (int j = 0; j < 8; ++j) {
                // the three planes (interleave.h); 16-bit shifts carry a neighbour byte's bits, masked off
                const __m256i pa = load(g.codes[h][j][0]), pb = load(g.codes[h][j][1]), pc = load(g.codes[h][j][2]);
                const __m256i q[4] = {
                    _mm256_and_si256(pa, six),
                    _mm256_and_si256(pb, six),
                    _mm256_or_si256(_mm256_and_si256(pc, low), _mm256_and_si256(_mm256_srli_epi16(pa, 2), high)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(pc, 4), low), _mm256_and_si256(_mm256_srli_epi16(pb, 2), high)),
                };
                LMRT_UNROLL for (int quarter = 0; quarter < 4; ++quarter) {
                    // two products of at most 63 * 128 per int16 lane, two of them added: no overflow
                    const __m256i p = _mm256_maddubs_epi16(q[quarter], broadcast4(b.qs + 128 * h + 32 * quarter + 4 * j));
                    __m256i &half = part[quarter][(j / 2) % 2];
                    half = (j % 2 == 0) ? p : _mm256_add_epi16(half, p);
                    if (j % 2 == 1) {
                        // fold each pair of j into int32 as soon as it is complete; the pair's group is j / 4
                        const int pair = 4 * h + quarter;
                        const __m256i scales = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(g.sc[pair])));
                        const __m256i sc = j < 4 ? first_of_pairs(scales) : second_of_pairs(scales);
                        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(half, sc));
                        if (j == 7) offset = _mm256_add_epi32(offset, _mm256_madd_epi16(scales, broadcast4(b.bsums + 2 * pair)));
                    }
                }
            }
        }
        const __m256 d = _mm256_mul_ps(_mm256_set1_ps(b.d), scales(g.d));
        sum = _mm256_add_ps(sum, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_sub_epi32(acc, _mm256_slli_epi32(offset, 5)))));
    }
    _mm256_storeu_ps(y, sum);
}

// Groups are taken in tiles that stay in L2 while every activation row
// passes over them (measured: 64 KiB keeps them there while a long batch's
// activations stream through L2 too; 256 KiB lost 15% at 256 rows).
template <typename Group, typename Rows>
LMRT_AVX2 void tiled(int64_t nb, const uint8_t *w, int64_t groups, int64_t T, int64_t rows_at_once, Rows rows) {
    const size_t group_bytes = static_cast<size_t>(nb) * sizeof(Group);
    const int64_t tile = std::max<int64_t>(1, static_cast<int64_t>((64 * 1024) / group_bytes));
    for (int64_t g0 = 0; g0 < groups; g0 += tile) {
        const int64_t g1 = std::min(groups, g0 + tile);
        for (int64_t t = 0; t < T; t += rows_at_once) {
            for (int64_t g = g0; g < g1; ++g) rows(reinterpret_cast<const Group *>(w + static_cast<size_t>(g) * group_bytes), g, t);
        }
    }
}

} // namespace

LMRT_AVX2 void gemm_interleaved_q4_0(int64_t n, const uint8_t *w, int64_t groups, const uint8_t *act, size_t act_bytes, const Q8BlockInfo *info,
                                     int64_t T, const RowOrder *, float *y, int64_t y_stride) {
    const int64_t nb = n / 32;
    tiled<Q4_0Group>(nb, w, groups, T, 4, [&](const Q4_0Group *g, int64_t gi, int64_t t0) LMRT_AVX2 {
        const BlockQ8_0 *x[4];
        const Q8BlockInfo *rows_info[4];
        float *out[4];
        const int64_t R = std::min<int64_t>(4, T - t0);
        for (int64_t i = 0; i < R; ++i) {
            x[i] = reinterpret_cast<const BlockQ8_0 *>(act + static_cast<size_t>(t0 + i) * act_bytes);
            rows_info[i] = info + (t0 + i) * nb;
            out[i] = y + (t0 + i) * y_stride + 8 * gi;
        }
        switch (R) {
        case 1: q4_0_rows<1>(nb, g, x, rows_info, out); break;
        case 2: q4_0_rows<2>(nb, g, x, rows_info, out); break;
        case 3: q4_0_rows<3>(nb, g, x, rows_info, out); break;
        default: q4_0_rows<4>(nb, g, x, rows_info, out); break;
        }
    });
}

LMRT_AVX2 void gemm_interleaved_q8_0(int64_t n, const uint8_t *w, int64_t groups, const uint8_t *act, size_t act_bytes, const Q8BlockInfo *info,
                                     int64_t T, const RowOrder *, float *y, int64_t y_stride) {
    const int64_t nb = n / 32;
    tiled<Q8_0Group>(nb, w, groups, T, 1, [&](const Q8_0Group *g, int64_t gi, int64_t t) LMRT_AVX2 {
        q8_0_row(nb, g, reinterpret_cast<const BlockQ8_0 *>(act + static_cast<size_t>(t) * act_bytes), info + t * nb, y + t * y_stride + 8 * gi);
    });
}

// Q4_K rows sum in one of two orders (MatKernels::dot_grouped): prompt rows
// as llama.cpp's GEMM does, decoded rows as its single-row kernel.
LMRT_AVX2 void gemm_interleaved_q4_k(int64_t n, const uint8_t *w, int64_t groups, const uint8_t *act, size_t act_bytes, const Q8BlockInfo *,
                                     int64_t T, const RowOrder *orders, float *y, int64_t y_stride) {
    const int64_t nb = n / 256;
    tiled<Q4_KGroup>(nb, w, groups, T, 2, [&](const Q4_KGroup *g, int64_t gi, int64_t t0) LMRT_AVX2 {
        const auto row = [&](int64_t t) { return reinterpret_cast<const BlockQ8_K *>(act + static_cast<size_t>(t) * act_bytes); };
        const auto out = [&](int64_t t) { return y + t * y_stride + 8 * gi; };
        // two rows at once where both sum in the same order
        if (t0 + 1 < T && orders[t0] == orders[t0 + 1]) {
            const BlockQ8_K *x[2] = {row(t0), row(t0 + 1)};
            float *const o[2] = {out(t0), out(t0 + 1)};
            if (orders[t0] == RowOrder::kBatched) q4_k_rows<true, 2>(nb, g, x, o);
            else q4_k_rows<false, 2>(nb, g, x, o);
            return;
        }
        for (int64_t t = t0; t < std::min(T, t0 + 2); ++t) {
            const BlockQ8_K *x[1] = {row(t)};
            float *const o[1] = {out(t)};
            if (orders[t] == RowOrder::kBatched) q4_k_rows<true, 1>(nb, g, x, o);
            else q4_k_rows<false, 1>(nb, g, x, o);
        }
    });
}

LMRT_AVX2 void gemm_interleaved_q5_k(int64_t n, const uint8_t *w, int64_t groups, const uint8_t *act, size_t act_bytes, const Q8BlockInfo *,
                                     int64_t T, const RowOrder *, float *y, int64_t y_stride) {
    const int64_t nb = n / 256;
    tiled<Q5_KGroup>(nb, w, groups, T, 2, [&](const Q5_KGroup *g, int64_t gi, int64_t t0) LMRT_AVX2 {
        const auto row = [&](int64_t t) { return reinterpret_cast<const BlockQ8_K *>(act + static_cast<size_t>(t) * act_bytes); };
        const auto out = [&](int64_t t) { return y + t * y_stride + 8 * gi; };
        if (t0 + 1 < T) {
            const BlockQ8_K *x[2] = {row(t0), row(t0 + 1)};
            float *const o[2] = {out(t0), out(t0 + 1)};
            q5_k_rows<2>(nb, g, x, o);
        } else {
            const BlockQ8_K *x[1] = {row(t0)};
            float *const o[1] = {out(t0)};
            q5_k_rows<1>(nb, g, x, o);
        }
    });
}

LMRT_AVX2 void gemm_interleaved_q6_k(int64_t n, const uint8_t *w, int64_t groups, const uint8_t *act, size_t act_bytes, const Q8BlockInfo *,
                                     int64_t T, const RowOrder *, float *y, int64_t y_stride) {
    const int64_t nb = n / 256;
    tiled<Q6_KGroup>(nb, w, groups, T, 1, [&](const Q6_KGroup *g, int64_t gi, int64_t t) LMRT_AVX2 {
        q6_k_row(nb, g, reinterpret_cast<const BlockQ8_K *>(act + static_cast<size_t>(t) * act_bytes), y + t * y_stride + 8 * gi);
    });
}

} // namespace lmrt::kernels::avx2
