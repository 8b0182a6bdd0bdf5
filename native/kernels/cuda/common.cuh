// Shared by the CUDA kernels: launch checks and the GGUF block layouts as
// the device reads them (the same bytes as core/quant.h's blocks).
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace lmrt::cuda {

constexpr int kWarp = 32;

struct BlockQ8_0 {
    __half d;
    int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 layout");

struct BlockQ4_0 {
    __half d;
    uint8_t qs[16]; // value i: low nibble of byte i, value i + 16: high nibble; stored with an offset of 8
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 layout");

// Sum of v over the 32 lanes of a warp, in every lane.
__device__ inline float warp_sum(float v) {
    for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// The error of the last launch on this thread (cudaSuccess when it started).
inline cudaError_t launched() { return cudaGetLastError(); }

} // namespace lmrt::cuda
