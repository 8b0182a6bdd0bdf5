#include "common.cuh"
#include "rope.cuh"

namespace lmrt::cuda {

namespace {

// One thread per rotated pair: block (row, head), thread i.
__global__ void rope_pairs(float *x, const int32_t *pos, int n_head, int head_dim, int n_rot, float theta_scale, float freq_scale, bool neox) {
    const int row = blockIdx.x / n_head, head = blockIdx.x % n_head;
    float *v = x + (static_cast<int64_t>(row) * n_head + head) * head_dim;
    for (int i = threadIdx.x; i < n_rot / 2; i += blockDim.x) {
        float theta = static_cast<float>(pos[row]) * freq_scale;
        for (int k = 0; k < i; ++k) theta *= theta_scale;
        const float c = cosf(theta), s = sinf(theta);
        const int a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
        const float x0 = v[a], x1 = v[b];
        v[a] = fmaf(x0, c, -(x1 * s));
        v[b] = fmaf(x0, s, x1 * c);
    }
}

} // namespace

cudaError_t rope(float *x, const int32_t *pos, int rows, int n_head, int head_dim, int n_rot, float theta_scale, float freq_scale, bool neox,
                 cudaStream_t stream) {
    if (rows <= 0 || n_head <= 0 || n_rot < 2) return cudaSuccess;
    const int threads = n_rot / 2 < 128 ? ((n_rot / 2 + kWarp - 1) / kWarp) * kWarp : 128;
    rope_pairs<<<static_cast<unsigned>(rows * n_head), threads, 0, stream>>>(x, pos, n_head, head_dim, n_rot, theta_scale, freq_scale, neox);
    return launched();
}

} // namespace lmrt::cuda
