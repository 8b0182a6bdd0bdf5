// liblmrt_cuda's exported entry points, C types only, found with dlsym: the
// engine and `lmrt doctor` ask through them whether a device is there
// before anything else of the backend is touched.
#include <cuda_runtime.h>

#include <cstdio>

#define LMRT_CUDA_EXPORT extern "C" __attribute__((visibility("default")))

// The version of this entry-point set; a loader refuses a library whose
// version it does not know.
LMRT_CUDA_EXPORT int lmrt_cuda_api_version() { return 1; }

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

// Name and memory of device `device`; false if there is no such device.
LMRT_CUDA_EXPORT bool lmrt_cuda_device_info(int device, char *name, int cap, size_t *total_bytes) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
        cudaGetLastError();
        return false;
    }
    if (name != nullptr && cap > 0) std::snprintf(name, static_cast<size_t>(cap), "%s (sm_%d%d)", prop.name, prop.major, prop.minor);
    if (total_bytes != nullptr) *total_bytes = prop.totalGlobalMem;
    return true;
}
