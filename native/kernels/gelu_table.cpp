#include "gelu_table.h"

#include <vector>

#include "../core/half.h"
#include "ref/ref.h"

namespace lmrt::kernels {

namespace {

// Built once on first use (a thread-safe static), read-only afterwards.
const std::vector<uint16_t> &table() {
    static const std::vector<uint16_t> t = [] {
        std::vector<uint16_t> out(65536);
        for (uint32_t h = 0; h < 65536; ++h) out[h] = fp32_to_fp16(ref::gelu_tanh(fp16_to_fp32(static_cast<uint16_t>(h))));
        return out;
    }();
    return t;
}

} // namespace

void gelu_by_table(float *x, int64_t n) {
    const uint16_t *t = table().data();
    for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        // the reference's range checks on the unrounded input
        if (v <= -10.0f) {
            x[i] = 0.0f;
        } else if (v < 10.0f) {
            x[i] = fp16_to_fp32(t[fp32_to_fp16(v)]);
        }
    }
}

} // namespace lmrt::kernels
