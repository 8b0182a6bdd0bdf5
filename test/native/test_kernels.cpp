// Every optimised kernel against the scalar reference, on fresh random
// inputs of many shapes (ragged tails included). Outputs are poisoned with
// NaN first, so every element must be written.
#include <cmath>
#include <cstring>
#include <random>

#include "test.h"

namespace {

std::vector<lmrt_kernel_variant> fast_variants() {
    std::vector<lmrt_kernel_variant> v;
    if (lmrt_kernel_variant_available(LMRT_KERNEL_NEON)) {
        v.push_back(LMRT_KERNEL_NEON);
        if (lmrt_kernel_variant_available(LMRT_KERNEL_NEON_DOTPROD)) {
            v.push_back(LMRT_KERNEL_NEON_DOTPROD);
        } else {
            std::fprintf(stderr, "  NOTE: this CPU has no dot product extension: the neon_dotprod kernels are not tested here\n");
        }
        return v;
    }
    if (lmrt_kernel_variant_available(LMRT_KERNEL_AVX2)) v.push_back(LMRT_KERNEL_AVX2);
    if (lmrt_kernel_variant_available(LMRT_KERNEL_AVX512)) {
        v.push_back(LMRT_KERNEL_AVX512);
    } else {
        std::fprintf(stderr, "  NOTE: this CPU has no AVX-512 (F, BW, VL): the avx512 kernels are not tested here\n");
    }
    if (v.empty()) lmrt_test::skip("no SIMD kernel variant on this CPU: only the reference runs");
    return v;
}

const char *variant_name(lmrt_kernel_variant v) {
    return v == LMRT_KERNEL_AVX512         ? "avx512"
           : v == LMRT_KERNEL_AVX2         ? "avx2"
           : v == LMRT_KERNEL_NEON         ? "neon"
           : v == LMRT_KERNEL_NEON_DOTPROD ? "neon_dotprod"
                                           : "ref";
}

std::vector<float> random_floats(std::mt19937 &rng, size_t n, float scale) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float &x : v) x = dist(rng);
    return v;
}


const uint32_t kMatmulTypes[] = {LMRT_TYPE_F32,  LMRT_TYPE_F16,  LMRT_TYPE_BF16, LMRT_TYPE_Q8_0,
                                 LMRT_TYPE_Q4_0, LMRT_TYPE_Q4_K, LMRT_TYPE_Q5_K, LMRT_TYPE_Q6_K};

// Whole blocks for quantised types; for float ones, ragged tails on both
// sides of each SIMD width (8, 16, 32), with and without whole 32-element steps.
std::vector<uint64_t> row_lengths(const lmrt_type_layout &layout) {
    if (layout.block_size == 1) return {1, 7, 8, 15, 16, 17, 24, 31, 32, 33, 44, 63, 100, 172, 257, 1000};
    const uint64_t b = layout.block_size;
    return {b, 2 * b, 3 * b, 7 * b};
}

// One query row's attention inputs over block-stored K/V.
struct AttentionShape {
    uint32_t n_head, n_head_kv, head_dim, block, first, last;
};
const AttentionShape kAttentionShapes[] = {{8, 4, 8, 16, 0, 0},     {8, 4, 8, 16, 0, 40},   {4, 4, 64, 16, 3, 63},
                                           {32, 8, 128, 16, 0, 200}, {6, 2, 100, 5, 10, 77}, {2, 1, 36, 7, 0, 12},
                                           {2, 2, 7, 4, 1, 9},       {4, 2, 32, 16, 0, 17},   {2, 1, 512, 16, 0, 20}};
const uint32_t kKvTypes[] = {LMRT_TYPE_F16, LMRT_TYPE_BF16, LMRT_TYPE_Q8_0};

struct AttentionCase {
    AttentionShape s;
    uint32_t kv_type;
    std::vector<float> q;
    std::vector<uint8_t> k, v;

    static AttentionCase random(std::mt19937 &rng, const AttentionShape &s, uint32_t kv_type = LMRT_TYPE_F16) {
        const uint32_t positions = (s.last / s.block + 1) * s.block;
        AttentionCase c{s, kv_type, random_floats(rng, static_cast<size_t>(s.n_head) * s.head_dim, 1.0f), {}, {}};
        const std::vector<float> kf = random_floats(rng, static_cast<size_t>(positions) * s.n_head_kv * s.head_dim, 1.0f);
        const std::vector<float> vf = random_floats(rng, kf.size(), 1.0f);
        lmrt_type_layout layout;
        lmrt_type_layout_get(kv_type, &layout);
        c.k.resize(kf.size() / layout.block_size * layout.block_bytes);
        c.v.resize(c.k.size());
        lmrt_quantize_row(kv_type, kf.data(), c.k.data(), kf.size(), nullptr);
        lmrt_quantize_row(kv_type, vf.data(), c.v.data(), vf.size(), nullptr);
        return c;
    }

    // The output, poisoned with NaN first so that every element must be written.
    std::vector<float> run(lmrt_kernel_variant variant) const {
        std::vector<float> out(q.size(), NAN);
        lmrt_error err{};
        const float scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
        if (lmrt_kernel_attention(variant, kv_type, q.data(), k.data(), v.data(), s.block, s.first, s.last, s.n_head, s.n_head_kv,
                                  s.head_dim, scale, out.data(), &err) != LMRT_OK) {
            lmrt_test::fail(__FILE__, __LINE__, std::string("lmrt_kernel_attention: ") + err.message);
        }
        return out;
    }
};
} // namespace

TEST(matmul_kernels_match_the_reference_for_every_type_and_shape) {
    const auto variants = fast_variants();
    std::mt19937 rng(1234);
    int checked = 0;
    for (uint32_t type : kMatmulTypes) {
        lmrt_type_layout layout;
        lmrt_type_layout_get(type, &layout);
        for (uint64_t n_in : row_lengths(layout)) {
            for (uint64_t n_out : {1ull, 3ull, 17ull}) {
                for (uint64_t tokens : {1ull, 2ull, 5ull}) {
                    const std::vector<float> wf = random_floats(rng, n_in * n_out, 0.5f);
                    const std::vector<float> x = random_floats(rng, n_in * tokens, 1.0f);
                    std::vector<uint8_t> w(n_in / layout.block_size * layout.block_bytes * n_out);
                    lmrt_error err{};
                    REQUIRE(lmrt_quantize_row(type, wf.data(), w.data(), wf.size(), &err) == LMRT_OK);
                    std::vector<float> want(n_out * tokens, NAN), got(n_out * tokens, NAN);
                    REQUIRE(lmrt_kernel_matmul(LMRT_KERNEL_REF, type, w.data(), n_in, n_out, x.data(), tokens, want.data(), &err) == LMRT_OK);
                    for (lmrt_kernel_variant v : variants) {
                        std::fill(got.begin(), got.end(), NAN);
                        REQUIRE(lmrt_kernel_matmul(v, type, w.data(), n_in, n_out, x.data(), tokens, got.data(), &err) == LMRT_OK);
                        for (size_t i = 0; i < got.size(); ++i) {
                            // bound relative to the sum of |w x|: float vs double accumulation order
                            double mag = 0;
                            for (uint64_t j = 0; j < n_in; ++j) {
                                mag += std::fabs(wf[(i % n_out) * n_in + j] * x[(i / n_out) * n_in + j]);
                            }
                            const double tol = 2e-5 * mag + 1e-6;
                            if (!(std::fabs(static_cast<double>(got[i]) - want[i]) <= tol)) {
                                lmrt_test::fail(__FILE__, __LINE__, std::string(layout.name) + " " + variant_name(v) + " n_in=" +
                                                    std::to_string(n_in) + " out " + std::to_string(i) + ": " +
                                                    std::to_string(got[i]) + " vs " + std::to_string(want[i]));
                                return;
                            }
                            ++checked;
                        }
                    }
                }
            }
        }
    }
    std::fprintf(stderr, "  %d outputs compared\n", checked);
}

// Q5_0 and Q5_1 run the reference's integer products on every variant:
// against the decoded weights times the f32 activations they differ only by
// the activations' 8-bit encoding (Q8_0, or Q8_1 with its f16 block sums).
TEST(q5_products_equal_decoded_weights_times_activations) {
    std::mt19937 rng(77);
    for (uint32_t type : {LMRT_TYPE_Q5_0, LMRT_TYPE_Q5_1}) {
        const uint64_t n_in = 128, n_out = 9, tokens = 3;
        std::vector<float> wf = random_floats(rng, n_in * n_out, 0.5f);
        for (size_t i = 0; i < wf.size(); i += 5) wf[i] += 0.7f; // offsets Q5_1's min must carry
        const std::vector<float> x = random_floats(rng, n_in * tokens, 1.0f);
        std::vector<uint8_t> w(n_in / 32 * (type == LMRT_TYPE_Q5_0 ? 22 : 24) * n_out);
        std::vector<float> decoded(wf.size()), got(n_out * tokens, NAN);
        lmrt_error err{};
        REQUIRE(lmrt_quantize_row(type, wf.data(), w.data(), wf.size(), &err) == LMRT_OK);
        REQUIRE(lmrt_dequantize_row(type, w.data(), decoded.data(), decoded.size(), &err) == LMRT_OK);
        std::vector<lmrt_kernel_variant> variants = fast_variants();
        variants.insert(variants.begin(), LMRT_KERNEL_REF);
        for (lmrt_kernel_variant v : variants) {
            REQUIRE(lmrt_kernel_matmul(v, type, w.data(), n_in, n_out, x.data(), tokens, got.data(), &err) == LMRT_OK);
            for (uint64_t t = 0; t < tokens; ++t) {
                for (uint64_t o = 0; o < n_out; ++o) {
                    double want = 0, mag = 0;
                    for (uint64_t j = 0; j < n_in; ++j) {
                        want += static_cast<double>(decoded[o * n_in + j]) * x[t * n_in + j];
                        mag += std::fabs(static_cast<double>(decoded[o * n_in + j]) * x[t * n_in + j]);
                    }
                    CHECK(std::fabs(got[t * n_out + o] - want) <= 0.01 * mag);
                }
            }
        }
    }
}

// Every variant encodes activations into exactly the reference's bytes:
// the integer dot products downstream then see the same operands.
TEST(activation_encoders_give_the_reference_bytes) {
    std::mt19937 rng(5);
    int checked = 0;
    for (uint32_t type : kMatmulTypes) {
        lmrt_type_layout layout;
        lmrt_type_layout_get(type, &layout);
        const uint64_t n = 8 * 256; // whole blocks of every type
        for (int trial = 0; trial < 20; ++trial) {
            std::vector<float> x = random_floats(rng, n, trial < 10 ? 1.0f : 1e4f);
            if (trial % 5 == 1) {
                // values past the edges: NaN, infinities, signed zeros, subnormals, a block of zeros
                const float edges[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-40f, -1e-45f, 65504.0f, 1e30f, -3.5f};
                for (size_t i = 0; i < x.size(); i += 7) x[i] = edges[(i / 7) % 10];
                std::fill(x.begin() + 64, x.begin() + 96, 0.0f);
            }
            std::vector<uint8_t> want(n * 4 + 64), got(want.size());
            uint64_t want_n = 0, got_n = 0;
            REQUIRE(lmrt_kernel_encode_activations(LMRT_KERNEL_REF, type, x.data(), n, want.data(), want.size(), &want_n, nullptr) == LMRT_OK);
            for (lmrt_kernel_variant v : fast_variants()) {
                REQUIRE(lmrt_kernel_encode_activations(v, type, x.data(), n, got.data(), got.size(), &got_n, nullptr) == LMRT_OK);
                CHECK_EQ(got_n, want_n);
                if (std::memcmp(got.data(), want.data(), want_n) != 0) {
                    lmrt_test::fail(__FILE__, __LINE__, std::string(layout.name) + " " + variant_name(v) + " trial " + std::to_string(trial) +
                                                            ": encoded bytes differ from the reference's");
                    return;
                }
                ++checked;
            }
        }
    }
    std::fprintf(stderr, "  %d encoded rows identical\n", checked);
}

TEST(attention_kernels_match_the_reference) {
    const auto variants = fast_variants();
    std::mt19937 rng(99);
    int checked = 0;
    for (uint32_t kv_type : kKvTypes) {
        for (const AttentionShape &shape : kAttentionShapes) {
            if (kv_type == LMRT_TYPE_Q8_0 && shape.head_dim % 32 != 0) {
                // a q8_0 row is whole blocks of 32: refused, not misread
                std::vector<float> out(shape.n_head * shape.head_dim);
                const std::vector<uint8_t> kv(4096);
                lmrt_error err{};
                CHECK(lmrt_kernel_attention(LMRT_KERNEL_REF, kv_type, out.data(), kv.data(), kv.data(), shape.block, 0, 0, shape.n_head,
                                            shape.n_head_kv, shape.head_dim, 1.0f, out.data(), &err) == LMRT_E_INVALID_ARGUMENT);
                continue;
            }
            const AttentionCase c = AttentionCase::random(rng, shape, kv_type);
            const std::vector<float> want = c.run(LMRT_KERNEL_REF);
            // probabilities are rounded to f16 (bf16) in both: one rounding step may differ
            const float tol = kv_type == LMRT_TYPE_BF16 ? 8e-3f : 2e-3f;
            for (lmrt_kernel_variant variant : variants) {
                const std::vector<float> got = c.run(variant);
                for (size_t i = 0; i < got.size(); ++i, ++checked) {
                    if (!(std::fabs(got[i] - want[i]) <= tol)) {
                        lmrt_test::fail(__FILE__, __LINE__, std::string(variant_name(variant)) + " kv type " + std::to_string(kv_type) +
                                                                " head_dim " + std::to_string(shape.head_dim) + " element " +
                                                                std::to_string(i) + ": " + std::to_string(got[i]) + " vs " +
                                                                std::to_string(want[i]));
                        return;
                    }
                }
            }
        }
    }
    std::fprintf(stderr, "  %d outputs compared\n", checked);
}

TEST(swiglu_kernels_match_the_reference) {
    const auto variants = fast_variants();
    std::mt19937 rng(7);
    int checked = 0;
    for (uint64_t n : {1, 7, 8, 9, 31, 64, 100, 1000, 4097}) {
        // gates spread to where exp saturates (|x| > 88) and beyond
        std::vector<float> gate = random_floats(rng, n, 30.0f);
        const std::vector<float> up = random_floats(rng, n, 1.0f);
        if (n > 8) {
            const float edges[] = {0.0f, -0.0f, 88.5f, -88.5f, 104.0f, -104.0f, 200.0f, -200.0f};
            std::copy(std::begin(edges), std::end(edges), gate.begin());
        }
        std::vector<float> want(n, NAN), got(n, NAN);
        lmrt_error err{};
        REQUIRE(lmrt_kernel_swiglu(LMRT_KERNEL_REF, gate.data(), up.data(), want.data(), n, &err) == LMRT_OK);
        for (lmrt_kernel_variant variant : variants) {
            std::fill(got.begin(), got.end(), NAN);
            REQUIRE(lmrt_kernel_swiglu(variant, gate.data(), up.data(), got.data(), n, &err) == LMRT_OK);
            for (size_t i = 0; i < n; ++i) {
                // a few ulp: the fast exp is within 1.5 ulp of e^x
                const float tol = 4e-7f * std::fabs(want[i]) + 1e-30f;
                if (!(std::fabs(got[i] - want[i]) <= tol)) {
                    lmrt_test::fail(__FILE__, __LINE__, std::string(variant_name(variant)) + " n " + std::to_string(n) + " element " +
                                                            std::to_string(i) + " (gate " + std::to_string(gate[i]) + "): " +
                                                            std::to_string(got[i]) + " vs " + std::to_string(want[i]));
                    return;
                }
                ++checked;
            }
        }
    }
    // in place, as the forward pass calls it
    std::vector<float> g = random_floats(rng, 37, 3.0f), up = random_floats(rng, 37, 1.0f), want(37);
    lmrt_error err{};
    REQUIRE(lmrt_kernel_swiglu(LMRT_KERNEL_REF, g.data(), up.data(), want.data(), 37, &err) == LMRT_OK);
    for (lmrt_kernel_variant variant : variants) {
        std::vector<float> inplace = g;
        REQUIRE(lmrt_kernel_swiglu(variant, inplace.data(), up.data(), inplace.data(), 37, &err) == LMRT_OK);
        for (size_t i = 0; i < 37; ++i) CHECK(std::fabs(inplace[i] - want[i]) <= 4e-7f * std::fabs(want[i]) + 1e-30f);
    }
    std::fprintf(stderr, "  %d outputs compared\n", checked);
}

// The AVX-512 variant promises the AVX2 variant's results exactly (so a model
// gives the same tokens on both); checked bit for bit on CPUs that have both.
TEST(avx512_kernels_give_the_avx2_results_bit_for_bit) {
    if (!lmrt_kernel_variant_available(LMRT_KERNEL_AVX512)) {
        lmrt_test::skip("this CPU has no AVX-512 (F, BW, VL)");
        return;
    }
    std::mt19937 rng(4321);
    int checked = 0;
    for (uint32_t type : kMatmulTypes) {
        lmrt_type_layout layout;
        lmrt_type_layout_get(type, &layout);
        for (uint64_t n_in : row_lengths(layout)) {
            for (uint64_t tokens : {1ull, 2ull, 4ull, 5ull, 9ull, 20ull}) {
                const uint64_t n_out = 5;
                const std::vector<float> wf = random_floats(rng, n_in * n_out, 0.5f);
                const std::vector<float> x = random_floats(rng, n_in * tokens, 1.0f);
                std::vector<uint8_t> w(n_in / layout.block_size * layout.block_bytes * n_out);
                lmrt_error err{};
                REQUIRE(lmrt_quantize_row(type, wf.data(), w.data(), wf.size(), &err) == LMRT_OK);
                std::vector<float> want(n_out * tokens, NAN), got(n_out * tokens, NAN);
                REQUIRE(lmrt_kernel_matmul(LMRT_KERNEL_AVX2, type, w.data(), n_in, n_out, x.data(), tokens, want.data(), &err) == LMRT_OK);
                REQUIRE(lmrt_kernel_matmul(LMRT_KERNEL_AVX512, type, w.data(), n_in, n_out, x.data(), tokens, got.data(), &err) == LMRT_OK);
                for (size_t i = 0; i < got.size(); ++i) {
                    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
                        lmrt_test::fail(__FILE__, __LINE__, std::string(layout.name) + " n_in=" + std::to_string(n_in) + " tokens=" +
                                                                std::to_string(tokens) + " out " + std::to_string(i) + ": " +
                                                                std::to_string(got[i]) + " vs " + std::to_string(want[i]));
                        return;
                    }
                    ++checked;
                }
            }
        }
    }
    for (uint32_t kv_type : kKvTypes) {
        for (const AttentionShape &shape : kAttentionShapes) {
            if (kv_type == LMRT_TYPE_Q8_0 && shape.head_dim % 32 != 0) continue;
            const AttentionCase c = AttentionCase::random(rng, shape, kv_type);
            const std::vector<float> want = c.run(LMRT_KERNEL_AVX2), got = c.run(LMRT_KERNEL_AVX512);
            for (size_t i = 0; i < got.size(); ++i) {
                if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
                    lmrt_test::fail(__FILE__, __LINE__, "attention kv type " + std::to_string(kv_type) + " head_dim " +
                                                            std::to_string(shape.head_dim) + " element " + std::to_string(i) + ": " +
                                                            std::to_string(got[i]) + " vs " + std::to_string(want[i]));
                    return;
                }
                ++checked;
            }
        }
    }
    std::fprintf(stderr, "  %d outputs identical\n", checked);
}

// Types whose batched order is their single-row order (no separate batched
// kernel) give each row of a batch exactly its single-row result, however
// the rows are grouped: four at a time share one pass over the weights, and
// from kGemmMinRows rows up the Q8_0-activation types take the packed GEMM
// (8 rows per vector, groups taken four at a time, partial groups at the end).
TEST(rows_of_a_batch_give_their_single_row_results_for_types_summed_one_way) {
    std::mt19937 rng(77);
    int checked = 0;
    for (uint32_t type : {LMRT_TYPE_Q8_0, LMRT_TYPE_Q4_0, LMRT_TYPE_Q5_K, LMRT_TYPE_Q6_K}) {
        lmrt_type_layout layout;
        lmrt_type_layout_get(type, &layout);
        for (const uint64_t tokens : {2ull, 3ull, 4ull, 5ull, 9ull, 37ull}) {
            const uint64_t n_in = 7ull * layout.block_size, n_out = 6;
            std::vector<float> wf = random_floats(rng, n_in * n_out, 0.5f), x = random_floats(rng, n_in * tokens, 1.0f);
            // extremes of the integer sums: weight rows at the format's largest
            // codes against activations all +1 or all -1 (every value +-127)
            for (uint64_t i = 0; i < n_in; ++i) {
                wf[i] = i % layout.block_size == 0 ? -8.0f : 7.0f;
                x[i] = 1.0f;
                x[n_in + i] = -1.0f;
            }
            std::vector<uint8_t> w(n_in / layout.block_size * layout.block_bytes * n_out);
            REQUIRE(lmrt_quantize_row(type, wf.data(), w.data(), wf.size(), nullptr) == LMRT_OK);
            for (lmrt_kernel_variant v : {LMRT_KERNEL_REF, LMRT_KERNEL_AVX2, LMRT_KERNEL_AVX512}) {
                if (!lmrt_kernel_variant_available(v)) continue;
                std::vector<float> batch(n_out * tokens, NAN), one(n_out, NAN);
                REQUIRE(lmrt_kernel_matmul(v, type, w.data(), n_in, n_out, x.data(), tokens, batch.data(), nullptr) == LMRT_OK);
                for (uint64_t t = 0; t < tokens; ++t) {
                    REQUIRE(lmrt_kernel_matmul(v, type, w.data(), n_in, n_out, x.data() + t * n_in, 1, one.data(), nullptr) == LMRT_OK);
                    for (uint64_t o = 0; o < n_out; ++o, ++checked) {
                        if (std::memcmp(&one[o], &batch[t * n_out + o], sizeof(float)) != 0) {
                            lmrt_test::fail(__FILE__, __LINE__, std::string(layout.name) + " " + variant_name(v) + " tokens=" +
                                                                    std::to_string(tokens) + " row " + std::to_string(t) + " out " +
                                                                    std::to_string(o) + ": " + std::to_string(batch[t * n_out + o]) +
                                                                    " vs " + std::to_string(one[o]));
                            return;
                        }
                    }
                }
            }
        }
    }
    std::fprintf(stderr, "  %d outputs identical\n", checked);
}

// Float types sum a batch's rows in llama.cpp's tiled-GEMM order. From four
// rows up, the product takes three weight rows by four activation rows at
// once, over tiles of weight rows (several tiles here, the last partial,
// row counts not multiples of 3 or 4): every output must be exactly what
// that weight row and activation row give in a batch of two, where neither
// tiles nor four-row passes apply.
TEST(float_batches_taken_in_tiles_give_each_row_its_batched_result) {
    std::mt19937 rng(29);
    int checked = 0;
    for (uint32_t type : {LMRT_TYPE_F32, LMRT_TYPE_F16}) {
        lmrt_type_layout layout;
        lmrt_type_layout_get(type, &layout);
        for (const uint64_t n_in : {64ull, 8200ull}) {
            for (const uint64_t n_out : {3ull, 7ull, 40ull}) {
                for (const uint64_t tokens : {4ull, 7ull, 9ull}) {
                    const std::vector<float> wf = random_floats(rng, n_in * n_out, 0.5f);
                    std::vector<float> x = random_floats(rng, n_in * (tokens + 1), 1.0f);
                    std::vector<uint8_t> w(n_in * layout.block_bytes * n_out);
                    REQUIRE(lmrt_quantize_row(type, wf.data(), w.data(), wf.size(), nullptr) == LMRT_OK);
                    for (lmrt_kernel_variant v : {LMRT_KERNEL_REF, LMRT_KERNEL_AVX2, LMRT_KERNEL_AVX512, LMRT_KERNEL_NEON, LMRT_KERNEL_NEON_DOTPROD}) {
                        if (!lmrt_kernel_variant_available(v)) continue;
                        std::vector<float> got(n_out * tokens, NAN);
                        REQUIRE(lmrt_kernel_matmul(v, type, w.data(), n_in, n_out, x.data(), tokens, got.data(), nullptr) == LMRT_OK);
                        for (uint64_t o = 0; o < n_out; ++o) {
                            for (uint64_t t = 0; t < tokens; ++t, ++checked) {
                                float pair[2] = {NAN, NAN};
                                REQUIRE(lmrt_kernel_matmul(v, type, w.data() + o * n_in * layout.block_bytes, n_in, 1, x.data() + t * n_in, 2,
                                                           pair, nullptr) == LMRT_OK);
                                if (std::memcmp(&pair[0], &got[t * n_out + o], sizeof(float)) != 0) {
                                    lmrt_test::fail(__FILE__, __LINE__, std::string(layout.name) + " " + variant_name(v) + " n_in=" +
                                                                            std::to_string(n_in) + " rows=" + std::to_string(n_out) + " tokens=" +
                                                                            std::to_string(tokens) + " row " + std::to_string(o) + " token " +
                                                                            std::to_string(t) + ": " + std::to_string(got[t * n_out + o]) +
                                                                            " vs " + std::to_string(pair[0]));
                                    return;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    std::fprintf(stderr, "  %d outputs identical\n", checked);
}

namespace {

// Random weights of n_out rows of `type` with the largest codes in rows 0
// and 1, and the first half of x set to activations at +-127.
std::vector<uint8_t> extreme_weights(std::mt19937 &rng, uint32_t type, const lmrt_type_layout &layout, uint64_t n_in, uint64_t n_out,
                                     std::vector<float> &x) {
    std::vector<float> wf = random_floats(rng, n_in * n_out, 0.5f);
    for (uint64_t i = 0; i < n_in; ++i) {
        wf[i] = i % layout.block_size == 0 ? -8.0f : 7.0f;
        wf[n_in + i] = i % layout.block_size == 0 ? 8.0f : -7.0f;
    }
    for (uint64_t i = 0; i < n_in / 2; ++i) x[i] = i % 2 == 0 ? 1.0f : -1.0f;
    std::vector<uint8_t> w(n_in / layout.block_size * layout.block_bytes * n_out);
    if (lmrt_quantize_row(type, wf.data(), w.data(), wf.size(), nullptr) != LMRT_OK) lmrt_test::fail(__FILE__, __LINE__, "quantize");
    return w;
}

} // namespace

// Decoding multiplies many weight rows by one activation row; the kernels
// take them eight and four at a time (dot_x8, dot_x4). Each output must be
// exactly what that weight row alone gives, extremes of the codes included.
TEST(weight_rows_taken_together_give_their_single_row_results) {
    std::mt19937 rng(91);
    int checked = 0;
    for (uint32_t type : {LMRT_TYPE_Q8_0, LMRT_TYPE_Q4_0}) {
        lmrt_type_layout layout;
        lmrt_type_layout_get(type, &layout);
        for (const uint64_t n_out : {8ull, 13ull, 35ull}) {
            const uint64_t n_in = 9ull * layout.block_size;
            std::vector<float> x = random_floats(rng, n_in, 1.0f);
            const size_t row_bytes = n_in / layout.block_size * layout.block_bytes;
            const std::vector<uint8_t> w = extreme_weights(rng, type, layout, n_in, n_out, x);
            for (lmrt_kernel_variant v : {LMRT_KERNEL_AVX2, LMRT_KERNEL_AVX512, LMRT_KERNEL_NEON, LMRT_KERNEL_NEON_DOTPROD}) {
                if (!lmrt_kernel_variant_available(v)) continue;
                std::vector<float> all(n_out, NAN);
                REQUIRE(lmrt_kernel_matmul(v, type, w.data(), n_in, n_out, x.data(), 1, all.data(), nullptr) == LMRT_OK);
                for (uint64_t o = 0; o < n_out; ++o, ++checked) {
                    float one = NAN;
                    REQUIRE(lmrt_kernel_matmul(v, type, w.data() + o * row_bytes, n_in, 1, x.data(), 1, &one, nullptr) == LMRT_OK);
                    if (std::memcmp(&one, &all[o], sizeof(float)) != 0) {
                        lmrt_test::fail(__FILE__, __LINE__, std::string(layout.name) + " " + variant_name(v) + " rows=" + std::to_string(n_out) +
                                                                " row " + std::to_string(o) + ": " + std::to_string(all[o]) + " vs " +
                                                                std::to_string(one));
                        return;
                    }
                }
            }
        }
    }
    std::fprintf(stderr, "  %d outputs identical\n", checked);
}

// NEON with the dot product extension sums each block's products with SDOT;
// the integer sums are exact either way, so its results must be plain
// NEON's bit for bit, extremes of the codes included.
TEST(neon_dotprod_kernels_give_the_neon_results_bit_for_bit) {
    if (!lmrt_kernel_variant_available(LMRT_KERNEL_NEON_DOTPROD)) {
        lmrt_test::skip("this CPU has no NEON dot product extension");
        return;
    }
    std::mt19937 rng(41);
    int checked = 0;
    for (uint32_t type : {LMRT_TYPE_Q8_0, LMRT_TYPE_Q4_0, LMRT_TYPE_Q4_K, LMRT_TYPE_F16}) {
        lmrt_type_layout layout;
        lmrt_type_layout_get(type, &layout);
        for (const uint64_t tokens : {1ull, 3ull}) {
            const uint64_t n_in = 8ull * 256, n_out = 5;
            std::vector<float> x = random_floats(rng, n_in * tokens, 1.0f);
            const std::vector<uint8_t> w = extreme_weights(rng, type, layout, n_in, n_out, x);
            std::vector<float> plain(n_out * tokens, NAN), dotprod(n_out * tokens, NAN);
            REQUIRE(lmrt_kernel_matmul(LMRT_KERNEL_NEON, type, w.data(), n_in, n_out, x.data(), tokens, plain.data(), nullptr) == LMRT_OK);
            REQUIRE(lmrt_kernel_matmul(LMRT_KERNEL_NEON_DOTPROD, type, w.data(), n_in, n_out, x.data(), tokens, dotprod.data(), nullptr) ==
                    LMRT_OK);
            for (size_t i = 0; i < plain.size(); ++i, ++checked) {
                if (std::memcmp(&plain[i], &dotprod[i], sizeof(float)) != 0) {
                    lmrt_test::fail(__FILE__, __LINE__, std::string(layout.name) + " tokens=" + std::to_string(tokens) + " output " +
                                                            std::to_string(i) + ": " + std::to_string(dotprod[i]) + " vs " + std::to_string(plain[i]));
                    return;
                }
            }
        }
    }
    std::fprintf(stderr, "  %d outputs identical\n", checked);
}

// Weights interleaved at load (kernels/interleave.h): every output of every
// batch row must be exactly the variant's dot product of that weight row
// with that activation row in the row's order (prompt rows; one token:
// decoded), itself checked against the reference above, for whole groups of 8 rows and the plain rows after them,
// extremes of the codes included.
TEST(interleaved_products_give_their_single_row_results) {
    if (!lmrt_kernel_variant_available(LMRT_KERNEL_AVX2)) {
        lmrt_test::skip("interleaved products exist for AVX2 and AVX-512 only");
        return;
    }
    std::mt19937 rng(17);
    int checked = 0;
    for (uint32_t type : {LMRT_TYPE_Q8_0, LMRT_TYPE_Q4_0, LMRT_TYPE_Q4_K, LMRT_TYPE_Q5_K, LMRT_TYPE_Q6_K}) {
        lmrt_type_layout layout;
        lmrt_type_layout_get(type, &layout);
        for (const uint64_t n_out : {8ull, 13ull, 35ull, 64ull}) {
            for (const uint64_t tokens : {1ull, 2ull, 3ull, 5ull, 9ull}) {
                const uint64_t n_in = (tokens % 2 ? 9ull : 64ull) * layout.block_size;
                std::vector<float> x = random_floats(rng, n_in * tokens, 1.0f);
                const size_t row_bytes = n_in / layout.block_size * layout.block_bytes;
                const std::vector<uint8_t> w = extreme_weights(rng, type, layout, n_in, n_out, x);
                for (lmrt_kernel_variant v : {LMRT_KERNEL_AVX2, LMRT_KERNEL_AVX512}) {
                    if (!lmrt_kernel_variant_available(v)) continue;
                    // each weight row alone: the variant's dot product in the rows' order (prompt rows; one token: decoded)
                    std::vector<float> want(n_out * tokens), one(tokens);
                    for (uint64_t o = 0; o < n_out; ++o) {
                        REQUIRE(lmrt_kernel_matmul(v, type, w.data() + o * row_bytes, n_in, 1, x.data(), tokens, one.data(), nullptr) == LMRT_OK);
                        for (uint64_t t = 0; t < tokens; ++t) want[t * n_out + o] = one[t];
                    }
                    std::vector<float> got(n_out * tokens, NAN);
                    REQUIRE(lmrt_kernel_matmul_interleaved(v, type, w.data(), n_in, n_out, x.data(), tokens, got.data(), nullptr) == LMRT_OK);
                    for (uint64_t i = 0; i < got.size(); ++i, ++checked) {
                        if (std::memcmp(&want[i], &got[i], sizeof(float)) != 0) {
                            lmrt_test::fail(__FILE__, __LINE__, std::string(layout.name) + " " + variant_name(v) + " rows=" + std::to_string(n_out) +
                                                                    " tokens=" + std::to_string(tokens) + " output " + std::to_string(i) + ": " +
                                                                    std::to_string(got[i]) + " vs " + std::to_string(want[i]));
                            return;
                        }
                    }
                }
            }
        }
    }
    REQUIRE(checked > 0);
    std::fprintf(stderr, "  %d outputs identical\n", checked);
}

// GPT-2's GELU goes through a table of every f16 value; it must give the
// reference formula's result exactly, for every f16 input and for inputs
// between them, around the +-10 cut-offs included.
TEST(gelu_table_gives_the_reference_values) {
    std::vector<float> x;
    for (uint32_t h = 0; h < 65536; ++h) {
        uint16_t bits = static_cast<uint16_t>(h);
        float v;
        lmrt_dequantize_row(LMRT_TYPE_F16, &bits, &v, 1, nullptr);
        x.push_back(v);
    }
    std::mt19937 rng(3);
    for (float v : random_floats(rng, 20000, 12.0f)) x.push_back(v);
    for (float v : {-10.0f, -9.999f, -10.001f, 10.0f, 9.999f, 9.9961f, 10.001f, 0.0f, -0.0f, 1e-8f, -1e-8f}) x.push_back(v);
    std::vector<float> want = x, got = x;
    REQUIRE(lmrt_kernel_gelu(LMRT_KERNEL_REF, want.data(), want.size(), nullptr) == LMRT_OK);
    REQUIRE(lmrt_kernel_gelu(LMRT_KERNEL_AVX2, got.data(), got.size(), nullptr) == LMRT_OK);
    size_t same = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        if (std::memcmp(&want[i], &got[i], sizeof(float)) == 0 || (std::isnan(want[i]) && std::isnan(got[i]))) {
            ++same;
        } else {
            lmrt_test::fail(__FILE__, __LINE__, "gelu(" + std::to_string(x[i]) + "): " + std::to_string(got[i]) + " vs " + std::to_string(want[i]));
            return;
        }
    }
    REQUIRE(same == x.size());
    std::fprintf(stderr, "  %zu values identical\n", same);
}
