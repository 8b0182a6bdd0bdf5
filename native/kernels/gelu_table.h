// GELU as ggml evaluates it on the CPU: the input rounded to f16, looked up
// in a table of every f16 value's GELU (tanh form) rounded to f16. The
// table gives ref::gelu's values exactly, without a tanh per element.
#pragma once

#include <cstdint>

namespace lmrt::kernels {

// x[i] = gelu(x[i]), exactly as ref::gelu.
void gelu_by_table(float *x, int64_t n);

} // namespace lmrt::kernels
