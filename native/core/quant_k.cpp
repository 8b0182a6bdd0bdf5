// K-quant encoders: each sub-block's scale (and min) is searched, not just
// read off its range. For every candidate grid, a stretch of the range's
// rounding onto the integer levels, the levels are fixed and the scale (and
// offset) refitted by least squares; the fit of least squared error wins.
// The super-block then stores the sub-block scales and mins in 6 (Q4_K,
// Q5_K) or 8 (Q6_K) bits relative to its largest: of the stored codes next
// to each rounded one, the pair (or code) whose sub-block error is least,
// every element's level chosen again against it.
#include "quant_k.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "half.h"

namespace lmrt {

namespace {

// Grids tried per sub-block: the range maps onto nmax + k * kStretch levels
// for k in [-kGrids, kGrids].
constexpr int kGrids = 10;
constexpr float kStretch = 0.1f;

int nearest_int(float x) { return static_cast<int>(std::lrintf(x)); }

// nearest_int for |x| < 2^22 (the grids' levels): adding 1.5 * 2^23 leaves
// the rounded integer in the low mantissa bits, in the current (nearest
// even) rounding mode, without a conversion instruction's latency.
int nearest_small(float x) {
    const float shifted = x + 12582912.0f;
    int32_t bits;
    std::memcpy(&bits, &shifted, sizeof bits);
    return (bits & 0x007fffff) - 0x00400000;
}

// x ~ scale * q - min over q in [0, nmax] with min >= 0 (the format's min
// is subtracted), n values. (The levels are chosen again against the stored
// scales: only the fit is returned.)
struct AffineFit {
    float scale = 0.0f, min = 0.0f;
};

AffineFit fit_affine(const float *x, int n, int nmax) {
    float lo = x[0], hi = x[0];
    for (int i = 1; i < n; ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
    lo = std::min(lo, 0.0f); // a positive offset is not representable: the levels start at or below 0
    AffineFit best;
    if (!(hi > lo)) {
        best.min = -lo;
        return best;
    }
    double sum_x = 0, sum_xx = 0;
    for (int i = 0; i < n; ++i) sum_x += x[i], sum_xx += static_cast<double>(x[i]) * x[i];
    double best_err = INFINITY;
    for (int k = -kGrids; k <= kGrids; ++k) {
        const float iscale = (static_cast<float>(nmax) + kStretch * static_cast<float>(k)) / (hi - lo);
        double sq = 0, sqq = 0, sqx = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::max(0, std::min(nmax, nearest_small(iscale * (x[i] - lo))));
            sq += l, sqq += static_cast<double>(l) * l, sqx += static_cast<double>(l) * x[i];
        }
        // least squares x ~ s * q + b, then b <= 0 (b = -min)
        const double det = n * sqq - sq * sq;
        if (det <= 0) continue;
        double s = (n * sqx - sq * sum_x) / det, b = (sum_x - s * sq) / n;
        if (b > 0) b = 0, s = sqx / sqq;
        if (!(s > 0)) continue;
        const double err = sum_xx + s * s * sqq + n * b * b + 2 * s * b * sq - 2 * s * sqx - 2 * b * sum_x;
        if (err < best_err) {
            best_err = err;
            best.scale = static_cast<float>(s);
            best.min = static_cast<float>(-b);
        }
    }
    if (best_err == INFINITY) { // every grid degenerate (a single nonzero value): the range fit
        best.scale = (hi - lo) / static_cast<float>(nmax);
        best.min = -lo;
    }
    return best;
}

// x ~ scale * q over q in [-32, 31] (Q6_K), n values: the searched scale,
// negative when the extreme value is positive (the extreme maps to -32).
float fit_symmetric(const float *x, int n) {
    float amax = 0.0f, extreme = 0.0f;
    for (int i = 0; i < n; ++i) {
        if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), extreme = x[i];
    }
    if (amax == 0.0f) return 0.0f;
    double sum_xx = 0;
    for (int i = 0; i < n; ++i) sum_xx += static_cast<double>(x[i]) * x[i];
    double best_err = INFINITY;
    float best = extreme / -32.0f;
    for (int k = -kGrids; k <= kGrids; ++k) {
        const float iscale = -(32.0f + kStretch * static_cast<float>(k)) / extreme;
        double sqq = 0, sqx = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::max(-32, std::min(31, nearest_small(iscale * x[i])));
            sqq += static_cast<double>(l) * l, sqx += static_cast<double>(l) * x[i];
        }
        if (sqq <= 0) continue;
        const double s = sqx / sqq, err = sum_xx - s * sqx; // at the optimal s
        if (err < best_err) best_err = err, best = static_cast<float>(s);
    }
    return best;
}

// The squared error of 32 values at scale dj, min mj, levels in [0, nmax],
// each level the nearest (written to L when L is not null).
double sub_block_error(const float *x, float dj, float mj, int nmax, uint8_t *L) {
    double err = 0;
    for (int l = 0; l < 32; ++l) {
        const int q = dj != 0.0f ? std::max(0, std::min(nmax, nearest_int((x[l] + mj) / dj))) : 0;
        const double e = static_cast<double>(dj) * q - mj - x[l];
        err += e * e;
        if (L != nullptr) L[l] = static_cast<uint8_t>(q);
    }
    return err;
}

// Q4_K / Q5_K: the sub-block fits, their 6-bit scales and mins packed into
// scales[12] with d and dmin, and each element's level in L[256].
void encode_k_with_min(const float *x, int nmax, uint16_t *d_out, uint16_t *dmin_out, uint8_t scales[12], uint8_t L[kQK_K]) {
    float sub_scale[8], sub_min[8];
    for (int j = 0; j < 8; ++j) {
        const AffineFit f = fit_affine(x + 32 * j, 32, nmax);
        sub_scale[j] = f.scale;
        sub_min[j] = f.min;
    }
    const float max_scale = *std::max_element(sub_scale, sub_scale + 8);
    const float max_min = *std::max_element(sub_min, sub_min + 8);
    *d_out = fp32_to_fp16(max_scale / 63.0f);
    *dmin_out = fp32_to_fp16(max_min / 63.0f);
    const float d = fp16_to_fp32(*d_out), dmin = fp16_to_fp32(*dmin_out);
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
        const int s0 = d > 0.0f ? nearest_int(sub_scale[j] / d) : 0, m0 = dmin > 0.0f ? nearest_int(sub_min[j] / dmin) : 0;
        double best = INFINITY;
        for (int s = std::max(0, s0 - 1); s <= std::min(63, s0 + 1); ++s) {
            for (int m = std::max(0, m0 - 1); m <= std::min(63, m0 + 1); ++m) {
                const double err = sub_block_error(x + 32 * j, d * s, dmin * m, nmax, nullptr);
                if (err < best) best = err, ls[j] = static_cast<uint8_t>(s), lm[j] = static_cast<uint8_t>(m);
            }
        }
    }
    std::memset(scales, 0, 12);
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            scales[j] = ls[j];
            scales[j + 4] = lm[j];
        } else {
            scales[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            scales[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
            scales[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
        }
    }
    for (int j = 0; j < 8; ++j) sub_block_error(x + 32 * j, d * ls[j], dmin * lm[j], nmax, L + 32 * j);
}

} // namespace

void quantize_q4_k(const float *x, BlockQ4_K *y, uint64_t nb) {
    uint8_t L[kQK_K];
    for (uint64_t i = 0; i < nb; ++i, x += kQK_K) {
        encode_k_with_min(x, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) y[i].qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
        }
    }
}

void quantize_q5_k(const float *x, BlockQ5_K *y, uint64_t nb) {
    uint8_t L[kQK_K];
    for (uint64_t i = 0; i < nb; ++i, x += kQK_K) {
        encode_k_with_min(x, 31, &y[i].d, &y[i].dmin, y[i].scales, L);
        std::memset(y[i].qh, 0, sizeof y[i].qh);
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t lo = L[64 * c + l], hi = L[64 * c + 32 + l];
                y[i].qs[32 * c + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
                y[i].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
        }
    }
}

void quantize_q6_k(const float *x, BlockQ6_K *y, uint64_t nb) {
    int8_t L[kQK_K];
    for (uint64_t i = 0; i < nb; ++i, x += kQK_K) {
        float sub_scale[16];
        float max_scale = 0.0f, amax_scale = 0.0f;
        for (int j = 0; j < 16; ++j) {
            sub_scale[j] = fit_symmetric(x + 16 * j, 16);
            if (amax_scale < std::fabs(sub_scale[j])) amax_scale = std::fabs(sub_scale[j]), max_scale = sub_scale[j];
        }
        // the largest scale, with its sign, maps to -128
        const float iscale = max_scale != 0.0f ? -128.0f / max_scale : 0.0f;
        y[i].d = fp32_to_fp16(iscale != 0.0f ? 1.0f / iscale : 0.0f);
        const float d = fp16_to_fp32(y[i].d);
        for (int j = 0; j < 16; ++j) {
            const int s0 = nearest_int(iscale * sub_scale[j]);
            double best = INFINITY;
            for (int s = std::max(-128, s0 - 1); s <= std::min(127, s0 + 1); ++s) {
                const float dj = d * s;
                double err = 0;
                for (int l = 0; l < 16; ++l) {
                    const int q = dj != 0.0f ? std::max(-32, std::min(31, nearest_int(x[16 * j + l] / dj))) : 0;
                    const double e = static_cast<double>(dj) * q - x[16 * j + l];
                    err += e * e;
                }
                if (err < best) best = err, y[i].scales[j] = static_cast<int8_t>(s);
            }
            const float dj = d * y[i].scales[j];
            for (int l = 0; l < 16; ++l) {
                const int q = dj != 0.0f ? nearest_int(x[16 * j + l] / dj) : 0;
                L[16 * j + l] = static_cast<int8_t>(std::max(-32, std::min(31, q)));
            }
        }
        for (int h = 0; h < 2; ++h) {
            const int8_t *Lh = L + 128 * h;
            uint8_t *ql = y[i].ql + 64 * h;
            uint8_t *qh = y[i].qh + 32 * h;
            for (int l = 0; l < 32; ++l) {
                const int q1 = Lh[l] + 32, q2 = Lh[l + 32] + 32, q3 = Lh[l + 64] + 32, q4 = Lh[l + 96] + 32;
                ql[l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
                ql[l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
                qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
    }
}

void dequantize_q4_k(const BlockQ4_K *x, float *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        const float dmin = fp16_to_fp32(x[i].dmin);
        const uint8_t *q = x[i].qs;
        for (int c = 0; c < 4; ++c, q += 32) {
            uint8_t sc, m;
            unpack_scale_min_k4(2 * c, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            unpack_scale_min_k4(2 * c + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

void dequantize_q5_k(const BlockQ5_K *x, float *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        const float dmin = fp16_to_fp32(x[i].dmin);
        const uint8_t *ql = x[i].qs;
        for (int c = 0; c < 4; ++c, ql += 32) {
            uint8_t sc, m;
            unpack_scale_min_k4(2 * c, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            unpack_scale_min_k4(2 * c + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            const uint8_t u1 = static_cast<uint8_t>(1u << (2 * c)), u2 = static_cast<uint8_t>(2u << (2 * c));
            for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + ((x[i].qh[l] & u1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + ((x[i].qh[l] & u2) ? 16 : 0)) - m2;
        }
    }
}

void dequantize_q6_k(const BlockQ6_K *x, float *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        for (int h = 0; h < 2; ++h, y += 128) {
            const uint8_t *ql = x[i].ql + 64 * h;
            const uint8_t *qh = x[i].qh + 32 * h;
            const int8_t *sc = x[i].scales + 8 * h;
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
        }
    }
}

} // namespace lmrt
