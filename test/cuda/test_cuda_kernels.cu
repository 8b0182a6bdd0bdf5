// Every CUDA kernel against the scalar reference on random inputs, like the
// CPU variants in test/native/test_kernels.cpp: weights are encoded and
// decoded by lmrt's reference codecs (lmrt.h), products and norms computed
// in double on the host. On a machine without a CUDA device the binary says
// so and passes: CI compiles it, GPU machines run it.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../../native/kernels/cuda/matvec.cuh"
#include "../../native/kernels/cuda/rms_norm.cuh"
#include "lmrt.h"

namespace {

int failures = 0, checks = 0;

void fail(const std::string &what) {
    ++failures;
    std::fprintf(stderr, "  FAIL %s\n", what.c_str());
}

#define CUDA_OK(call)                                                                                   \
    do {                                                                                                \
        const cudaError_t e_ = (call);                                                                  \
        if (e_ != cudaSuccess) {                                                                        \
            fail(std::string(#call) + ": " + cudaGetErrorString(e_));                                   \
            return;                                                                                     \
        }                                                                                               \
    } while (0)

std::vector<float> random_floats(std::mt19937 &rng, size_t n, float scale) {
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

void matvec_matches_the_reference() {
    std::mt19937 rng(11);
    for (uint32_t type : {LMRT_TYPE_F32, LMRT_TYPE_F16, LMRT_TYPE_Q8_0, LMRT_TYPE_Q4_0}) {
        lmrt_type_layout layout;
        lmrt_type_layout_get(type, &layout);
        // short rows, rows past the shared-memory stage (x read from global memory), odd row counts
        for (const int64_t n : {64, 2048, 16384 + 256}) {
            for (const int64_t rows : {1, 5, 37}) {
                const std::vector<float> wf = random_floats(rng, static_cast<size_t>(n * rows), 0.5f);
                const std::vector<float> x = random_floats(rng, static_cast<size_t>(n), 1.0f);
                std::vector<uint8_t> w(static_cast<size_t>(n / layout.block_size * layout.block_bytes * rows));
                std::vector<float> decoded(wf.size());
                if (lmrt_quantize_row(type, wf.data(), w.data(), wf.size(), nullptr) != LMRT_OK ||
                    lmrt_dequantize_row(type, w.data(), decoded.data(), decoded.size(), nullptr) != LMRT_OK) {
                    fail(std::string(layout.name) + ": reference codec");
                    return;
                }
                DeviceBuffer dw(w.size()), dx(x.size() * 4), dy(static_cast<size_t>(rows) * 4);
                CUDA_OK(cudaMemcpy(dw.p, w.data(), w.size(), cudaMemcpyHostToDevice));
                CUDA_OK(cudaMemcpy(dx.p, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
                CUDA_OK(cudaMemset(dy.p, 0xff, static_cast<size_t>(rows) * 4)); // NaN: every output must be written
                CUDA_OK(lmrt::cuda::matvec(type, dw.p, n, rows, dx.as<float>(), dy.as<float>(), nullptr));
                std::vector<float> y(static_cast<size_t>(rows));
                CUDA_OK(cudaMemcpy(y.data(), dy.p, y.size() * 4, cudaMemcpyDeviceToHost));
                for (int64_t o = 0; o < rows; ++o, ++checks) {
                    double want = 0, mag = 0;
                    for (int64_t i = 0; i < n; ++i) {
                        want += static_cast<double>(decoded[o * n + i]) * x[i];
                        mag += std::fabs(static_cast<double>(decoded[o * n + i]) * x[i]);
                    }
                    // float sums: a lane's chain is at most n / 32 terms (plus a block's 32
                    // and the warp's 5 folds), each rounding by at most 2^-24 of the magnitude
                    const double tol = 2.0 * (static_cast<double>(n) / 32 + 64) * std::ldexp(1.0, -24) * mag + 1e-6;
                    if (!(std::fabs(y[o] - want) <= tol)) {
                        fail(std::string("matvec ") + layout.name + " n=" + std::to_string(n) + " rows=" + std::to_string(rows) + " row " +
                             std::to_string(o) + ": " + std::to_string(y[o]) + " vs " + std::to_string(want));
                        return;
                    }
                }
            }
        }
    }
}

void rms_norm_matches_the_reference() {
    std::mt19937 rng(12);
    for (const int64_t n : {64, 4096, 5000}) {
        const int rows = 3;
        const std::vector<float> x = random_floats(rng, static_cast<size_t>(n * rows), 2.0f), w = random_floats(rng, static_cast<size_t>(n), 1.0f);
        DeviceBuffer dx(x.size() * 4), dw(w.size() * 4), dy(x.size() * 4);
        CUDA_OK(cudaMemcpy(dx.p, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
        CUDA_OK(cudaMemcpy(dw.p, w.data(), w.size() * 4, cudaMemcpyHostToDevice));
        CUDA_OK(lmrt::cuda::rms_norm(dx.as<float>(), dw.as<float>(), dy.as<float>(), rows, n, 1e-5f, nullptr));
        std::vector<float> y(x.size());
        CUDA_OK(cudaMemcpy(y.data(), dy.p, y.size() * 4, cudaMemcpyDeviceToHost));
        for (int r = 0; r < rows; ++r) {
            double sum = 0;
            for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[r * n + i]) * x[r * n + i];
            const double scale = 1.0 / std::sqrt(sum / static_cast<double>(n) + 1e-5);
            for (int64_t i = 0; i < n; ++i, ++checks) {
                const double want = x[r * n + i] * scale * w[i];
                if (!(std::fabs(y[r * n + i] - want) <= 1e-5 * std::fabs(want) + 1e-6)) {
                    fail("rms_norm n=" + std::to_string(n) + " row " + std::to_string(r) + " element " + std::to_string(i) + ": " +
                         std::to_string(y[r * n + i]) + " vs " + std::to_string(want));
                    return;
                }
            }
        }
    }
}

} // namespace

int main() {
    int devices = 0;
    const cudaError_t e = cudaGetDeviceCount(&devices);
    if (e != cudaSuccess || devices == 0) {
        std::printf("SKIP: no CUDA device here (%s): the CUDA kernels were built for this machine's nvcc, not run\n",
                    e != cudaSuccess ? cudaGetErrorString(e) : "none found");
        return 0;
    }
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, 0);
    std::printf("device 0: %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
    const struct {
        const char *name;
        void (*run)();
    } tests[] = {{"matvec_matches_the_reference", matvec_matches_the_reference}, {"rms_norm_matches_the_reference", rms_norm_matches_the_reference}};
    int failed_tests = 0;
    for (const auto &t : tests) {
        const int before = failures;
        std::printf("%s\n", t.name);
        t.run();
        if (failures != before) ++failed_tests;
    }
    std::printf("%d checks; %d passed, %d failed\n", checks, static_cast<int>(sizeof tests / sizeof tests[0]) - failed_tests, failed_tests);
    return failed_tests == 0 ? 0 : 1;
}
