// What the CUDA backend's files share: device and pinned buffers that free
// themselves, and failures carried out of the library as an lmrt_status
// with a message.
#pragma once

#include <cuda_runtime.h>

#include <cstdarg>
#include <cstddef>
#include <cstdio>

#include "../../include/lmrt.h"

namespace lmrt::cuda {

// A failure's message buffer (the caller's `why`, `cap` bytes).
struct Why {
    char *text;
    int cap;

    // Writes the message and returns `status`, for `return why.fail(...)`.
    __attribute__((format(printf, 3, 4))) int fail(lmrt_status status, const char *fmt, ...) const {
        if (text != nullptr && cap > 0) {
            va_list args;
            va_start(args, fmt);
            std::vsnprintf(text, static_cast<size_t>(cap), fmt, args);
            va_end(args);
        }
        return status;
    }

    // A CUDA error while `what`: out of memory is LMRT_E_OUT_OF_MEMORY, anything else LMRT_E_DEVICE.
    int cuda(cudaError_t e, const char *what) const {
        cudaGetLastError(); // the runtime keeps the last error per thread; clear it
        return fail(e == cudaErrorMemoryAllocation ? LMRT_E_OUT_OF_MEMORY : LMRT_E_DEVICE, "CUDA error while %s: %s", what,
                    cudaGetErrorString(e));
    }
};

#define LMRT_CUDA_TRY(call, why, what)                                                                                                    \
    do {                                                                                                                                  \
        const cudaError_t e_ = (call);                                                                                                    \
        if (e_ != cudaSuccess) return (why).cuda(e_, what);                                                                               \
    } while (0)

// Where a Buffer's memory comes from.
struct DeviceMemory {
    static cudaError_t allocate(void **p, size_t bytes) { return cudaMalloc(p, bytes); }
    static void release(void *p) { cudaFree(p); }
};
struct PinnedMemory { // page-locked host memory: asynchronous copies need it
    static cudaError_t allocate(void **p, size_t bytes) { return cudaMallocHost(p, bytes); }
    static void release(void *p) { cudaFreeHost(p); }
};

// Memory owned by one object.
template <typename Memory> class Buffer {
  public:
    Buffer() = default;
    ~Buffer() { reset(); }
    Buffer(const Buffer &) = delete;
    Buffer &operator=(const Buffer &) = delete;

    cudaError_t allocate(size_t bytes) {
        reset();
        const cudaError_t e = bytes == 0 ? cudaSuccess : Memory::allocate(&p_, bytes);
        if (e == cudaSuccess) bytes_ = bytes;
        else p_ = nullptr;
        return e;
    }
    void reset() {
        if (p_ != nullptr) Memory::release(p_);
        p_ = nullptr;
        bytes_ = 0;
    }
    template <typename T = void> T *get() const { return static_cast<T *>(p_); }
    size_t bytes() const { return bytes_; }

  private:
    void *p_ = nullptr;
    size_t bytes_ = 0;
};

using DeviceBuffer = Buffer<DeviceMemory>;
using PinnedBuffer = Buffer<PinnedMemory>;

} // namespace lmrt::cuda
