// The scalar parts of the Q4_K/Q5_K dot products, shared by every ISA
// variant: a block's 6-bit scales and minimums, and the minimums times the
// activation sums (exact integers, so any variant may group them freely).
#pragma once

#include "../../../core/quant.h"
#include "../../ops.h"

namespace lmrt::kernels {

struct K4Scales {
    uint8_t sc[8], mn[8];
};

inline K4Scales unpack_k4_scales(const uint8_t *scales) {
    K4Scales s;
    for (int j = 0; j < 8; ++j) unpack_scale_min_k4(j, scales, &s.sc[j], &s.mn[j]);
    return s;
}

// Sub-blocks 2c and 2c+1 (32 activations each, two bsums of 16 apiece).
inline int k4_pair_mins(const BlockQ8_K &b, const K4Scales &s, int c) {
    return s.mn[2 * c] * (b.bsums[4 * c] + b.bsums[4 * c + 1]) + s.mn[2 * c + 1] * (b.bsums[4 * c + 2] + b.bsums[4 * c + 3]);
}

inline int k4_mins(const BlockQ8_K &b, const K4Scales &s) {
    int mins = 0;
    for (int c = 0; c < 4; ++c) mins += k4_pair_mins(b, s, c);
    return mins;
}

} // namespace lmrt::kernels
