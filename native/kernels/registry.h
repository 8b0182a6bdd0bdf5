// Which kernel variant runs: the best one this CPU supports, chosen once.
// Tests and benchmarks can ask for a specific variant.
#pragma once

#include "ops.h"

namespace lmrt::kernels {

enum class Variant { kRef = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3, kNeonDotprod = 4 };

bool variant_available(Variant v);
const char *variant_name(Variant v);
Variant best_variant();

// nullptr when the type has no kernels or the variant is unavailable.
const MatKernels *mat_kernels(uint32_t weight_type, Variant v);
AttentionFn attention_kernel(Variant v);
SwigluFn swiglu_kernel(Variant v);

inline const MatKernels *best_mat_kernels(uint32_t weight_type) { return mat_kernels(weight_type, best_variant()); }
inline AttentionFn best_attention() { return attention_kernel(best_variant()); }
inline SwigluFn best_swiglu() { return swiglu_kernel(best_variant()); }

} // namespace lmrt::kernels
