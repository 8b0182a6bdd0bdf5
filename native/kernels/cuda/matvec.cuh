// Decode's matrix-vector products on the device: y[o] = weight row o . x for
// `rows` rows of n values stored in a GGUF type (F32, F16, Q8_0, Q4_0; the
// device reads the file's blocks as they are), x in f32. One warp per row:
// the lanes read consecutive blocks, so a warp's loads cover one run of
// memory, and x is staged in shared memory where it fits.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace lmrt::cuda {

// Whether matvec takes this type, and n values per row of it.
bool matvec_supports(uint32_t type, int64_t n);

cudaError_t matvec(uint32_t type, const void *weight, int64_t n, int64_t rows, const float *x, float *y, cudaStream_t stream);

} // namespace lmrt::cuda
