// Prefill's matrix products on tensor cores: Y[t][o] = weight row o . X[t]
// for a batch of prompt rows, as matvec computes it but with each weight
// tile decoded once per 64 rows of the batch. Tiles of 64 weight rows by 64
// batch rows, 32 values deep: the weight tile is decoded from its GGUF
// blocks into f16 (bf16 for BF16 weights) in shared memory, the inputs
// rounded alike, and the products summed in f32 by WMMA fragments (sm_80+).
// F32 weights, and rows whose length is not a multiple of 32, are left to
// matvec, which keeps f32.
//
// As in matvec, input t is row index[t] of x (row t without an index), its
// output the same row of y, and a row's result depends on nothing else in
// the batch.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace lmrt::cuda {

bool gemm_supports(uint32_t type, int64_t n);

cudaError_t gemm(uint32_t type, const void *weight, int64_t n, int64_t rows, const float *x, int64_t x_stride, float *y, int64_t y_stride,
                 int T, cudaStream_t stream, const int32_t *index = nullptr);

} // namespace lmrt::cuda
