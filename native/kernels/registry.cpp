#include "registry.h"

#include <cstdlib>
#include <cstring>

#include "../core/cpu_features.h"
#include "ref/ref.h"
#if defined(__x86_64__)
#include "cpu/arch/avx2/avx2.h"
#include "cpu/arch/avx512/avx512.h"
#elif defined(__aarch64__)
#include "cpu/arch/neon/neon.h"
#endif

namespace lmrt::kernels {

bool variant_available(Variant v) {
    switch (v) {
    case Variant::kRef: return true;
    case Variant::kAvx2: return cpu_features().avx2;
    case Variant::kAvx512: return cpu_features().avx512;
    case Variant::kNeon: return cpu_features().neon;
    case Variant::kNeonDotprod: return cpu_features().neon_dotprod;
    }
    return false;
}

const char *variant_name(Variant v) {
    switch (v) {
    case Variant::kAvx2: return "avx2";
    case Variant::kAvx512: return "avx512";
    case Variant::kNeon: return "neon";
    case Variant::kNeonDotprod: return "neon_dotprod";
    default: return "ref";
    }
}

// LMRT_KERNELS=ref|avx2|avx512 caps the variant (debugging, benchmarks): the
// named one if this CPU has it, else the best below it. On ARM: NEON with
// the dot product extension where the CPU has it, LMRT_KERNELS=neon for
// plain NEON, ref for the reference.
Variant best_variant() {
    static const Variant best = [] {
        const char *forced = std::getenv("LMRT_KERNELS");
        if (forced != nullptr && std::strcmp(forced, "ref") == 0) return Variant::kRef;
        const bool plain_neon = forced != nullptr && std::strcmp(forced, "neon") == 0;
        if (!plain_neon && variant_available(Variant::kNeonDotprod)) return Variant::kNeonDotprod;
        if (variant_available(Variant::kNeon)) return Variant::kNeon;
        Variant cap = Variant::kAvx512;
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
#if defined(__x86_64__)
    case Variant::kAvx2:
    case Variant::kAvx512: {
        // the types without SIMD kernels (Q5_0, Q5_1) run the reference's
        const MatKernels *k = v == Variant::kAvx2 ? avx2::mat_kernels(weight_type) : avx512::mat_kernels(weight_type);
        return k != nullptr ? k : ref::mat_kernels(weight_type);
    }
#elif defined(__aarch64__)
    case Variant::kNeon: {
        // the types without NEON kernels yet run the reference's
        const MatKernels *k = neon::mat_kernels(weight_type);
        return k != nullptr ? k : ref::mat_kernels(weight_type);
    }
    case Variant::kNeonDotprod: {
        const MatKernels *k = neon::dotprod_mat_kernels(weight_type);
        if (k == nullptr) k = neon::mat_kernels(weight_type);
        return k != nullptr ? k : ref::mat_kernels(weight_type);
    }
#endif
    default: return ref::mat_kernels(weight_type);
    }
}

AttentionFn attention_kernel(Variant v) {
    if (!variant_available(v)) return nullptr;
    switch (v) {
#if defined(__x86_64__)
    case Variant::kAvx2: return avx2::attention;
    case Variant::kAvx512: return avx512::attention;
#endif
    default: return ref::attention;
    }
}

// SwiGLU is element-wise and cheap next to the matrix products: AVX-512
// machines run the AVX2 one.
SwigluFn swiglu_kernel(Variant v) {
    if (!variant_available(v)) return nullptr;
#if defined(__x86_64__)
    if (v != Variant::kRef) return avx2::swiglu;
#endif
    return ref::swiglu;
}

} // namespace lmrt::kernels
