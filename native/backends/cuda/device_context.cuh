// A context on the device: the KV block pool, the scratch of the largest
// step, and the forward pass of the Llama family over a batch of rows
// (prompt and decode rows alike), writing the logits the step asks for to
// host memory. Block tables stay with the engine's KvCache; each step
// brings the tables of its sequences and the copy-on-write block copies
// the cache decided on.
#pragma once

#include <cuda_runtime.h>

#include "../../kernels/cuda/paged_kv.cuh"
#include "abi.h"
#include "device.cuh"
#include "device_model.cuh"

namespace lmrt::cuda {

class DeviceContext {
  public:
    explicit DeviceContext(const DeviceModel &model) : m_(model) {}
    ~DeviceContext();
    DeviceContext(const DeviceContext &) = delete;
    DeviceContext &operator=(const DeviceContext &) = delete;

    int create(const lmrt_cuda_context_desc &desc, const Why &why);
    int step(const lmrt_cuda_step &step, const Why &why);
    size_t bytes() const;

  private:
    // The per-step integers, laid out alike in pinned and device memory.
    struct RowArrays {
        int32_t *tokens, *pos, *first, *slots, *table_offset, *logit_rows;
    };
    RowArrays row_arrays(int32_t *base) const;
    int ensure_tables(size_t n, const Why &why);
    int forward(const lmrt_cuda_step &step, const Why &why);

    const DeviceModel &m_;
    lmrt_cuda_context_desc desc_{};
    cudaStream_t stream_ = nullptr;
    PagedKv kv_;
    DeviceBuffer pool_, activations_, ints_, tables_, logits_, partials_;
    PinnedBuffer staging_ints_, staging_tables_;
    float *x_ = nullptr, *xg_ = nullptr, *cur_ = nullptr, *q_ = nullptr, *k_ = nullptr, *v_ = nullptr, *attn_ = nullptr, *tmp_ = nullptr,
          *og_ = nullptr, *ffn_a_ = nullptr, *ffn_b_ = nullptr;
    int logit_slice_ = 0; // rows of logits computed per output product
    size_t partial_floats_ = 0;
};

} // namespace lmrt::cuda
