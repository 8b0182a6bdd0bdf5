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

#include "../../native/kernels/cuda/argmax.cuh"
#include "../../native/kernels/cuda/matvec.cuh"
#include "../../native/kernels/cuda/rms_norm.cuh"
#include "../../native/kernels/cuda/rope.cuh"
#include "../../native/kernels/cuda/swiglu.cuh"
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

void swiglu_matches_the_reference() {
    std::mt19937 rng(13);
    const int64_t n = 100003;
    const std::vector<float> g = random_floats(rng, n, 3.0f), u = random_floats(rng, n, 1.0f);
    DeviceBuffer dg(n * 4), du(n * 4), dy(n * 4);
    CUDA_OK(cudaMemcpy(dg.p, g.data(), n * 4, cudaMemcpyHostToDevice));
    CUDA_OK(cudaMemcpy(du.p, u.data(), n * 4, cudaMemcpyHostToDevice));
    CUDA_OK(lmrt::cuda::swiglu(dg.as<float>(), du.as<float>(), dy.as<float>(), n, nullptr));
    std::vector<float> y(n);
    CUDA_OK(cudaMemcpy(y.data(), dy.p, n * 4, cudaMemcpyDeviceToHost));
    for (int64_t i = 0; i < n; ++i, ++checks) {
        const double want = g[i] / (1.0 + std::exp(-static_cast<double>(g[i]))) * u[i];
        if (!(std::fabs(y[i] - want) <= 1e-6 * std::fabs(want) + 1e-7)) {
            fail("swiglu element " + std::to_string(i) + ": " + std::to_string(y[i]) + " vs " + std::to_string(want));
            return;
        }
    }
}

// The scalar reference's rotation (kernels/ref: the angle by repeated
// multiplication, the products fused), for one head.
void rope_reference(float *v, int n_rot, int pos, float theta_scale, float freq_scale, bool neox) {
    float theta = static_cast<float>(pos) * freq_scale;
    for (int i = 0; i < n_rot / 2; ++i) {
        const float c = std::cos(theta), s = std::sin(theta);
        const int a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
        const float x0 = v[a], x1 = v[b];
        v[a] = std::fma(x0, c, -(x1 * s));
        v[b] = std::fma(x0, s, x1 * c);
        theta *= theta_scale;
    }
}

void rope_matches_the_reference() {
    std::mt19937 rng(14);
    const int rows = 3, n_head = 4, head_dim = 64;
    const std::vector<int32_t> pos = {0, 7, 4000};
    for (const bool neox : {false, true}) {
        for (const int n_rot : {64, 32}) {
            const float theta_scale = std::pow(10000.0f, -2.0f / static_cast<float>(n_rot));
            const std::vector<float> x = random_floats(rng, static_cast<size_t>(rows) * n_head * head_dim, 1.0f);
            DeviceBuffer dx(x.size() * 4), dp(pos.size() * 4);
            CUDA_OK(cudaMemcpy(dx.p, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
            CUDA_OK(cudaMemcpy(dp.p, pos.data(), pos.size() * 4, cudaMemcpyHostToDevice));
            CUDA_OK(lmrt::cuda::rope(dx.as<float>(), dp.as<int32_t>(), rows, n_head, head_dim, n_rot, theta_scale, 1.0f, neox, nullptr));
            std::vector<float> got(x.size()), want = x;
            CUDA_OK(cudaMemcpy(got.data(), dx.p, got.size() * 4, cudaMemcpyDeviceToHost));
            for (int r = 0; r < rows; ++r) {
                for (int h = 0; h < n_head; ++h) rope_reference(want.data() + (r * n_head + h) * head_dim, n_rot, pos[r], theta_scale, 1.0f, neox);
            }
            for (size_t i = 0; i < got.size(); ++i, ++checks) {
                // sinf/cosf against the host's: a few ulps of each factor
                if (!(std::fabs(got[i] - want[i]) <= 1e-5 * (std::fabs(x[i]) + 1.0))) {
                    fail(std::string("rope ") + (neox ? "neox" : "normal") + " n_rot=" + std::to_string(n_rot) + " element " + std::to_string(i) +
                         ": " + std::to_string(got[i]) + " vs " + std::to_string(want[i]));
                    return;
                }
            }
        }
    }
}

void argmax_matches_the_reference() {
    std::mt19937 rng(15);
    const int rows = 4;
    const int64_t n = 50000;
    std::vector<float> x = random_floats(rng, static_cast<size_t>(rows * n), 1.0f);
    x[1 * n + 777] = x[1 * n + 31000] = 100.0f; // a tie: the first wins
    x[2 * n + 5] = NAN;                         // NaN never wins
    x[2 * n + 49999] = 50.0f;
    for (int64_t i = 0; i < n; ++i) x[3 * n + i] = -1.0f; // all equal: index 0
    DeviceBuffer dx(x.size() * 4), dout(rows * 4);
    CUDA_OK(cudaMemcpy(dx.p, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
    CUDA_OK(lmrt::cuda::argmax(dx.as<float>(), rows, n, dout.as<int32_t>(), nullptr));
    std::vector<int32_t> got(rows);
    CUDA_OK(cudaMemcpy(got.data(), dout.p, rows * 4, cudaMemcpyDeviceToHost));
    for (int r = 0; r < rows; ++r, ++checks) {
        int64_t want = -1;
        for (int64_t i = 0; i < n; ++i) {
            const float v = x[r * n + i];
            if (v == v && (want < 0 || v > x[r * n + want])) want = i;
        }
        if (got[r] != want) {
            fail("argmax row " + std::to_string(r) + ": " + std::to_string(got[r]) + " vs " + std::to_string(want));
            return;
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
    } tests[] = {{"matvec_matches_the_reference", matvec_matches_the_reference}, {"rms_norm_matches_the_reference", rms_norm_matches_the_reference},
                   {"swiglu_matches_the_reference", swiglu_matches_the_reference},
                   {"rope_matches_the_reference", rope_matches_the_reference},
                   {"argmax_matches_the_reference", argmax_matches_the_reference}};
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
