#include "interleave.h"

#include <cstring>

#include "../core/ggml_types.h"
#include "../core/half.h"
#include "../core/quant.h"

namespace lmrt::kernels {

namespace {

constexpr size_t kScaleBytes = 2;

size_t block_bytes(uint32_t type) { return find_type_layout(type)->block_bytes; }
size_t row_bytes(uint32_t type, int64_t n) {
    const TypeLayout *l = find_type_layout(type);
    return static_cast<size_t>(n / l->block_size) * l->block_bytes;
}

} // namespace

bool can_interleave(uint32_t type) { return type == LMRT_TYPE_Q4_0 || type == LMRT_TYPE_Q8_0; }

size_t interleaved_block_bytes(uint32_t type) { return kInterleaveRows * block_bytes(type); }

void interleave_rows(uint32_t type, const uint8_t *src, int64_t n, int64_t O, uint8_t *dst) {
    const size_t rb = row_bytes(type, n), bb = block_bytes(type), qs = bb - kScaleBytes, gb = interleaved_block_bytes(type);
    const int64_t nb = static_cast<int64_t>(rb / bb), groups = O / kInterleaveRows;
    for (int64_t g = 0; g < groups; ++g) {
        for (int64_t k = 0; k < nb; ++k) {
            uint8_t *out = dst + (static_cast<size_t>(g * nb + k)) * gb;
            for (int r = 0; r < kInterleaveRows; ++r) {
                const uint8_t *block = src + static_cast<size_t>(g * kInterleaveRows + r) * rb + static_cast<size_t>(k) * bb;
                std::memcpy(out + kScaleBytes * r, block, kScaleBytes);
                for (size_t j = 0; j < qs / 4; ++j) {
                    std::memcpy(out + kScaleBytes * kInterleaveRows + j * 4 * kInterleaveRows + 4 * r, block + kScaleBytes + 4 * j, 4);
                }
            }
        }
    }
    const size_t done = static_cast<size_t>(groups * kInterleaveRows) * rb;
    std::memcpy(dst + done, src + done, static_cast<size_t>(O) * rb - done);
}

void plain_blocks(uint32_t type, const uint8_t *interleaved, int64_t n, int64_t O, int64_t row, int64_t k0, int64_t k1, uint8_t *out) {
    const size_t rb = row_bytes(type, n), bb = block_bytes(type), qs = bb - kScaleBytes, gb = interleaved_block_bytes(type);
    const int64_t nb = static_cast<int64_t>(rb / bb), g = row / kInterleaveRows, r = row % kInterleaveRows;
    if (g >= O / kInterleaveRows) {
        std::memcpy(out, interleaved + static_cast<size_t>(row) * rb + static_cast<size_t>(k0) * bb, static_cast<size_t>(k1 - k0) * bb);
        return;
    }
    for (int64_t k = k0; k < k1; ++k) {
        const uint8_t *in = interleaved + static_cast<size_t>(g * nb + k) * gb;
        uint8_t *block = out + static_cast<size_t>(k - k0) * bb;
        std::memcpy(block, in + kScaleBytes * r, kScaleBytes);
        for (size_t j = 0; j < qs / 4; ++j) {
            std::memcpy(block + kScaleBytes + 4 * j, in + kScaleBytes * kInterleaveRows + j * 4 * kInterleaveRows + 4 * r, 4);
        }
    }
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
