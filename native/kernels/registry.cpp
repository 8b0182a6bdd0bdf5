#include "registry.h"

#include <cstdlib>
#include <cstring>

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

// LMRT_KERNELS=ref forces the scalar references (debugging, benchmarks).
Variant best_variant() {
    static const Variant best = [] {
        const char *forced = std::getenv("LMRT_KERNELS");
        if (forced != nullptr && std::strcmp(forced, "ref") == 0) return Variant::kRef;
        return variant_available(Variant::kAvx2) ? Variant::kAvx2 : Variant::kRef;
    }();
    return best;
}

const MatKernels *mat_kernels(uint32_t weight_type, Variant v) {
    if (!variant_available(v)) return nullptr;
    return v == Variant::kAvx2 ? avx2::mat_kernels(weight_type) : ref::mat_kernels(weight_type);
}

AttentionFn attention_kernel(Variant v) {
    if (!variant_available(v)) return nullptr;
    return v == Variant::kAvx2 ? avx2::attention : ref::attention;
}

SwigluFn swiglu_kernel(Variant v) {
    if (!variant_available(v)) return nullptr;
    return v == Variant::kAvx2 ? avx2::swiglu : ref::swiglu;
}

} // namespace lmrt::kernels
