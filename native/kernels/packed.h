// Activations laid out for batch products (MatKernels::gemm): the Q8_0
// blocks of 8 rows transposed in 4-byte groups, so that one broadcast group
// of weight bytes multiplies the same 4 positions of all 8 rows at once.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lmrt::kernels {

// One 32-value block of 8 rows. Rows past the batch's end are zero; a
// batch of at most 4 rows fills lanes 0-3 and again 4-7 (so that a vector
// can hold two weight rows' products with the same rows, one per half).
struct PackedQ8Group {
    int8_t qs[8][32]; // qs[j][4 * r + i] = value 4j + i of row r
    float d[8];       // the rows' block scales
    int32_t sum[8];   // the sums of the rows' 32 values (for weights stored with an offset)
};
static_assert(sizeof(PackedQ8Group) == 320, "PackedQ8Group layout");

// Batches of at least this many rows go through gemm where a type has one
// (measured: from two rows on, a half-empty group of 8 already costs less
// than a separate pass per row).
constexpr int64_t kGemmMinRows = 2;

inline int64_t row_groups(int64_t T) { return (T + 7) / 8; }

// Packed groups for T rows of n values: [row group][block], each group's
// blocks contiguous (one group streams through the cache at a time).
inline size_t packed_q8_bytes(int64_t n, int64_t T) {
    return static_cast<size_t>(n / 32) * static_cast<size_t>(row_groups(T)) * sizeof(PackedQ8Group);
}

// Packs blocks [k0, k1) of T encoded Q8_0 rows of nb blocks (act, act_bytes
// apart) into out, which holds every block of the batch (packed_q8_bytes).
void pack_q8_0_rows(const uint8_t *act, size_t act_bytes, int64_t T, int64_t nb, int64_t k0, int64_t k1, PackedQ8Group *out);

} // namespace lmrt::kernels
