#include "packed.h"

#include <cstring>

#include "../core/half.h"
#include "../core/quant.h"

namespace lmrt::kernels {

void pack_q8_0_rows(const uint8_t *act, size_t act_bytes, int64_t T, int64_t nb, int64_t k0, int64_t k1, PackedQ8Group *out) {
    const int64_t groups = row_groups(T);
    for (int64_t k = k0; k < k1; ++k) {
        for (int64_t g = 0; g < groups; ++g) {
            PackedQ8Group &p = out[g * nb + k];
            std::memset(&p, 0, sizeof p);
            for (int r = 0; r < 8; ++r) {
                // up to 4 rows fill both halves (see packed.h); beyond the batch, zeros
                const int64_t row = T <= 4 ? r % 4 : g * 8 + r;
                if (row >= T) continue;
                const auto &b = reinterpret_cast<const BlockQ8_0 *>(act + static_cast<size_t>(row) * act_bytes)[k];
                for (int j = 0; j < 8; ++j) std::memcpy(&p.qs[j][4 * r], b.qs + 4 * j, 4);
                p.d[r] = fp16_to_fp32(b.d);
                int32_t sum = 0;
                for (int i = 0; i < 32; ++i) sum += b.qs[i];
                p.sum[r] = sum;
            }
        }
    }
}

} // namespace lmrt::kernels
