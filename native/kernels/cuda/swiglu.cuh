// SwiGLU on the device: y = silu(gate) * up, element-wise (y may alias gate).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace lmrt::cuda {

cudaError_t swiglu(const float *gate, const float *up, float *y, int64_t n, cudaStream_t stream);

} // namespace lmrt::cuda
