// AVX2 + FMA + F16C variants: call only when cpu_features().avx2.
//
// Each function carries the target attribute instead of the files being
// compiled with -mavx2: inline functions and templates shared with
// baseline code then stay baseline wherever the linker keeps one copy.
#pragma once

#include "../../../ops.h"

#define LMRT_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace lmrt::kernels::avx2 {

const MatKernels *mat_kernels(uint32_t weight_type);
void attention(const AttentionArgs &a);
void swiglu(const float *gate, const float *up, float *y, int64_t n);

} // namespace lmrt::kernels::avx2
