// Sampling's helper on the device: each row's k largest values and their
// indices, largest first, equal values the lower index first, NaN counted
// as -infinity (the order of the sampling chain's top-k, so that sampling
// from these k gives the choice it would make from the whole row).
// k from 1 to kMaxTopK, at most n.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace lmrt::cuda {

constexpr int kMaxTopK = 256;

// Row r's entries at ids / values + r * k.
cudaError_t top_k(const float *x, int rows, int64_t n, int k, int32_t *ids, float *values, cudaStream_t stream);

} // namespace lmrt::cuda
