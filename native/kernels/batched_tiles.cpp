#include <algorithm>

#include "ops.h"

namespace lmrt::kernels {

namespace {

// Weight rows per tile: a tile stays in L2 while every activation row
// passes over it, so the weights come from memory once per product, not once
// per four activation rows.
constexpr size_t kTileBytes = 128 * 1024;

} // namespace

void matmul_batched_tiles(const MatKernels &k, int64_t n, const uint8_t *w, size_t row_bytes, int64_t o0, int64_t o1, const uint8_t *act,
                          size_t act_bytes, int64_t T, const RowOrder *orders, float *y, int64_t y_stride) {
    const auto weight_row = [&](int64_t o) { return w + static_cast<size_t>(o - o0) * row_bytes; };
    const auto act_row = [&](int64_t t) { return act + static_cast<size_t>(t) * act_bytes; };
    const auto batched = [&](int64_t t) { return dot_for_row(k, orders[t], n) == k.dot_batched; };
    const int64_t tile = std::max<int64_t>(3, static_cast<int64_t>(kTileBytes / row_bytes) / 3 * 3);
    for (int64_t first = o0; first < o1; first += tile) {
        const int64_t last = std::min(o1, first + tile);
        for (int64_t t = 0; t < T;) {
            // four consecutive rows that all sum as dot_batched: the register tile
            if (t + 4 <= T && batched(t) && batched(t + 1) && batched(t + 2) && batched(t + 3)) {
                const void *const x[4] = {act_row(t), act_row(t + 1), act_row(t + 2), act_row(t + 3)};
                int64_t o = first;
                for (; o + 3 <= last; o += 3) {
                    float out[12];
                    k.dot_batched_3x4(n, weight_row(o), row_bytes, x, out);
                    for (int r = 0; r < 3; ++r) {
                        for (int j = 0; j < 4; ++j) y[(t + j) * y_stride + o + r] = out[4 * r + j];
                    }
                }
                for (; o < last; ++o) {
                    float out[4];
                    k.dot_batched4(n, weight_row(o), x, out);
                    for (int j = 0; j < 4; ++j) y[(t + j) * y_stride + o] = out[j];
                }
                t += 4;
                continue;
            }
            const VecDotFn dot = dot_for_row(k, orders[t], n);
            for (int64_t o = first; o < last; ++o) y[t * y_stride + o] = dot(n, weight_row(o), act_row(t));
            ++t;
        }
    }
}

} // namespace lmrt::kernels
