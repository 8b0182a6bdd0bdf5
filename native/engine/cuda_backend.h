// The engine's side of the CUDA backend: opens liblmrt_cuda at run time
// (never at load time, so the CPU package needs no CUDA libraries), checks
// its version, and drives a model and its contexts through abi.h.
//
// The library is looked for in LMRT_CUDA_LIBRARY (a path) if set, else at
// the path the model's parameters give (the CUDA package's, which the
// TypeScript side finds), else next to the binary that holds the engine
// (the addon, or a test program).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../backends/cuda/abi.h"
#include "../core/status.h"
#include "../models/model.h"

namespace lmrt {

// An opened liblmrt_cuda and its entry points. The library stays mapped for
// the process's life (RTLD_NODELETE): the CUDA runtime inside it does not
// expect to be unloaded.
struct CudaLibrary {
    std::string path;
    lmrt_cuda_device_count_fn device_count = nullptr;
    lmrt_cuda_device_info_fn device_info = nullptr;
    lmrt_cuda_model_create_fn model_create = nullptr;
    lmrt_cuda_model_free_fn model_free = nullptr;
    lmrt_cuda_context_create_fn context_create = nullptr;
    lmrt_cuda_context_free_fn context_free = nullptr;
    lmrt_cuda_context_step_fn context_step = nullptr;

    // E_BACKEND_UNAVAILABLE naming the path and the reason when the library
    // is missing or of another version (library: the path asked for, or
    // null for the default).
    static Status load(const char *library, CudaLibrary *out);
    // load(), then E_BACKEND_UNAVAILABLE when the library sees no device.
    static Status open(const char *library, CudaLibrary *out, std::string *device_name);
};

// A model's weights on the device.
class CudaModel {
  public:
    ~CudaModel();
    // The device runs layers first_layer .. n_layer - 1 and the output (the
    // CPU backend the layers before).
    static Status create(const HParams &hp, const ModelWeights &w, const char *library, int device, int first_layer,
                         std::unique_ptr<CudaModel> *out);
    int first_layer() const { return first_layer_; }

    const CudaLibrary &library() const { return lib_; }
    void *handle() const { return handle_; }
    const std::string &device_name() const { return device_name_; }
    uint64_t device_bytes() const { return bytes_; }

  private:
    CudaLibrary lib_;
    void *handle_ = nullptr;
    std::string device_name_;
    uint64_t bytes_ = 0;
    int first_layer_ = 0;
};

// A context's KV pool and scratch on the device.
class CudaContext {
  public:
    ~CudaContext();
    static Status create(const CudaModel &model, const lmrt_cuda_context_desc &desc, std::unique_ptr<CudaContext> *out);
    Status step(const lmrt_cuda_step &step);
    uint64_t device_bytes() const { return bytes_; }

  private:
    const CudaLibrary *lib_ = nullptr;
    void *handle_ = nullptr;
    uint64_t bytes_ = 0;
};

} // namespace lmrt
