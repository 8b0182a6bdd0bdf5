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

// Device memory owned by one object.
class DeviceBuffer {
  public:
    DeviceBuffer() = default;
    ~DeviceBuffer() { reset(); }
    DeviceBuffer(const DeviceBuffer &) = delete;
    DeviceBuffer &operator=(const DeviceBuffer &) = delete;

    cudaError_t allocate(size_t bytes) {
        reset();
        bytes_ = bytes;
        return bytes == 0 ? cudaSuccess : cudaMalloc(&p_, bytes);
    }
    void reset() {
        if (p_ != nullptr) cudaFree(p_);
        p_ = nullptr;
        bytes_ = 0;
    }
    template <typename T = void> T *get() const { return static_cast<T *>(p_); }
    size_t bytes() const { return bytes_; }

  private:
    void *p_ = nullptr;
    size_t bytes_ = 0;
};

// Page-locked host memory (asynchronous copies need it).
class PinnedBuffer {
  public:
    PinnedBuffer() = default;
    ~PinnedBuffer() { reset(); }
    PinnedBuffer(const PinnedBuffer &) = delete;
    PinnedBuffer &operator=(const PinnedBuffer &) = delete;

    cudaError_t allocate(size_t bytes) {
        reset();
        bytes_ = bytes;
        return bytes == 0 ? cudaSuccess : cudaMallocHost(&p_, bytes);
    }
    void reset() {
        if (p_ != nullptr) cudaFreeHost(p_);
        p_ = nullptr;
        bytes_ = 0;
    }
    template <typename T = void> T *get() const { return static_cast<T *>(p_); }
    size_t bytes() const { return bytes_; }

  private:
    void *p_ = nullptr;
    size_t bytes_ = 0;
};

} // namespace lmrt::cuda
