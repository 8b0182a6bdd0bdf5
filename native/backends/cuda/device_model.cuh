// A Llama-family model's weights in device memory: uploaded once, in one
// allocation, in the file's own types (the kernels read GGUF blocks as they
// are), with the hyper-parameters the forward pass needs.
#pragma once

#include <cstdint>
#include <vector>

#include "abi.h"
#include "device.cuh"

namespace lmrt::cuda {

struct DeviceTensor {
    const void *data = nullptr;
    uint32_t type = 0;
    int64_t n = 0, rows = 0; // row length (ne[0]) and number of rows

    explicit operator bool() const { return data != nullptr; }
    const float *f32() const { return static_cast<const float *>(data); }
};

struct DeviceLayer {
    DeviceTensor attn_norm, wq, wk, wv, bq, bk, bv, q_norm, k_norm, wo, bo;
    DeviceTensor ffn_norm, w_gate, w_up, w_down;
};

class DeviceModel {
  public:
    // Checks every tensor's type against the kernels, then uploads them.
    int create(const lmrt_cuda_model_desc &desc, const Why &why);

    lmrt_cuda_model_desc hp{}; // the hyper-parameters (its pointers are not kept)
    DeviceTensor tok_embd, output_norm, output;
    std::vector<DeviceLayer> layers;
    size_t bytes() const { return weights_.bytes(); }

  private:
    DeviceBuffer weights_;
};

} // namespace lmrt::cuda
