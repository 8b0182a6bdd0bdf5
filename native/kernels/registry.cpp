#include "registry.h"

#include "../core/cpu_features.h"
#include "cpu/arch/avx2/avx2.h"
#include "ref/ref.h"

namespace lmrt::kernels {

bool variant_available(Variant v) {
    switch (v) {
    case Variant::kRef: return true;
    case Variant::kAvx2: return cpu_features().avx2;
    }
    return false;
}

const char *variant_name(Variant v) { return v == Variant::kAvx2 ? "avx2" : "ref"; }

Variant best_variant() { return variant_available(Variant::kAvx2) ? Variant::kAvx2 : Variant::kRef; }

const MatKernels *mat_kernels(uint32_t weight_type, Variant v) {
    if (!variant_available(v)) return nullptr;
    return v == Variant::kAvx2 ? avx2::mat_kernels(weight_type) : ref::mat_kernels(weight_type);
}

AttentionFn attention_kernel(Variant v) {
    if (!variant_available(v)) return nullptr;
    return v == Variant::kAvx2 ? avx2::attention : ref::attention;
}

} // namespace lmrt::kernels
