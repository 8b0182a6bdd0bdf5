// liblmrt_cuda's exported entry points (abi.h), found with dlsym: whether a
// device is there, then models and contexts on it. No C++ exception leaves
// the library: each entry point turns one into a status and a message.
#include <cuda_runtime.h>

#include <cstdio>
#include <memory>
#include <new>

#include "abi.h"
#include "device_context.cuh"
#include "device_model.cuh"

#define LMRT_CUDA_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

template <typename Fn> int guarded(const lmrt::cuda::Why &why, const char *what, Fn fn) {
    try {
        return fn();
    } catch (const std::bad_alloc &) {
        return why.fail(LMRT_E_OUT_OF_MEMORY, "out of host memory while %s", what);
    } catch (...) {
        return why.fail(LMRT_E_INTERNAL, "unexpected exception while %s", what);
    }
}

} // namespace

LMRT_CUDA_EXPORT int lmrt_cuda_api_version() { return LMRT_CUDA_ABI_VERSION; }

// Number of CUDA devices (0 when there is no driver or no device); on 0,
// why, in `why` (at most `cap` bytes, NUL-terminated) when it is not null.
LMRT_CUDA_EXPORT int lmrt_cuda_device_count(char *why, int cap) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        if (why != nullptr && cap > 0) std::snprintf(why, static_cast<size_t>(cap), "%s", cudaGetErrorString(e));
        cudaGetLastError(); // clear it: the runtime keeps the last error per thread
        return 0;
    }
    if (count == 0 && why != nullptr && cap > 0) std::snprintf(why, static_cast<size_t>(cap), "no CUDA device");
    return count;
}

// Name and memory of device `device`: 1, or 0 if there is no such device.
LMRT_CUDA_EXPORT int lmrt_cuda_device_info(int device, char *name, int cap, size_t *total_bytes) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    if (name != nullptr && cap > 0) std::snprintf(name, static_cast<size_t>(cap), "%s (sm_%d%d)", prop.name, prop.major, prop.minor);
    if (total_bytes != nullptr) *total_bytes = prop.totalGlobalMem;
    return 1;
}

LMRT_CUDA_EXPORT int lmrt_cuda_model_create(const lmrt_cuda_model_desc *desc, void **model, uint64_t *device_bytes, char *why_text, int cap) {
    const lmrt::cuda::Why why{why_text, cap};
    if (desc == nullptr || model == nullptr) return why.fail(LMRT_E_INVALID_ARGUMENT, "lmrt_cuda_model_create: null argument");
    *model = nullptr;
    return guarded(why, "uploading a model", [&] {
        auto m = std::make_unique<lmrt::cuda::DeviceModel>();
        const int status = m->create(*desc, why);
        if (status != LMRT_OK) return status;
        if (device_bytes != nullptr) *device_bytes = m->bytes();
        *model = m.release();
        return static_cast<int>(LMRT_OK);
    });
}

LMRT_CUDA_EXPORT void lmrt_cuda_model_free(void *model) { delete static_cast<lmrt::cuda::DeviceModel *>(model); }

LMRT_CUDA_EXPORT int lmrt_cuda_context_create(void *model, const lmrt_cuda_context_desc *desc, void **ctx, uint64_t *device_bytes,
                                              char *why_text, int cap) {
    const lmrt::cuda::Why why{why_text, cap};
    if (model == nullptr || desc == nullptr || ctx == nullptr) return why.fail(LMRT_E_INVALID_ARGUMENT, "lmrt_cuda_context_create: null argument");
    *ctx = nullptr;
    return guarded(why, "creating a context", [&] {
        auto c = std::make_unique<lmrt::cuda::DeviceContext>(*static_cast<const lmrt::cuda::DeviceModel *>(model));
        const int status = c->create(*desc, why);
        if (status != LMRT_OK) return status;
        if (device_bytes != nullptr) *device_bytes = c->bytes();
        *ctx = c.release();
        return static_cast<int>(LMRT_OK);
    });
}

LMRT_CUDA_EXPORT void lmrt_cuda_context_free(void *ctx) { delete static_cast<lmrt::cuda::DeviceContext *>(ctx); }

LMRT_CUDA_EXPORT int lmrt_cuda_context_step(void *ctx, const lmrt_cuda_step *step, char *why_text, int cap) {
    const lmrt::cuda::Why why{why_text, cap};
    if (ctx == nullptr || step == nullptr) return why.fail(LMRT_E_INVALID_ARGUMENT, "lmrt_cuda_context_step: null argument");
    return guarded(why, "running a step", [&] { return static_cast<lmrt::cuda::DeviceContext *>(ctx)->step(*step, why); });
}
