// Rotary position embedding on the device, in place: for each of `rows`
// rows of n_head heads of head_dim values at position pos[row], the first
// n_rot values of each head rotate in pairs (i, i + n_rot / 2 with neox,
// else (2i, 2i + 1)) by pos * freq_scale * theta_scale^i, as the reference
// computes it (the angle built by repeated multiplication, the products
// fused). theta_scale = freq_base^(-2 / n_rot), computed by the caller.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace lmrt::cuda {

cudaError_t rope(float *x, const int32_t *pos, int rows, int n_head, int head_dim, int n_rot, float theta_scale, float freq_scale, bool neox,
                 cudaStream_t stream);

} // namespace lmrt::cuda
