// Every CUDA kernel against the scalar reference on random inputs, like the
// CPU variants in test/native/test_kernels.cpp: weights are encoded and
// decoded by lmrt's reference codecs (lmrt.h), products and norms computed
// in double on the host. On a machine without a CUDA device the binary says
// so and passes: CI compiles it, GPU machines run it.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../../native/kernels/cuda/add.cuh"
#include "../../native/kernels/cuda/argmax.cuh"
#include "../../native/kernels/cuda/embedding.cuh"
#include "../../native/kernels/cuda/gelu.cuh"
#include "../../native/kernels/cuda/gemm.cuh"
#include "../../native/kernels/cuda/layer_norm.cuh"
#include "../../native/kernels/cuda/matvec.cuh"
#include "../../native/kernels/cuda/paged_kv.cuh"
#include "../../native/kernels/cuda/rms_norm.cuh"
#include "../../native/kernels/cuda/rope.cuh"
#include "../../native/kernels/cuda/swiglu.cuh"
#include "../../native/kernels/cuda/top_k.cuh"
#include "check.h"
#include "fixtures.h"
#include "lmrt.h"

namespace {

using lmrt_cuda_test::checks;
using lmrt_cuda_test::DeviceBuffer;
using lmrt_cuda_test::fail;
using lmrt_cuda_test::half_to_float;
using lmrt_cuda_test::HostPool;
using lmrt_cuda_test::random_floats;

// Encodes n * rows random values in `type` with the reference codec; the
// decoded values in *decoded.
bool encode(uint32_t type, std::mt19937 &rng, int64_t n, int64_t rows, std::vector<uint8_t> *w, std::vector<float> *decoded) {
    lmrt_type_layout layout;
    lmrt_type_layout_get(type, &layout);
    const std::vector<float> wf = random_floats(rng, static_cast<size_t>(n * rows), 0.5f);
    w->assign(static_cast<size_t>(n / layout.block_size * layout.block_bytes * rows), 0);
    decoded->assign(wf.size(), 0.0f);
    return lmrt_quantize_row(type, wf.data(), w->data(), wf.size(), nullptr) == LMRT_OK &&
           lmrt_dequantize_row(type, w->data(), decoded->data(), decoded->size(), nullptr) == LMRT_OK;
}

const uint32_t kMatrixTypes[] = {LMRT_TYPE_F32, LMRT_TYPE_F16, LMRT_TYPE_BF16, LMRT_TYPE_Q8_0, LMRT_TYPE_Q4_0, LMRT_TYPE_Q4_K, LMRT_TYPE_Q5_K, LMRT_TYPE_Q6_K};

// Row lengths per type: short rows, long rows, and for the float types
// lengths that are not a multiple of 8 (tails, unaligned rows).
std::vector<int64_t> lengths_for(uint32_t type) {
    lmrt_type_layout layout;
    lmrt_type_layout_get(type, &layout);
    if (layout.block_size == 256) return {256, 2048, 16640};
    if (layout.block_size == 32) return {64, 2048, 16640};
    return {20, 172, 2048, 16641};
}

void matvec_matches_the_reference() {
    std::mt19937 rng(11);
    for (uint32_t type : kMatrixTypes) {
        lmrt_type_layout layout;
        lmrt_type_layout_get(type, &layout);
        for (const int64_t n : lengths_for(type)) {
            for (const int64_t rows : {1, 5, 37}) {
                // T inputs with padded strides (a multiple of 4 floats), more than one group of columns
                const int T = rows == 5 ? 11 : 1;
                const int64_t x_stride = (n + 3) / 4 * 4 + 4, y_stride = rows + 3;
                std::vector<uint8_t> w;
                std::vector<float> decoded;
                if (!encode(type, rng, n, rows, &w, &decoded)) {
                    fail(std::string(layout.name) + ": reference codec");
                    return;
                }
                const std::vector<float> x = random_floats(rng, static_cast<size_t>(x_stride * T), 1.0f);
                DeviceBuffer dw(w.size()), dx(x.size() * 4), dy(static_cast<size_t>(y_stride * T) * 4), dy1(static_cast<size_t>(rows) * 4);
                CUDA_OK(cudaMemcpy(dw.p, w.data(), w.size(), cudaMemcpyHostToDevice));
                CUDA_OK(cudaMemcpy(dx.p, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
                CUDA_OK(cudaMemset(dy.p, 0xff, static_cast<size_t>(y_stride * T) * 4)); // NaN: every output must be written
                CUDA_OK(lmrt::cuda::matvec(type, dw.p, n, rows, dx.as<float>(), x_stride, dy.as<float>(), y_stride, T, nullptr));
                std::vector<float> y(static_cast<size_t>(y_stride * T));
                CUDA_OK(cudaMemcpy(y.data(), dy.p, y.size() * 4, cudaMemcpyDeviceToHost));
                for (int t = 0; t < T; ++t) {
                    const float *xt = x.data() + t * x_stride;
                    for (int64_t o = 0; o < rows; ++o, ++checks) {
                        double want = 0, mag = 0;
                        for (int64_t i = 0; i < n; ++i) {
                            want += static_cast<double>(decoded[o * n + i]) * xt[i];
                            mag += std::fabs(static_cast<double>(decoded[o * n + i]) * xt[i]);
                        }
                        // float sums: a lane's chain is at most n / 32 terms (plus a unit's 8
                        // and the warp's 5 folds), each rounding by at most 2^-24 of the magnitude
                        const double tol = 2.0 * (static_cast<double>(n) / 32 + 64) * std::ldexp(1.0, -24) * mag + 1e-6;
                        const float got = y[t * y_stride + o];
                        if (!(std::fabs(got - want) <= tol)) {
                            fail(std::string("matvec ") + layout.name + " n=" + std::to_string(n) + " rows=" + std::to_string(rows) + " input " +
                                 std::to_string(t) + " row " + std::to_string(o) + ": " + std::to_string(got) + " vs " + std::to_string(want));
                            return;
                        }
                    }
                }
                // through an index (the inputs in reverse order), each input's output lands in its own row, the same bits
                std::vector<int32_t> reversed(static_cast<size_t>(T));
                for (int t = 0; t < T; ++t) reversed[static_cast<size_t>(t)] = T - 1 - t;
                DeviceBuffer di(reversed.size() * 4), dyi(static_cast<size_t>(y_stride * T) * 4);
                CUDA_OK(cudaMemcpy(di.p, reversed.data(), reversed.size() * 4, cudaMemcpyHostToDevice));
                CUDA_OK(cudaMemcpy(dyi.p, y.data(), y.size() * 4, cudaMemcpyHostToDevice)); // the padding as the first call left it
                CUDA_OK(lmrt::cuda::matvec(type, dw.p, n, rows, dx.as<float>(), x_stride, dyi.as<float>(), y_stride, T, nullptr, di.as<int32_t>()));
                std::vector<float> yi(y.size());
                CUDA_OK(cudaMemcpy(yi.data(), dyi.p, yi.size() * 4, cudaMemcpyDeviceToHost));
                ++checks;
                if (std::memcmp(yi.data(), y.data(), y.size() * 4) != 0) {
                    fail(std::string("matvec ") + layout.name + " n=" + std::to_string(n) + ": indexed inputs differ from the same inputs in order");
                    return;
                }
                // a row's result does not depend on the batch it is in: the last input alone gives the same bits
                CUDA_OK(lmrt::cuda::matvec(type, dw.p, n, rows, dx.as<float>() + (T - 1) * x_stride, x_stride, dy1.as<float>(), rows, 1, nullptr));
                std::vector<float> alone(static_cast<size_t>(rows));
                CUDA_OK(cudaMemcpy(alone.data(), dy1.p, alone.size() * 4, cudaMemcpyDeviceToHost));
                ++checks;
                if (std::memcmp(alone.data(), y.data() + (T - 1) * y_stride, alone.size() * 4) != 0) {
                    fail(std::string("matvec ") + layout.name + " n=" + std::to_string(n) + ": an input's result depends on its batch");
                    return;
                }
            }
        }
    }
}

void gemm_matches_the_reference() {
    std::mt19937 rng(20);
    for (uint32_t type : kMatrixTypes) {
        lmrt_type_layout layout;
        lmrt_type_layout_get(type, &layout);
        if (!lmrt::cuda::gemm_supports(type, 256)) continue; // F32 stays with matvec
        for (const int64_t n : {256, 2048}) {
            for (const auto &shape : {std::pair<int64_t, int>{70, 37}, {130, 100}, {5, 1}}) {
                const int64_t rows = shape.first;
                const int T = shape.second;
                const int64_t x_stride = n + 4, y_stride = rows + 2;
                std::vector<uint8_t> w;
                std::vector<float> decoded;
                if (!encode(type, rng, n, rows, &w, &decoded)) {
                    fail(std::string(layout.name) + ": reference codec");
                    return;
                }
                // the batch's rows in a shuffled order through an index (T + 3 rows of x, some not used)
                const int X = T + 3;
                const std::vector<float> x = random_floats(rng, static_cast<size_t>(x_stride * X), 1.0f);
                std::vector<int32_t> index(static_cast<size_t>(X));
                for (int i = 0; i < X; ++i) index[static_cast<size_t>(i)] = i;
                std::shuffle(index.begin(), index.end(), rng);
                index.resize(static_cast<size_t>(T));
                DeviceBuffer dw(w.size()), dx(x.size() * 4), dy(static_cast<size_t>(y_stride * X) * 4), di(index.size() * 4);
                CUDA_OK(cudaMemcpy(dw.p, w.data(), w.size(), cudaMemcpyHostToDevice));
                CUDA_OK(cudaMemcpy(dx.p, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
                CUDA_OK(cudaMemcpy(di.p, index.data(), index.size() * 4, cudaMemcpyHostToDevice));
                CUDA_OK(cudaMemset(dy.p, 0xff, static_cast<size_t>(y_stride * X) * 4));
                CUDA_OK(lmrt::cuda::gemm(type, dw.p, n, rows, dx.as<float>(), x_stride, dy.as<float>(), y_stride, T, nullptr, di.as<int32_t>()));
                std::vector<float> y(static_cast<size_t>(y_stride * X));
                CUDA_OK(cudaMemcpy(y.data(), dy.p, y.size() * 4, cudaMemcpyDeviceToHost));
                // inputs rounded to f16 (bf16 for BF16 weights), quantised weights decoded to f16, sums in f32
                const double rounding = type == LMRT_TYPE_BF16 ? std::ldexp(1.0, -8) : std::ldexp(1.0, -10);
                for (int t = 0; t < T; ++t) {
                    const int src = index[static_cast<size_t>(t)];
                    const float *xt = x.data() + src * x_stride;
                    for (int64_t o = 0; o < rows; ++o, ++checks) {
                        double want = 0, mag = 0;
                        for (int64_t i = 0; i < n; ++i) {
                            want += static_cast<double>(decoded[o * n + i]) * xt[i];
                            mag += std::fabs(static_cast<double>(decoded[o * n + i]) * xt[i]);
                        }
                        const double tol = (rounding + static_cast<double>(n) * std::ldexp(1.0, -23)) * mag + 1e-5;
                        const float got = y[src * y_stride + o];
                        if (!(std::fabs(got - want) <= tol)) {
                            fail(std::string("gemm ") + layout.name + " n=" + std::to_string(n) + " rows=" + std::to_string(rows) + " T=" +
                                 std::to_string(T) + " input " + std::to_string(t) + " row " + std::to_string(o) + ": " + std::to_string(got) +
                                 " vs " + std::to_string(want));
                            return;
                        }
                    }
                }
                // rows not in the index stay untouched (NaN)
                for (int r = 0; r < X; ++r) {
                    if (std::find(index.begin(), index.end(), r) != index.end()) continue;
                    ++checks;
                    if (y[r * y_stride] == y[r * y_stride]) {
                        fail(std::string("gemm ") + layout.name + ": wrote row " + std::to_string(r) + ", which is not in the index");
                        return;
                    }
                }
                // an input alone gives the bits it gives in the batch
                const int32_t last = index.back();
                DeviceBuffer di1(4), dy1(static_cast<size_t>(y_stride * X) * 4);
                CUDA_OK(cudaMemcpy(di1.p, &last, 4, cudaMemcpyHostToDevice));
                CUDA_OK(lmrt::cuda::gemm(type, dw.p, n, rows, dx.as<float>(), x_stride, dy1.as<float>(), y_stride, 1, nullptr, di1.as<int32_t>()));
                std::vector<float> alone(static_cast<size_t>(rows));
                CUDA_OK(cudaMemcpy(alone.data(), dy1.as<float>() + last * y_stride, alone.size() * 4, cudaMemcpyDeviceToHost));
                ++checks;
                if (std::memcmp(alone.data(), y.data() + last * y_stride, alone.size() * 4) != 0) {
                    fail(std::string("gemm ") + layout.name + " n=" + std::to_string(n) + ": an input's result depends on its batch");
                    return;
                }
            }
        }
    }
}

void embedding_matches_the_reference() {
    std::mt19937 rng(16);
    const std::vector<int32_t> tokens = {5, 0, 3, 5, 6};
    const int vocab = 7;
    for (uint32_t type : kMatrixTypes) {
        lmrt_type_layout layout;
        lmrt_type_layout_get(type, &layout);
        for (const int64_t n : lengths_for(type)) {
            std::vector<uint8_t> w;
            std::vector<float> decoded;
            if (!encode(type, rng, n, vocab, &w, &decoded)) {
                fail(std::string(layout.name) + ": reference codec");
                return;
            }
            const int T = static_cast<int>(tokens.size());
            const int64_t stride = n + 5;
            DeviceBuffer dw(w.size()), dt(tokens.size() * 4), dy(static_cast<size_t>(stride * T) * 4);
            CUDA_OK(cudaMemcpy(dw.p, w.data(), w.size(), cudaMemcpyHostToDevice));
            CUDA_OK(cudaMemcpy(dt.p, tokens.data(), tokens.size() * 4, cudaMemcpyHostToDevice));
            CUDA_OK(cudaMemset(dy.p, 0xff, static_cast<size_t>(stride * T) * 4));
            CUDA_OK(lmrt::cuda::embedding(type, dw.p, n, dt.as<int32_t>(), T, dy.as<float>(), stride, nullptr));
            std::vector<float> y(static_cast<size_t>(stride * T));
            CUDA_OK(cudaMemcpy(y.data(), dy.p, y.size() * 4, cudaMemcpyDeviceToHost));
            for (int t = 0; t < T; ++t) {
                const float *want = decoded.data() + tokens[t] * n;
                float peak = 0.0f;
                for (int64_t i = 0; i < n; ++i) peak = std::max(peak, std::fabs(want[i]));
                for (int64_t i = 0; i < n; ++i, ++checks) {
                    // the device may fuse a K-quant's scale-and-offset into one rounding
                    if (!(std::fabs(y[t * stride + i] - want[i]) <= std::ldexp(peak, -22))) {
                        fail(std::string("embedding ") + layout.name + " n=" + std::to_string(n) + " token " + std::to_string(tokens[t]) + " value " +
                             std::to_string(i) + ": " + std::to_string(y[t * stride + i]) + " vs " + std::to_string(want[i]));
                        return;
                    }
                }
            }
        }
    }
}

void adds_and_gathers_are_exact() {
    std::mt19937 rng(17);
    const int T = 5;
    const int64_t n = 300, stride = 304;
    const std::vector<float> y0 = random_floats(rng, static_cast<size_t>(T * stride), 1.0f), x = random_floats(rng, static_cast<size_t>(T * stride), 1.0f);
    const std::vector<float> bias = random_floats(rng, static_cast<size_t>(n), 1.0f);
    const std::vector<int32_t> rows = {1, 4};
    DeviceBuffer dy(y0.size() * 4), dx(x.size() * 4), db(bias.size() * 4), dr(rows.size() * 4), dg(rows.size() * n * 4);
    CUDA_OK(cudaMemcpy(dy.p, y0.data(), y0.size() * 4, cudaMemcpyHostToDevice));
    CUDA_OK(cudaMemcpy(dx.p, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
    CUDA_OK(cudaMemcpy(db.p, bias.data(), bias.size() * 4, cudaMemcpyHostToDevice));
    CUDA_OK(cudaMemcpy(dr.p, rows.data(), rows.size() * 4, cudaMemcpyHostToDevice));
    CUDA_OK(lmrt::cuda::add_rows(dy.as<float>(), stride, dx.as<float>(), stride, T, n, nullptr));
    CUDA_OK(lmrt::cuda::add_bias(dy.as<float>(), stride, db.as<float>(), T, n, nullptr));
    CUDA_OK(lmrt::cuda::gather_rows(dg.as<float>(), dy.as<float>(), dr.as<int32_t>(), static_cast<int>(rows.size()), n, nullptr));
    std::vector<float> y(y0.size()), g(rows.size() * n);
    CUDA_OK(cudaMemcpy(y.data(), dy.p, y.size() * 4, cudaMemcpyDeviceToHost));
    CUDA_OK(cudaMemcpy(g.data(), dg.p, g.size() * 4, cudaMemcpyDeviceToHost));
    for (int t = 0; t < T; ++t) {
        for (int64_t i = 0; i < stride; ++i, ++checks) {
            const size_t k = static_cast<size_t>(t * stride + i);
            const float want = i < n ? (y0[k] + x[k]) + bias[static_cast<size_t>(i)] : y0[k]; // the padding stays
            if (std::memcmp(&y[k], &want, 4) != 0) {
                fail("add_rows/add_bias row " + std::to_string(t) + " element " + std::to_string(i));
                return;
            }
        }
    }
    for (size_t j = 0; j < rows.size(); ++j, ++checks) {
        if (std::memcmp(g.data() + j * n, y.data() + rows[j] * stride, n * 4) != 0) {
            fail("gather_rows row " + std::to_string(j));
            return;
        }
    }
}

void kv_store_writes_f16_rows_to_their_slots() {
    std::mt19937 rng(18);
    const int n_layer = 3, n_head_kv = 2, head_dim = 40, block_size = 16, n_blocks = 6, layer = 1;
    HostPool host(n_layer, n_head_kv, head_dim, block_size, n_blocks);
    const int T = 4, width = n_head_kv * head_dim;
    const std::vector<int32_t> slots = {5 * 16 + 0, 2 * 16 + 15, 0 * 16 + 3, 5 * 16 + 1};
    const std::vector<float> k = random_floats(rng, static_cast<size_t>(T * width), 2.0f), v = random_floats(rng, static_cast<size_t>(T * width), 2.0f);
    DeviceBuffer dpool(host.halves.size() * 2), dk(k.size() * 4), dv(v.size() * 4), ds(slots.size() * 4);
    CUDA_OK(cudaMemset(dpool.p, 0, host.halves.size() * 2));
    CUDA_OK(cudaMemcpy(dk.p, k.data(), k.size() * 4, cudaMemcpyHostToDevice));
    CUDA_OK(cudaMemcpy(dv.p, v.data(), v.size() * 4, cudaMemcpyHostToDevice));
    CUDA_OK(cudaMemcpy(ds.p, slots.data(), slots.size() * 4, cudaMemcpyHostToDevice));
    lmrt::cuda::PagedKv kv = host.kv;
    kv.pool = dpool.as<uint8_t>();
    CUDA_OK(lmrt::cuda::kv_store(kv, layer, dk.as<float>(), width, dv.as<float>(), width, ds.as<int32_t>(), T, nullptr));
    std::vector<uint16_t> got(host.halves.size());
    CUDA_OK(cudaMemcpy(got.data(), dpool.p, got.size() * 2, cudaMemcpyDeviceToHost));
    std::vector<uint16_t> want(host.halves.size(), 0);
    for (int t = 0; t < T; ++t) {
        for (int which = 0; which < 2; ++which) {
            // the reference's f32 -> f16 (round to nearest even)
            lmrt_quantize_row(LMRT_TYPE_F16, (which == 0 ? k : v).data() + t * width,
                              want.data() + host.index(slots[t] / block_size, layer, which, slots[t] % block_size, 0), width, nullptr);
        }
    }
    ++checks;
    if (got != want) fail("kv_store: the pool differs from the reference's f16 rows in their slots (and zeros elsewhere)");
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

void layer_norm_matches_the_reference() {
    std::mt19937 rng(21);
    for (const int64_t n : {64, 768, 5000}) {
        const int rows = 3;
        std::vector<float> x = random_floats(rng, static_cast<size_t>(n * rows), 2.0f);
        for (float &v : x) v += 3.0f; // a mean far from 0
        const std::vector<float> w = random_floats(rng, static_cast<size_t>(n), 1.0f), b = random_floats(rng, static_cast<size_t>(n), 1.0f);
        DeviceBuffer dx(x.size() * 4), dw(w.size() * 4), db(b.size() * 4), dy(x.size() * 4);
        CUDA_OK(cudaMemcpy(dx.p, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
        CUDA_OK(cudaMemcpy(dw.p, w.data(), w.size() * 4, cudaMemcpyHostToDevice));
        CUDA_OK(cudaMemcpy(db.p, b.data(), b.size() * 4, cudaMemcpyHostToDevice));
        CUDA_OK(lmrt::cuda::layer_norm(dx.as<float>(), dw.as<float>(), db.as<float>(), dy.as<float>(), rows, n, 1e-5f, nullptr));
        std::vector<float> y(x.size());
        CUDA_OK(cudaMemcpy(y.data(), dy.p, y.size() * 4, cudaMemcpyDeviceToHost));
        for (int r = 0; r < rows; ++r) {
            double mean = 0, var = 0;
            for (int64_t i = 0; i < n; ++i) mean += x[r * n + i];
            mean /= static_cast<double>(n);
            for (int64_t i = 0; i < n; ++i) var += (x[r * n + i] - mean) * (x[r * n + i] - mean);
            const double scale = 1.0 / std::sqrt(var / static_cast<double>(n) + 1e-5);
            for (int64_t i = 0; i < n; ++i, ++checks) {
                const double want = (x[r * n + i] - mean) * scale * w[i] + b[i];
                if (!(std::fabs(y[r * n + i] - want) <= 1e-5 * (std::fabs(want) + std::fabs(b[i]) + 1.0))) {
                    fail("layer_norm n=" + std::to_string(n) + " row " + std::to_string(r) + " element " + std::to_string(i) + ": " +
                         std::to_string(y[r * n + i]) + " vs " + std::to_string(want));
                    return;
                }
            }
        }
    }
}

float round_f16(float v) {
    uint16_t h;
    float f;
    lmrt_quantize_row(LMRT_TYPE_F16, &v, &h, 1, nullptr);
    lmrt_dequantize_row(LMRT_TYPE_F16, &h, &f, 1, nullptr);
    return f;
}

void gelu_matches_the_reference() {
    std::mt19937 rng(22);
    std::vector<float> x = random_floats(rng, 100000, 4.0f);
    x[0] = -10.0f, x[1] = -10.5f, x[2] = 10.0f, x[3] = 25.0f, x[4] = 0.0f, x[5] = NAN;
    DeviceBuffer dx(x.size() * 4);
    CUDA_OK(cudaMemcpy(dx.p, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
    CUDA_OK(lmrt::cuda::gelu(dx.as<float>(), static_cast<int64_t>(x.size()), nullptr));
    std::vector<float> y(x.size());
    CUDA_OK(cudaMemcpy(y.data(), dx.p, y.size() * 4, cudaMemcpyDeviceToHost));
    for (size_t i = 0; i < x.size(); ++i, ++checks) {
        // the reference (kernels/ref gelu): f16 in, tanh form, f16 out; 0 at or below -10, unchanged at or above 10
        const float v = x[i];
        float want = v;
        if (v <= -10.0f) {
            want = 0.0f;
        } else if (v < 10.0f) {
            const float f = round_f16(v);
            want = round_f16(0.5f * f * (1.0f + std::tanh(0.79788456080286535587989211986876f * f * (1.0f + 0.044715f * f * f))));
        }
        // tanhf and the host's tanh may differ in the last place, which can move the f16 rounding by one step
        const bool same = (want != want && y[i] != y[i]) || std::fabs(y[i] - want) <= std::ldexp(std::fabs(want), -10) + 1e-7f;
        if (!same) {
            fail("gelu of " + std::to_string(v) + ": " + std::to_string(y[i]) + " vs " + std::to_string(want));
            return;
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

void top_k_matches_the_reference() {
    std::mt19937 rng(23);
    const int rows = 5;
    for (const int64_t n : {300, 128256}) {
        std::vector<float> x = random_floats(rng, static_cast<size_t>(rows * n), 3.0f);
        // row 1: many equal values (ties by lower index), row 2: NaN, infinities and signed zeros, row 3: all equal
        for (int64_t i = 0; i < n; i += 3) x[1 * n + i] = 2.5f;
        x[2 * n + 7] = NAN, x[2 * n + 8] = INFINITY, x[2 * n + 9] = -INFINITY, x[2 * n + 10] = -0.0f, x[2 * n + 11] = 0.0f;
        for (int64_t i = 0; i < n; ++i) x[3 * n + i] = -1.0f;
        for (const int k : {1, 40, 256}) {
            DeviceBuffer dx(x.size() * 4), di(static_cast<size_t>(rows * k) * 4), dv(static_cast<size_t>(rows * k) * 4);
            CUDA_OK(cudaMemcpy(dx.p, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
            CUDA_OK(lmrt::cuda::top_k(dx.as<float>(), rows, n, k, di.as<int32_t>(), dv.as<float>(), nullptr));
            std::vector<int32_t> ids(static_cast<size_t>(rows * k));
            std::vector<float> values(ids.size());
            CUDA_OK(cudaMemcpy(ids.data(), di.p, ids.size() * 4, cudaMemcpyDeviceToHost));
            CUDA_OK(cudaMemcpy(values.data(), dv.p, values.size() * 4, cudaMemcpyDeviceToHost));
            for (int r = 0; r < rows; ++r, ++checks) {
                // the sampling chain's order: larger first, equal values (-0 == +0) by lower index, NaN as -infinity
                const float *row = x.data() + r * n;
                auto value = [row](int32_t i) { return row[i] == row[i] ? row[i] : -INFINITY; };
                std::vector<int32_t> order(static_cast<size_t>(n));
                for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = static_cast<int32_t>(i);
                std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
                    return value(a) > value(b) || (value(a) == value(b) && a < b);
                });
                for (int i = 0; i < k; ++i) {
                    const size_t at = static_cast<size_t>(r * k + i);
                    const float want = value(order[static_cast<size_t>(i)]);
                    if (ids[at] != order[static_cast<size_t>(i)] || std::memcmp(&values[at], &want, 4) != 0) {
                        fail("top_k n=" + std::to_string(n) + " k=" + std::to_string(k) + " row " + std::to_string(r) + " entry " + std::to_string(i) +
                             ": id " + std::to_string(ids[at]) + " vs " + std::to_string(order[static_cast<size_t>(i)]));
                        return;
                    }
                }
            }
        }
    }
}

} // namespace

namespace lmrt_cuda_test {
void cuda_model_matches_the_cpu_backend(); // test_cuda_model.cpp
void paged_attention_matches_the_reference(); // test_cuda_attention.cu
void flash_attention_matches_the_reference();
} // namespace lmrt_cuda_test

int main() {
    using lmrt_cuda_test::checks;
    using lmrt_cuda_test::failures;
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
    } tests[] = {{"matvec_matches_the_reference", matvec_matches_the_reference},
                   {"gemm_matches_the_reference", gemm_matches_the_reference},
                   {"embedding_matches_the_reference", embedding_matches_the_reference},
                   {"adds_and_gathers_are_exact", adds_and_gathers_are_exact},
                   {"kv_store_writes_f16_rows_to_their_slots", kv_store_writes_f16_rows_to_their_slots},
                   {"paged_attention_matches_the_reference", lmrt_cuda_test::paged_attention_matches_the_reference},
                   {"flash_attention_matches_the_reference", lmrt_cuda_test::flash_attention_matches_the_reference},
                   {"rms_norm_matches_the_reference", rms_norm_matches_the_reference},
                   {"layer_norm_matches_the_reference", layer_norm_matches_the_reference},
                   {"gelu_matches_the_reference", gelu_matches_the_reference},
                   {"swiglu_matches_the_reference", swiglu_matches_the_reference},
                   {"rope_matches_the_reference", rope_matches_the_reference},
                   {"argmax_matches_the_reference", argmax_matches_the_reference},
                   {"top_k_matches_the_reference", top_k_matches_the_reference},
                   {"cuda_model_matches_the_cpu_backend", lmrt_cuda_test::cuda_model_matches_the_cpu_backend}};
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
