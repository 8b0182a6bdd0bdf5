// Greedy decoding's helper on the device: out[r] = the index of the largest
// value of row r of `rows` rows of n floats (the first on ties; NaN never
// wins), so that only an index per row crosses to the host.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace lmrt::cuda {

cudaError_t argmax(const float *x, int rows, int64_t n, int32_t *out, cudaStream_t stream);

} // namespace lmrt::cuda
