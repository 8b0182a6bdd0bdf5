// What the CUDA kernel tests share: random inputs, device buffers, and a
// host mirror of the device's KV pool.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "../../native/kernels/cuda/paged_kv.cuh"
#include "lmrt.h"

namespace lmrt_cuda_test {

inline std::vector<float> random_floats(std::mt19937 &rng, size_t n, float scale) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float &x : v) x = dist(rng);
    return v;
}

// A device buffer freed on scope exit.
struct DeviceBuffer {
    void *p = nullptr;
    explicit DeviceBuffer(size_t bytes) {
        if (cudaMalloc(&p, bytes) != cudaSuccess) p = nullptr;
    }
    ~DeviceBuffer() { cudaFree(p); }
    DeviceBuffer(const DeviceBuffer &) = delete;
    DeviceBuffer &operator=(const DeviceBuffer &) = delete;
    template <typename T>
    T *as() const { return static_cast<T *>(p); }
};

// A KV pool on the host mirroring the device's (paged_kv.cuh), f16 values.
struct HostPool {
    lmrt::cuda::PagedKv kv;
    std::vector<uint16_t> halves;

    HostPool(int n_layer, int n_head_kv, int head_dim, int block_size, int n_blocks) {
        kv.n_layer = n_layer;
        kv.n_head_kv = n_head_kv;
        kv.head_dim = head_dim;
        kv.block_size = block_size;
        kv.block_bytes = static_cast<size_t>(block_size) * n_head_kv * head_dim * 2;
        halves.assign(static_cast<size_t>(n_blocks) * n_layer * 2 * kv.block_bytes / 2, 0);
    }
    size_t index(int block, int layer, int which, int row, int head) const {
        return ((static_cast<size_t>(block) * kv.n_layer + layer) * 2 + which) * kv.block_bytes / 2 +
               (static_cast<size_t>(row) * kv.n_head_kv + head) * kv.head_dim;
    }
};

inline float half_to_float(uint16_t h) {
    float f;
    lmrt_dequantize_row(LMRT_TYPE_F16, &h, &f, 1, nullptr);
    return f;
}

} // namespace lmrt_cuda_test
