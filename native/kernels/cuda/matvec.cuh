// Decode's matrix-vector products on the device: y[t][o] = weight row o .
// x[t] for `rows` rows of n values stored in a GGUF type (F32, F16, BF16,
// Q8_0, Q4_0, Q4_K, Q5_K, Q6_K; the device reads the file's blocks as they are)
// and T inputs in f32. One warp per weight row and up to kMatvecColumns
// inputs: the lanes read consecutive runs of 8 values, so a warp's loads
// cover one stretch of memory, and each weight byte is read once per
// group of inputs.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace lmrt::cuda {

constexpr int kMatvecColumns = 8;

// Whether matvec takes this type, and n values per row of it. The inputs
// must start 16-byte aligned, x_stride a multiple of 4.
bool matvec_supports(uint32_t type, int64_t n);

// Input t is row index[t] of x (x + index[t] * x_stride; row t without an
// index, index a device array of T rows), and its output goes to the same
// row of y. A row's result does not depend on T or on the other inputs.
cudaError_t matvec(uint32_t type, const void *weight, int64_t n, int64_t rows, const float *x, int64_t x_stride, float *y,
                   int64_t y_stride, int T, cudaStream_t stream, const int32_t *index = nullptr);

inline cudaError_t matvec(uint32_t type, const void *weight, int64_t n, int64_t rows, const float *x, float *y, cudaStream_t stream) {
    return matvec(type, weight, n, rows, x, n, y, rows, 1, stream);
}

} // namespace lmrt::cuda
