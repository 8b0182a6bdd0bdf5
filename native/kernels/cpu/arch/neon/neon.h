// ARM NEON (Advanced SIMD, baseline on AArch64) variants. Built only for
// AArch64 targets; every function is plain AArch64 code, so no run-time
// check is needed beyond the architecture itself.
#pragma once

#include "../../../ops.h"

namespace lmrt::kernels::neon {

// The types with NEON dot products; nullptr for the others (the registry
// then uses the reference's).
const MatKernels *mat_kernels(uint32_t weight_type);

// The types with dot products through SDOT (call only when
// cpu_features().neon_dotprod); nullptr for the others. Every result is
// bit-identical to mat_kernels(): the blocks' integer sums are exact either way.
const MatKernels *dotprod_mat_kernels(uint32_t weight_type);

} // namespace lmrt::kernels::neon
