#include "kv_type.h"

#include <cstring>

#include "../core/half.h"
#include "../include/lmrt.h"
#include "../kernels/ref/ref.h"

namespace lmrt {

uint32_t kv_type_id(KvType t) {
    switch (t) {
    case KvType::kBF16: return LMRT_TYPE_BF16;
    case KvType::kQ8_0: return LMRT_TYPE_Q8_0;
    default: return LMRT_TYPE_F16;
    }
}

bool kv_type_from_id(uint32_t id, KvType *out) {
    switch (id) {
    case LMRT_TYPE_F16: *out = KvType::kF16; return true;
    case LMRT_TYPE_BF16: *out = KvType::kBF16; return true;
    case LMRT_TYPE_Q8_0: *out = KvType::kQ8_0; return true;
    default: return false;
    }
}

const char *kv_type_name(KvType t) {
    switch (t) {
    case KvType::kBF16: return "bf16";
    case KvType::kQ8_0: return "q8_0";
    default: return "f16";
    }
}

void kv_encode_row(KvType t, const float *src, uint8_t *dst, int n) {
    switch (t) {
    case KvType::kF16:
        for (int i = 0; i < n; ++i) {
            const uint16_t h = fp32_to_fp16(src[i]);
            std::memcpy(dst + 2 * i, &h, 2);
        }
        break;
    case KvType::kBF16:
        for (int i = 0; i < n; ++i) {
            const uint16_t h = fp32_to_bf16(src[i]);
            std::memcpy(dst + 2 * i, &h, 2);
        }
        break;
    case KvType::kQ8_0: kernels::ref::mat_kernels(LMRT_TYPE_Q8_0)->quantize(src, dst, n); break;
    }
}

} // namespace lmrt
