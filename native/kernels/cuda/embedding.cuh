// Embedding lookup on the device: out[t] = row tokens[t] of a table of rows
// of n values in a GGUF type (the types matvec takes), decoded to f32.
// Token ids must be in range: the engine checks them before a step.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace lmrt::cuda {

cudaError_t embedding(uint32_t type, const void *table, int64_t n, const int32_t *tokens, int T, float *out, int64_t out_stride,
                      cudaStream_t stream);

} // namespace lmrt::cuda
