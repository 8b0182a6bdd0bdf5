// LayerNorm on the device (GPT-2): y[r] = (x[r] - mean) / sqrt(var + eps) *
// weight + bias for `rows` rows of n floats, as the scalar reference
// computes it (the variance of the centred values).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace lmrt::cuda {

cudaError_t layer_norm(const float *x, const float *weight, const float *bias, float *y, int rows, int64_t n, float eps, cudaStream_t stream);

} // namespace lmrt::cuda
