#include "interleave.h"

#include <cstring>

#include "../core/ggml_types.h"
#include "../core/half.h"
#include "../core/quant.h"

namespace lmrt::kernels {

namespace {

static_assert(sizeof(Q4_0Group) == 8 * sizeof(BlockQ4_0) && sizeof(Q8_0Group) == 8 * sizeof(BlockQ8_0), "interleaved layouts");
static_assert(sizeof(Q4_KGroup) == 8 * sizeof(BlockQ4_K) + 32, "interleaved Q4_K: the scales unpacked");
static_assert(sizeof(Q5_KGroup) == 8 * sizeof(BlockQ5_K) + 32, "interleaved Q5_K: the scales unpacked");
static_assert(sizeof(Q6_KGroup) == 8 * sizeof(BlockQ6_K), "interleaved Q6_K");

size_t block_bytes(uint32_t type) { return find_type_layout(type)->block_bytes; }
int64_t blocks_per_row(uint32_t type, int64_t n) { return n / find_type_layout(type)->block_size; }

// Scale-and-bytes types (Q4_0, Q8_0): scale r, then 4-byte groups by row.
template <typename Block, typename Group>
void to_group(const Block *const rows[8], Group *g) {
    for (int r = 0; r < 8; ++r) {
        g->d[r] = rows[r]->d;
        for (size_t j = 0; j < sizeof(Block::qs) / 4; ++j) std::memcpy(&g->qs[j][4 * r], rows[r]->qs + 4 * j, 4);
    }
}
template <typename Block, typename Group>
void from_group(const Group &g, int r, Block *b) {
    b->d = g.d[r];
    for (size_t j = 0; j < sizeof(Block::qs) / 4; ++j) std::memcpy(b->qs + 4 * j, &g.qs[j][4 * r], 4);
}

// Q4_K and Q5_K: d, dmin, the unpacked scales and minimums, the nibbles.
template <typename Block, typename Group>
void k4_to_group(const Block *const rows[8], Group *g) {
    for (int r = 0; r < 8; ++r) {
        g->d[r] = rows[r]->d;
        g->dmin[r] = rows[r]->dmin;
        for (int s = 0; s < 8; ++s) unpack_scale_min_k4(s, rows[r]->scales, &g->sc[s / 2][r][s % 2], &g->mn[s / 2][r][s % 2]);
        for (int c = 0; c < 4; ++c) {
            for (int j = 0; j < 8; ++j) std::memcpy(&g->qs[c][j][4 * r], rows[r]->qs + 32 * c + 4 * j, 4);
        }
    }
}
// The inverse of unpack_scale_min_k4 (scales and minimums are below 64).
template <typename Block, typename Group>
void k4_from_group(const Group &g, int r, Block *b) {
    b->d = g.d[r];
    b->dmin = g.dmin[r];
    for (int j = 0; j < 4; ++j) {
        const uint8_t sc = g.sc[j / 2][r][j % 2], mn = g.mn[j / 2][r][j % 2], sc_hi = g.sc[(j + 4) / 2][r][j % 2],
                      mn_hi = g.mn[(j + 4) / 2][r][j % 2];
        b->scales[j] = static_cast<uint8_t>((sc & 63) | ((sc_hi >> 4) << 6));
        b->scales[j + 4] = static_cast<uint8_t>((mn & 63) | ((mn_hi >> 4) << 6));
        b->scales[j + 8] = static_cast<uint8_t>((sc_hi & 0xF) | ((mn_hi & 0xF) << 4));
    }
    for (int c = 0; c < 4; ++c) {
        for (int j = 0; j < 8; ++j) std::memcpy(b->qs + 32 * c + 4 * j, &g.qs[c][j][4 * r], 4);
    }
}

void to_group(const BlockQ4_K *const rows[8], Q4_KGroup *g) { k4_to_group(rows, g); }
void from_group(const Q4_KGroup &g, int r, BlockQ4_K *b) { k4_from_group(g, r, b); }

void to_group(const BlockQ5_K *const rows[8], Q5_KGroup *g) {
    k4_to_group(rows, g);
    for (int r = 0; r < 8; ++r) {
        for (int j = 0; j < 8; ++j) std::memcpy(&g->qh[j][4 * r], rows[r]->qh + 4 * j, 4);
    }
}
void from_group(const Q5_KGroup &g, int r, BlockQ5_K *b) {
    k4_from_group(g, r, b);
    for (int j = 0; j < 8; ++j) std::memcpy(b->qh + 4 * j, &g.qh[j][4 * r], 4);
}

// Code (0..63) of value v (0..255) of a Q6_K block, and back.
uint8_t q6_k_code(const BlockQ6_K &b, int v) {
    const int h = v / 128, q = (v % 128) / 32, l = v % 32;
    const uint8_t low = static_cast<uint8_t>((b.ql[64 * h + 32 * (q & 1) + l] >> (4 * (q >> 1))) & 0xF);
    return static_cast<uint8_t>(low | (((b.qh[32 * h + l] >> (2 * q)) & 3) << 4));
}
void set_q6_k_code(BlockQ6_K *b, int v, uint8_t code) {
    const int h = v / 128, q = (v % 128) / 32, l = v % 32;
    uint8_t &low = b->ql[64 * h + 32 * (q & 1) + l];
    low = static_cast<uint8_t>((low & ~(0xF << (4 * (q >> 1)))) | ((code & 0xF) << (4 * (q >> 1))));
    uint8_t &high = b->qh[32 * h + l];
    high = static_cast<uint8_t>((high & ~(3 << (2 * q))) | ((code >> 4) << (2 * q)));
}

void to_group(const BlockQ6_K *const rows[8], Q6_KGroup *g) {
    for (int r = 0; r < 8; ++r) {
        g->d[r] = rows[r]->d;
        for (int s = 0; s < 16; ++s) g->sc[s / 2][r][s % 2] = rows[r]->scales[s];
        for (int h = 0; h < 2; ++h) {
            for (int j = 0; j < 8; ++j) {
                for (int i = 0; i < 4; ++i) {
                    uint8_t c[4];
                    for (int q = 0; q < 4; ++q) c[q] = q6_k_code(*rows[r], 128 * h + 32 * q + 4 * j + i);
                    g->codes[h][j][0][4 * r + i] = static_cast<uint8_t>(c[0] | (c[2] >> 4) << 6);
                    g->codes[h][j][1][4 * r + i] = static_cast<uint8_t>(c[1] | (c[3] >> 4) << 6);
                    g->codes[h][j][2][4 * r + i] = static_cast<uint8_t>((c[2] & 0xF) | (c[3] & 0xF) << 4);
                }
            }
        }
    }
}
void from_group(const Q6_KGroup &g, int r, BlockQ6_K *b) {
    b->d = g.d[r];
    for (int s = 0; s < 16; ++s) b->scales[s] = g.sc[s / 2][r][s % 2];
    for (int h = 0; h < 2; ++h) {
        for (int j = 0; j < 8; ++j) {
            for (int i = 0; i < 4; ++i) {
                const uint8_t a = g.codes[h][j][0][4 * r + i], bb = g.codes[h][j][1][4 * r + i], c = g.codes[h][j][2][4 * r + i];
                const uint8_t codes[4] = {static_cast<uint8_t>(a & 0x3F), static_cast<uint8_t>(bb & 0x3F),
                                          static_cast<uint8_t>((c & 0xF) | (a >> 6) << 4), static_cast<uint8_t>((c >> 4) | (bb >> 6) << 4)};
                for (int q = 0; q < 4; ++q) set_q6_k_code(b, 128 * h + 32 * q + 4 * j + i, codes[q]);
            }
        }
    }
}

// Calls fn with the type's block and group-block types.
template <typename Fn>
void with_types(uint32_t type, Fn fn) {
    switch (type) {
    case LMRT_TYPE_Q4_0: fn(BlockQ4_0{}, Q4_0Group{}); break;
    case LMRT_TYPE_Q8_0: fn(BlockQ8_0{}, Q8_0Group{}); break;
    case LMRT_TYPE_Q4_K: fn(BlockQ4_K{}, Q4_KGroup{}); break;
    case LMRT_TYPE_Q5_K: fn(BlockQ5_K{}, Q5_KGroup{}); break;
    case LMRT_TYPE_Q6_K: fn(BlockQ6_K{}, Q6_KGroup{}); break;
    default: break;
    }
}

} // namespace

bool can_interleave(uint32_t type) {
    return type == LMRT_TYPE_Q4_0 || type == LMRT_TYPE_Q8_0 || type == LMRT_TYPE_Q4_K || type == LMRT_TYPE_Q5_K || type == LMRT_TYPE_Q6_K;
}

size_t interleaved_block_bytes(uint32_t type) {
    size_t bytes = 0;
    with_types(type, [&](auto, auto group) { bytes = sizeof group; });
    return bytes;
}

size_t interleaved_group_bytes(uint32_t type, int64_t n) {
    return static_cast<size_t>(blocks_per_row(type, n)) * interleaved_block_bytes(type);
}

size_t interleaved_bytes(uint32_t type, int64_t n, int64_t O) {
    const int64_t groups = O / kInterleaveRows, nb = blocks_per_row(type, n);
    return static_cast<size_t>(groups) * interleaved_group_bytes(type, n) +
           static_cast<size_t>(O - groups * kInterleaveRows) * static_cast<size_t>(nb) * block_bytes(type);
}

void interleave_rows(uint32_t type, const uint8_t *src, int64_t n, int64_t O, uint8_t *dst) {
    const int64_t nb = blocks_per_row(type, n), groups = O / kInterleaveRows;
    const size_t rb = static_cast<size_t>(nb) * block_bytes(type);
    with_types(type, [&](auto block, auto group) {
        using Block = decltype(block);
        using Group = decltype(group);
        auto *out = reinterpret_cast<Group *>(dst);
        for (int64_t g = 0; g < groups; ++g) {
            for (int64_t k = 0; k < nb; ++k) {
                const Block *rows[8];
                for (int r = 0; r < 8; ++r) rows[r] = reinterpret_cast<const Block *>(src + static_cast<size_t>(g * 8 + r) * rb) + k;
                to_group(rows, out + g * nb + k);
            }
        }
    });
    const size_t done = static_cast<size_t>(groups * kInterleaveRows) * rb;
    std::memcpy(dst + static_cast<size_t>(groups) * interleaved_group_bytes(type, n), src + done, static_cast<size_t>(O) * rb - done);
}

void plain_blocks(uint32_t type, const uint8_t *interleaved, int64_t n, int64_t O, int64_t row, int64_t k0, int64_t k1, uint8_t *out) {
    const int64_t nb = blocks_per_row(type, n), groups = O / kInterleaveRows, g = row / kInterleaveRows;
    const size_t bb = block_bytes(type);
    if (g >= groups) {
        const uint8_t *tail = interleaved + static_cast<size_t>(groups) * interleaved_group_bytes(type, n);
        std::memcpy(out, tail + static_cast<size_t>((row - groups * kInterleaveRows) * nb + k0) * bb, static_cast<size_t>(k1 - k0) * bb);
        return;
    }
    with_types(type, [&](auto block, auto group) {
        using Block = decltype(block);
        using Group = decltype(group);
        const auto *in = reinterpret_cast<const Group *>(interleaved) + g * nb;
        for (int64_t k = k0; k < k1; ++k) {
            Block b;
            from_group(in[k], static_cast<int>(row % kInterleaveRows), &b);
            std::memcpy(out + static_cast<size_t>(k - k0) * bb, &b, bb);
        }
    });
}

void q8_0_block_info(const uint8_t *act, int64_t nb, Q8BlockInfo *out) {
    const auto *b = reinterpret_cast<const BlockQ8_0 *>(act);
    for (int64_t k = 0; k < nb; ++k) {
        int32_t sum = 0;
        for (int i = 0; i < 32; ++i) sum += b[k].qs[i];
        out[k] = {fp16_to_fp32(b[k].d), sum};
    }
}

} // namespace lmrt::kernels
