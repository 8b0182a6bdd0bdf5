// RMSNorm on the device: y[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight,
// for `rows` rows of n floats (weight may be null: scale only).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace lmrt::cuda {

cudaError_t rms_norm(const float *x, const float *weight, float *y, int rows, int64_t n, float eps, cudaStream_t stream);

} // namespace lmrt::cuda
