// What the CUDA test files share: failure counting and a CUDA-call check.
#pragma once

#include <cstdio>
#include <string>

namespace lmrt_cuda_test {

inline int failures = 0, checks = 0;

inline void fail(const std::string &what) {
    ++failures;
    std::fprintf(stderr, "  FAIL %s\n", what.c_str());
}

} // namespace lmrt_cuda_test

// In a test function returning void: a failed CUDA call fails the test.
#define CUDA_OK(call)                                                                                   \
    do {                                                                                                \
        const cudaError_t e_ = (call);                                                                  \
        if (e_ != cudaSuccess) {                                                                        \
            ::lmrt_cuda_test::fail(std::string(#call) + ": " + cudaGetErrorString(e_));                 \
            return;                                                                                     \
        }                                                                                               \
    } while (0)
