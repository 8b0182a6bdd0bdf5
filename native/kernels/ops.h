// The op list: what the forward passes call. Every op has a scalar
// reference (ref/) and optionally faster variants (cpu/arch/<isa>/) chosen
// at run time by registry.h; all variants are tested against the reference.
//
// Matrix products follow ggml's numerics so that logits agree with
// llama.cpp: activations are first encoded in the format the weight type's
// dot product wants (F32 weights: F32; F16: F16; BF16: BF16; Q8_0/Q4_0:
// Q8_0 blocks; K-quants: Q8_K blocks), then each output is one dot product
// of a weight row with an activation row.
//
// Dimension letters: T tokens in the batch, I inputs (row length), O outputs,
// H heads, D head dim, P positions attended.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../kv/kv_type.h"
#include "interleave.h"
#include "packed.h"

namespace lmrt::kernels {

enum class ActType : uint8_t { kF32, kF16, kBF16, kQ8_0, kQ8_1, kQ8_K };

// Q8_K: ggml's activation block for K-quant dot products.
struct BlockQ8_K {
    float d;
    int8_t qs[256];
    int16_t bsums[16]; // sums of each 16 qs
};
static_assert(sizeof(BlockQ8_K) == 292, "Q8_K layout");

// Q8_1: ggml's activation block for Q5_1 dot products: Q8_0 plus s, the
// block's sum d * sum(qs), both f16.
struct BlockQ8_1 {
    uint16_t d;
    uint16_t s;
    int8_t qs[32];
};
static_assert(sizeof(BlockQ8_1) == 36, "Q8_1 layout");

ActType act_type_for(uint32_t weight_type);
size_t act_row_bytes(ActType act, int64_t n);
// Values per encoded block (rows are whole blocks; a row may be encoded a
// run of blocks at a time).
inline int64_t act_block_values(ActType act) { return act == ActType::kQ8_K ? 256 : act == ActType::kQ8_0 || act == ActType::kQ8_1 ? 32 : 1; }

// Encodes n activations (n a multiple of the block size) into `act`'s format.
using QuantizeActFn = void (*)(const float *x, void *dst, int64_t n);
// Dot product of one weight row (n elements of the weight type) with one
// encoded activation row.
using VecDotFn = float (*)(int64_t n, const void *w, const void *x);

// The order a row's dot products sum in, chosen per row so that a row's
// arithmetic never depends on the other rows of its step: prompt rows as
// llama.cpp's batched prompt processing sums them, decoded rows as its
// single-row decoding does.
enum class RowOrder : uint8_t { kSingle, kBatched };

struct MatKernels {
    const char *variant; // "ref", "avx2", ...
    ActType act;
    QuantizeActFn quantize;
    VecDotFn dot;
    // When set, used for the rows a batch holds in whole groups of four (the
    // first T - T % 4): llama.cpp's repacked GEMM for these types sums in a
    // finer order than its single-row kernel, and lmrt follows both.
    VecDotFn dot_grouped = nullptr;
    // When set, used for every row of a batch of two or more rows whose
    // length is a multiple of 8 (llama.cpp's tiled GEMM for float types).
    VecDotFn dot_batched = nullptr;
    // dot_batched of one weight row with four activation rows at once.
    void (*dot_batched4)(int64_t n, const void *w, const void *const x[4], float out[4]) = nullptr;
    // dot of one weight row with four activation rows at once, each summed
    // exactly as `dot` sums it: the weight row is loaded and unpacked once.
    void (*dot4)(int64_t n, const void *w, const void *const x[4], float out[4]) = nullptr;
    // When set, `dot` of four weight rows (row_bytes apart) with one
    // activation row, each summed exactly as `dot` sums it: the chains of
    // the four rows interleave instead of waiting on each other.
    void (*dot_x4)(int64_t n, const void *w, size_t row_bytes, const void *x, float out[4]) = nullptr;
    // When set, the product of O weight rows (row_bytes apart) with all T rows
    // of a batch packed by pack_q8_0_rows, y[t * y_stride + o]: each weight
    // block is unpacked once for every row, and every row sums exactly as
    // `dot` sums it. Only for types whose rows all sum as `dot` (no
    // dot_grouped, no dot_batched), so any batch may use it.
    void (*gemm)(int64_t n, const uint8_t *w, size_t row_bytes, int64_t O, const PackedQ8Group *packed, int64_t T, float *y,
                 int64_t y_stride) = nullptr;
    // dot_x4 for eight weight rows: decoding's matrix-vector product, where
    // the weights stream from memory and must be consumed as fast as they come.
    void (*dot_x8)(int64_t n, const void *w, size_t row_bytes, const void *x, float out[8]) = nullptr;
    // When set, the product over weights interleaved at load (interleave.h):
    // y[t * y_stride + o] for the 8 * groups rows at w and the T encoded rows
    // at act (act_bytes apart), info[t * n / 32 + k] describing row t's
    // block k (q8_0_block_info, for Q8_0 activations). Row t sums exactly
    // as dot_for_row(orders[t]) sums it.
    void (*gemm_interleaved)(int64_t n, const uint8_t *w, int64_t groups, const uint8_t *act, size_t act_bytes, const Q8BlockInfo *info,
                             int64_t T, const RowOrder *orders, float *y, int64_t y_stride) = nullptr;
    // dot_batched of three weight rows (row_bytes apart) with four activation
    // rows, out[4 * r + t]: the register tile of a batch's float product
    // (matmul_batched_tiles).
    void (*dot_batched_3x4)(int64_t n, const void *w, size_t row_bytes, const void *const x[4], float out[12]) = nullptr;
};

// Whether a product of T rows goes through k.gemm.
inline bool use_gemm(const MatKernels &k, int64_t T) { return k.gemm != nullptr && T >= kGemmMinRows; }

// The dot product for a row of n elements summed in `order`.
inline VecDotFn dot_for_row(const MatKernels &k, RowOrder order, int64_t n) {
    if (order == RowOrder::kSingle) return k.dot;
    if (k.dot_grouped != nullptr) return k.dot_grouped;
    if (k.dot_batched != nullptr && n % 8 == 0) return k.dot_batched;
    return k.dot;
}

// y[t * y_stride] = weight row w · activation row t, for the T encoded rows
// at act (act_bytes apart) summed in orders[t].
inline void dot_rows(const MatKernels &k, int64_t n, const void *w, const uint8_t *act, size_t act_bytes, int64_t T,
                     const RowOrder *orders, float *y, int64_t y_stride) {
    int64_t t = 0;
    while (t < T) {
        // four consecutive rows summed by the same function: one pass over the weight row
        if (t + 4 <= T) {
            const VecDotFn fn = dot_for_row(k, orders[t], n);
            bool same = true;
            for (int i = 1; i < 4 && same; ++i) same = dot_for_row(k, orders[t + i], n) == fn;
            const auto four = fn == k.dot_batched ? k.dot_batched4 : fn == k.dot ? k.dot4 : nullptr;
            if (same && four != nullptr) {
                const void *const x[4] = {act + t * act_bytes, act + (t + 1) * act_bytes, act + (t + 2) * act_bytes,
                                          act + (t + 3) * act_bytes};
                float out[4];
                four(n, w, x, out);
                for (int i = 0; i < 4; ++i) y[(t + i) * y_stride] = out[i];
                t += 4;
                continue;
            }
        }
        y[t * y_stride] = dot_for_row(k, orders[t], n)(n, w, act + t * act_bytes);
        ++t;
    }
}

// matmul_rows through k.dot_batched_3x4 for the rows that sum as
// dot_batched, with the weights taken in tiles that stay in cache while the
// batch passes over them (batched_tiles.cpp).
void matmul_batched_tiles(const MatKernels &k, int64_t n, const uint8_t *w, size_t row_bytes, int64_t o0, int64_t o1, const uint8_t *act,
                          size_t act_bytes, int64_t T, const RowOrder *orders, float *y, int64_t y_stride);

// y[t * y_stride + o] for weight rows [o0, o1) (w: row o0, row_bytes apart)
// and the T encoded rows at act, without gemm.
inline void matmul_rows(const MatKernels &k, int64_t n, const uint8_t *w, size_t row_bytes, int64_t o0, int64_t o1, const uint8_t *act,
                        size_t act_bytes, int64_t T, const RowOrder *orders, float *y, int64_t y_stride) {
    if (T >= 4 && k.dot_batched_3x4 != nullptr && k.dot_batched4 != nullptr) {
        matmul_batched_tiles(k, n, w, row_bytes, o0, o1, act, act_bytes, T, orders, y, y_stride);
        return;
    }
    int64_t o = o0;
    if (T == 1 && dot_for_row(k, orders[0], n) == k.dot) {
        if (k.dot_x8 != nullptr) {
            for (; o + 8 <= o1; o += 8) k.dot_x8(n, w + static_cast<size_t>(o - o0) * row_bytes, row_bytes, act, y + o);
        }
        if (k.dot_x4 != nullptr) {
            for (; o + 4 <= o1; o += 4) k.dot_x4(n, w + static_cast<size_t>(o - o0) * row_bytes, row_bytes, act, y + o);
        }
    }
    for (; o < o1; ++o) dot_rows(k, n, w + static_cast<size_t>(o - o0) * row_bytes, act, act_bytes, T, orders, y + o, y_stride);
}

// y[t * y_stride + o] for the rows of groups [g0, g1) of an interleaved
// matrix of O rows of n values at w (interleave.h; plain rows row_bytes
// long), and, when `tail`, for its plain rows after the last whole group,
// with the T encoded rows at act (MatKernels::gemm_interleaved).
inline void matmul_interleaved(const MatKernels &k, uint32_t type, int64_t n, const uint8_t *w, size_t row_bytes, int64_t O, int64_t g0,
                               int64_t g1, bool tail, const uint8_t *act, size_t act_bytes, const Q8BlockInfo *info, int64_t T,
                               const RowOrder *orders, float *y, int64_t y_stride) {
    const size_t group_bytes = interleaved_group_bytes(type, n);
    k.gemm_interleaved(n, w + static_cast<size_t>(g0) * group_bytes, g1 - g0, act, act_bytes, info, T, orders, y + g0 * kInterleaveRows,
                       y_stride);
    const int64_t groups = O / kInterleaveRows;
    if (tail && groups * kInterleaveRows < O) {
        matmul_rows(k, n, w + static_cast<size_t>(groups) * group_bytes, row_bytes, groups * kInterleaveRows, O, act, act_bytes, T, orders, y,
                    y_stride);
    }
}

// Attention of one query row over positions [first, last] of a sequence
// whose K/V live in fixed-size blocks (see kv/kv_cache.h for the layout).
struct AttentionArgs {
    const float *q;      // [H, D], already rotated
    const uint8_t *const *k_blocks; // per block: [block_size, H_kv] rows of D values in kv_type
    const uint8_t *const *v_blocks; // per block: [block_size, H_kv] rows of D values in kv_type
    KvType kv_type = KvType::kF16;
    int block_size;
    int first, last;     // attended positions, inclusive
    int head_begin, head_end; // the query heads to compute, [begin, end)
    int n_head, n_head_kv, head_dim;
    float scale;         // usually 1/sqrt(D)
    float *out;          // [H, D]
    float *scratch;      // >= (last - first + 1) floats

    // K or V row of position p for KV head kvh
    const uint8_t *row(const uint8_t *const *blocks, int p, int kvh) const {
        return blocks[p / block_size] + (static_cast<size_t>(p % block_size) * static_cast<size_t>(n_head_kv) + static_cast<size_t>(kvh)) *
                                            kv_row_bytes(kv_type, head_dim);
    }
};
using AttentionFn = void (*)(const AttentionArgs &a);

// y = silu(gate) * up, element-wise (y may alias gate).
using SwigluFn = void (*)(const float *gate, const float *up, float *y, int64_t n);

} // namespace lmrt::kernels
