// F16 and BF16 conversions (through lmrt_quantize_row/lmrt_dequantize_row)
// against independent references: the CPU's own F16C instructions for
// binary16, and a nearest-candidate search for bfloat16.
#include <cstring>
#include <random>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "test.h"

namespace {

uint32_t bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

float from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

std::vector<float> test_floats() {
    std::vector<float> v = {0.0f, -0.0f, 1.0f, -1.0f, 65504.0f, 65519.99f, 65520.0f, 65536.0f, 1e-8f, 5.96e-8f,
                            2.98e-8f, 2.9802322e-8f, 6.1035156e-5f, 6.1e-5f, 1e30f, -1e30f, INFINITY, -INFINITY,
                            3.0e-8f, 1.0009765625f, 1.00048828125f, 1.000732421875f};
    std::mt19937 rng(42);
    for (int i = 0; i < 1 << 20; ++i) {
        const uint32_t u = rng();
        const float f = from_bits(u);
        if (std::isnan(f)) continue;
        v.push_back(f);
        // and values in half's normal and subnormal range, where rounding matters
        v.push_back(std::ldexp(static_cast<float>(rng()) / 4294967296.0f, static_cast<int>(rng() % 44) - 28));
    }
    return v;
}

#if defined(__x86_64__)
__attribute__((target("f16c"))) uint16_t f16c_from_float(float f) {
    return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
__attribute__((target("f16c"))) float f16c_to_float(uint16_t h) { return _cvtsh_ss(h); }
#endif

// Exact value of a bf16 pattern; the one past the largest finite value
// counts as 2^128 so that rounding towards infinity is judged by distance.
double bf16_value(uint16_t b) {
    if ((b & 0x7fffu) == 0x7f80u) return std::copysign(std::ldexp(1.0, 128), (b & 0x8000u) ? -1.0 : 1.0);
    return from_bits(static_cast<uint32_t>(b) << 16);
}

// The bf16 value nearest to f; ties go to the even mantissa.
uint16_t bf16_nearest(float f) {
    const uint16_t lo = static_cast<uint16_t>(bits(f) >> 16); // truncated towards zero
    const uint16_t hi = static_cast<uint16_t>(lo + 1);        // next magnitude up
    const double dlo = std::fabs(bf16_value(lo) - f);
    const double dhi = std::fabs(bf16_value(hi) - f);
    if (dlo < dhi) return lo;
    if (dhi < dlo) return hi;
    return (lo & 1) == 0 ? lo : hi;
}

} // namespace

TEST(f16_decode_matches_f16c_for_every_half) {
#if defined(__x86_64__)
    if (!__builtin_cpu_supports("f16c")) {
        lmrt_test::skip("CPU lacks F16C");
        return;
    }
    std::vector<uint16_t> all(65536);
    for (uint32_t i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
    std::vector<float> out(65536);
    REQUIRE(lmrt_dequantize_row(LMRT_TYPE_F16, all.data(), out.data(), all.size(), nullptr) == LMRT_OK);
    int mismatches = 0;
    for (uint32_t i = 0; i < 65536; ++i) {
        const float want = f16c_to_float(all[i]);
        const bool same = std::isnan(want) ? std::isnan(out[i]) : bits(want) == bits(out[i]);
        if (!same && ++mismatches < 5) CHECK_EQ(out[i], want);
    }
    CHECK_EQ(mismatches, 0);
#else
    lmrt_test::skip("F16C reference needs x86-64");
#endif
}

TEST(f16_encode_matches_f16c_round_to_nearest_even) {
#if defined(__x86_64__)
    if (!__builtin_cpu_supports("f16c")) {
        lmrt_test::skip("CPU lacks F16C");
        return;
    }
    const std::vector<float> in = test_floats();
    std::vector<uint16_t> out(in.size());
    REQUIRE(lmrt_quantize_row(LMRT_TYPE_F16, in.data(), out.data(), in.size(), nullptr) == LMRT_OK);
    int mismatches = 0;
    for (size_t i = 0; i < in.size(); ++i) {
        const uint16_t want = f16c_from_float(in[i]);
        if (out[i] != want && ++mismatches < 5) {
            lmrt_test::fail(__FILE__, __LINE__, "f16 of " + std::to_string(in[i]) + ": " + std::to_string(out[i]) +
                                                    " vs " + std::to_string(want));
        }
    }
    CHECK_EQ(mismatches, 0);
    // NaN stays NaN
    const float nan = NAN;
    uint16_t h;
    REQUIRE(lmrt_quantize_row(LMRT_TYPE_F16, &nan, &h, 1, nullptr) == LMRT_OK);
    CHECK((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0);
#else
    lmrt_test::skip("F16C reference needs x86-64");
#endif
}

TEST(bf16_encode_rounds_to_nearest_even) {
    const std::vector<float> in = test_floats();
    std::vector<uint16_t> out(in.size());
    REQUIRE(lmrt_quantize_row(LMRT_TYPE_BF16, in.data(), out.data(), in.size(), nullptr) == LMRT_OK);
    int mismatches = 0;
    for (size_t i = 0; i < in.size(); ++i) {
        if (std::isinf(in[i])) continue;
        const uint16_t want = bf16_nearest(in[i]);
        if (out[i] != want && ++mismatches < 5) {
            lmrt_test::fail(__FILE__, __LINE__, "bf16 of " + std::to_string(in[i]) + ": " + std::to_string(out[i]) +
                                                    " vs " + std::to_string(want));
        }
    }
    CHECK_EQ(mismatches, 0);
    std::vector<float> back(in.size());
    REQUIRE(lmrt_dequantize_row(LMRT_TYPE_BF16, out.data(), back.data(), in.size(), nullptr) == LMRT_OK);
    for (size_t i = 0; i < 1000; ++i) CHECK_EQ(bits(back[i]), static_cast<uint32_t>(out[i]) << 16);
}
