// GELU on the device, in place, as the reference computes it (ggml's way):
// the tanh form of the input rounded to f16, rounded to f16 again; 0 at or
// below -10, the input itself at or above 10.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace lmrt::cuda {

cudaError_t gelu(float *x, int64_t n, cudaStream_t stream);

} // namespace lmrt::cuda
