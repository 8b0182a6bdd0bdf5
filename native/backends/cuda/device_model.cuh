// A model's weights in device memory (the Llama family or GPT-2): uploaded once, in one
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
    DeviceTensor attn_norm, attn_norm_b, wq, wk, wv, wqkv, bq, bk, bv, bqkv, q_norm, k_norm, wo, bo;
    DeviceTensor ffn_norm, ffn_norm_b, w_gate, w_up, w_down, b_up, b_down;
};

class DeviceModel {
  public:
    // Checks every tensor's type against the kernels, then uploads them.
    int create(const lmrt_cuda_model_desc &desc, const Why &why);

    lmrt_cuda_model_desc hp{}; // the hyper-parameters (its pointers are not kept)
    DeviceTensor tok_embd, pos_embd, output_norm, output_norm_b, output;
    std::vector<DeviceLayer> layers; // layers hp.first_layer .. hp.n_layer - 1
    size_t bytes() const { return weights_.bytes(); }

  private:
    DeviceBuffer weights_;
};

} // namespace lmrt::cuda
