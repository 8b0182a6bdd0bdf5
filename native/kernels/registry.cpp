#include "registry.h"

#include <cstdlib>
#include <cstring>

#include "../core/cpu_features.h"
#include "cpu/arch/avx2/avx2.h"
#include "cpu/arch/avx512/avx512.h"
#include "ref/ref.h"

namespace lmrt::kernels {

bool variant_available(Variant v) {
    switch (v) {
    case Variant::kRef: return true;
    case Variant::kAvx2: return cpu_features().avx2;
    case Variant::kAvx512: return cpu_features().avx512;
    }
    return false;
}

const char *variant_name(Variant v) {
    switch (v) {
    case Variant::kAvx2: return "avx2";
    case Variant::kAvx512: return "avx512";
    default: return "ref";
    }
}

// LMRT_KERNELS=ref|avx2|avx512 caps the variant (debugging, benchmarks): the
// named one if this CPU has it, else the best below it.
Variant best_variant() {
    static const Variant best = [] {
        Variant cap = Variant::kAvx512;
        const char *forced = std::getenv("LMRT_KERNELS");
        if (forced != nullptr && std::strcmp(forced, "ref") == 0) cap = Variant::kRef;
        if (forced != nullptr && std::strcmp(forced, "avx2") == 0) cap = Variant::kAvx2;
        for (int v = static_cast<int>(cap); v > 0; --v) {
            if (variant_available(static_cast<Variant>(v))) return static_cast<Variant>(v);
        }
        return Variant::kRef;
    }();
    return best;
}

const MatKernels *mat_kernels(uint32_t weight_type, Variant v) {
    if (!variant_available(v)) return nullptr;
    switch (v) {
    case Variant::kAvx2: return avx2::mat_kernels(weight_type);
    case Variant::kAvx512: return avx512::mat_kernels(weight_type);
    default: return ref::mat_kernels(weight_type);
    }
}

AttentionFn attention_kernel(Variant v) {
    if (!variant_available(v)) return nullptr;
    switch (v) {
    case Variant::kAvx2: return avx2::attention;
    case Variant::kAvx512: return avx512::attention;
    default: return ref::attention;
    }
}

// SwiGLU is element-wise and cheap next to the matrix products: AVX-512
// machines run the AVX2 one.
SwigluFn swiglu_kernel(Variant v) {
    if (!variant_available(v)) return nullptr;
    return v == Variant::kRef ? ref::swiglu : avx2::swiglu;
}

} // namespace lmrt::kernels
