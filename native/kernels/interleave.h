// Weights interleaved at load for matrix products that stream them: the
// blocks of 8 consecutive rows stored together, so that one vector load
// takes the same 4 bytes of all 8 rows (each lane a row, no horizontal
// sums), the 8 rows' scales come in one load, and the product reads one
// sequential stream instead of 8.
//
// Layout of a matrix of O rows of n values: floor(O / 8) groups, each
// [block k][group block of the type below], then the last O % 8 rows as
// stored in GGUF.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lmrt::kernels {

constexpr int kInterleaveRows = 8;

// Q4_0 and Q8_0: the 8 scales, then qs[j][4 * r + i] = byte 4j + i of row r.
struct Q4_0Group {
    uint16_t d[8];
    uint8_t qs[4][32];
};
struct Q8_0Group {
    uint16_t d[8];
    int8_t qs[8][32];
};

// Q4_K: the 6-bit scales and minimums unpacked, by [pair of sub-blocks
// c][row][sub-block 2c or 2c + 1] (widened, a pair is one int16 pair per
// row lane), and qs[c][j][4 * r + i] = byte 32c + 4j + i of row r (low
// nibbles: sub-block 2c, high: 2c + 1).
struct Q4_KGroup {
    uint16_t d[8], dmin[8];
    uint8_t sc[4][8][2], mn[4][8][2];
    uint8_t qs[4][8][32];
};

// Q5_K: as Q4_K, and qh[j][4 * r + i] = qh byte 4j + i of row r (bit 2c:
// the fifth bit of that value of sub-block 2c, bit 2c + 1 of sub-block
// 2c + 1).
struct Q5_KGroup {
    uint16_t d[8], dmin[8];
    uint8_t sc[4][8][2], mn[4][8][2];
    uint8_t qh[8][32];
    uint8_t qs[4][8][32];
};

// Q6_K: the scales of the groups of 16 values by [pair of groups][row]
// [group in the pair] (sign-extended, a pair is one int16 pair per row
// lane), and the 6-bit codes c0..c3 of the four quarters of each half h
// (values 32q + 4j + i of the half, row r) in three planes at [h][j][plane]
// [4 * r + i]: c0 | (c2 >> 4) << 6, c1 | (c3 >> 4) << 6, and
// (c2 & 15) | (c3 & 15) << 4, so that each code comes out in one to five
// operations.
struct Q6_KGroup {
    uint16_t d[8];
    int8_t sc[8][8][2];
    uint8_t codes[2][8][3][32];
};

// Whether `type` has an interleaved layout (and kernels for it: MatKernels::gemm_interleaved).
bool can_interleave(uint32_t type);

// Bytes of one row group's block k, and of the whole matrix interleaved.
size_t interleaved_block_bytes(uint32_t type);
size_t interleaved_bytes(uint32_t type, int64_t n, int64_t O);
// Bytes of one group of 8 rows of n values (all its blocks).
size_t interleaved_group_bytes(uint32_t type, int64_t n);

// Writes rows [0, O) of a plain matrix into dst (interleaved_bytes).
void interleave_rows(uint32_t type, const uint8_t *src, int64_t n, int64_t O, uint8_t *dst);

// Blocks [k0, k1) of row `row` of an interleaved matrix in the plain layout.
void plain_blocks(uint32_t type, const uint8_t *interleaved, int64_t n, int64_t O, int64_t row, int64_t k0, int64_t k1, uint8_t *out);

// Per block of an encoded Q8_0 activation row: its scale as a float and the
// sum of its 32 values (the interleaved Q4_0 product takes its offset of 8
// out through it), so that the products broadcast both from memory.
struct Q8BlockInfo {
    float d;
    int32_t sum;
};
void q8_0_block_info(const uint8_t *act, int64_t nb, Q8BlockInfo *out);

} // namespace lmrt::kernels
