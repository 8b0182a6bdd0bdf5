// Additions on the device over T rows of n floats: residual adds
// (y[t] += x[t]) and bias adds (y[t] += bias), and the gather of chosen
// rows (the rows a step wants logits of) into another buffer.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace lmrt::cuda {

cudaError_t add_rows(float *y, int64_t y_stride, const float *x, int64_t x_stride, int T, int64_t n, cudaStream_t stream);

cudaError_t add_bias(float *y, int64_t y_stride, const float *bias, int T, int64_t n, cudaStream_t stream);

// dst[j] = src[rows[j]] for j < count (dst must not overlap src).
cudaError_t gather_rows(float *dst, const float *src, const int32_t *rows, int count, int64_t n, cudaStream_t stream);

} // namespace lmrt::cuda
