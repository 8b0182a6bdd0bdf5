// Quantisation: our reference encoders against ggml's (the stories260K
// q8_0/q4_0/f16 files were written by ggml's reference quantisers from the
// same f32 weights), and decode(encode(x)) error bounds for every type.
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <random>

#include "test.h"

namespace {

struct GgufCloser {
    void operator()(lmrt_gguf *g) const { lmrt_gguf_free(g); }
};
using Gguf = std::unique_ptr<lmrt_gguf, GgufCloser>;

Gguf open_or_fail(const std::string &path) {
    lmrt_gguf *g = nullptr;
    lmrt_error err{};
    if (lmrt_gguf_open(path.c_str(), &g, &err) != LMRT_OK) lmrt_test::fail(__FILE__, __LINE__, err.message);
    return Gguf(g);
}

std::map<std::string, lmrt_gguf_tensor_info> tensors_of(const lmrt_gguf *g) {
    std::map<std::string, lmrt_gguf_tensor_info> out;
    for (uint64_t i = 0; i < lmrt_gguf_n_tensors(g); ++i) {
        lmrt_gguf_tensor_info t;
        lmrt_gguf_tensor_get(g, i, &t);
        out[std::string(t.name.data, t.name.len)] = t;
    }
    return out;
}

uint64_t n_elements(const lmrt_gguf_tensor_info &t) { return t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3]; }

void check_reencodes_like_ggml(const char *quantised_file, uint32_t expect_type) {
    const std::string dir = lmrt_test::models_dir();
    if (dir.empty()) return;
    Gguf f32 = open_or_fail(dir + "/stories260K-f32.gguf");
    Gguf quant = open_or_fail(dir + "/" + quantised_file);
    REQUIRE(f32 && quant);
    const auto src = tensors_of(f32.get());
    int compared = 0;
    for (const auto &[name, qt] : tensors_of(quant.get())) {
        if (qt.type != expect_type) continue;
        const lmrt_gguf_tensor_info &st = src.at(name);
        REQUIRE(st.type == LMRT_TYPE_F32);
        std::vector<float> values(n_elements(st));
        std::memcpy(values.data(), st.data, values.size() * 4);
        std::vector<uint8_t> encoded(qt.n_bytes);
        lmrt_error err{};
        REQUIRE(lmrt_quantize_row(expect_type, values.data(), encoded.data(), values.size(), &err) == LMRT_OK);
        const bool same = std::memcmp(encoded.data(), qt.data, qt.n_bytes) == 0;
        if (!same) lmrt_test::fail(__FILE__, __LINE__, "tensor " + name + " differs from ggml's encoding");
        ++compared;
    }
    CHECK(compared >= 10);
}

std::vector<float> random_values(size_t n, uint32_t seed, float scale) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float &x : v) x = dist(rng);
    // a few outliers, as real weights have
    for (size_t i = 0; i < n; i += 97) v[i] *= 6.0f;
    return v;
}

// Root-mean-square error of decode(encode(x)) relative to the RMS of x.
double roundtrip_error(uint32_t type, const std::vector<float> &x) {
    lmrt_type_layout layout;
    lmrt_type_layout_get(type, &layout);
    std::vector<uint8_t> enc(x.size() / layout.block_size * layout.block_bytes);
    std::vector<float> dec(x.size());
    lmrt_error err{};
    if (lmrt_quantize_row(type, x.data(), enc.data(), x.size(), &err) != LMRT_OK ||
        lmrt_dequantize_row(type, enc.data(), dec.data(), x.size(), &err) != LMRT_OK) {
        lmrt_test::fail(__FILE__, __LINE__, err.message);
        return 1e9;
    }
    double se = 0, ss = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        se += (dec[i] - x[i]) * static_cast<double>(dec[i] - x[i]);
        ss += x[i] * static_cast<double>(x[i]);
    }
    return std::sqrt(se / ss);
}

} // namespace

TEST(q8_0_encoder_matches_ggml_reference_bytes) { check_reencodes_like_ggml("stories260K-q8_0.gguf", LMRT_TYPE_Q8_0); }
TEST(q4_0_encoder_matches_ggml_reference_bytes) { check_reencodes_like_ggml("stories260K-q4_0.gguf", LMRT_TYPE_Q4_0); }
TEST(f16_encoder_matches_ggml_reference_bytes) { check_reencodes_like_ggml("stories260K-f16.gguf", LMRT_TYPE_F16); }

TEST(roundtrip_error_is_bounded_for_every_encodable_type) {
    // Bounds: the step of each format over Gaussian data with outliers.
    const struct {
        uint32_t type;
        double max_rel_rmse;
    } cases[] = {
        {LMRT_TYPE_F32, 0.0},     {LMRT_TYPE_F16, 1e-3},   {LMRT_TYPE_BF16, 5e-3},
        {LMRT_TYPE_Q8_0, 0.01},   {LMRT_TYPE_Q6_K, 0.04},  {LMRT_TYPE_Q5_K, 0.08},
        {LMRT_TYPE_Q5_1, 0.08},   {LMRT_TYPE_Q5_0, 0.1},   {LMRT_TYPE_Q4_K, 0.16},
        {LMRT_TYPE_Q4_0, 0.2},
    };
    const std::vector<float> x = random_values(256 * 64, 7, 0.02f);
    for (const auto &c : cases) {
        const double e = roundtrip_error(c.type, x);
        lmrt_type_layout layout;
        lmrt_type_layout_get(c.type, &layout);
        if (e > c.max_rel_rmse) {
            lmrt_test::fail(__FILE__, __LINE__, std::string(layout.name) + " relative RMSE " + std::to_string(e) +
                                                    " > " + std::to_string(c.max_rel_rmse));
        }
    }
    // more bits, less error
    CHECK(roundtrip_error(LMRT_TYPE_Q6_K, x) < roundtrip_error(LMRT_TYPE_Q5_K, x));
    CHECK(roundtrip_error(LMRT_TYPE_Q5_K, x) < roundtrip_error(LMRT_TYPE_Q4_K, x));
    CHECK(roundtrip_error(LMRT_TYPE_Q5_1, x) < roundtrip_error(LMRT_TYPE_Q5_0, x));
    CHECK(roundtrip_error(LMRT_TYPE_Q5_0, x) < roundtrip_error(LMRT_TYPE_Q4_0, x));
}

// The range fit the K-quant search improves on: per sub-block, the levels
// spread over [min(x, 0), max(x)] and stored as they round, without search.
double k_range_fit_error(const std::vector<float> &x, int nmax, int sub) {
    double err = 0, ss = 0;
    for (size_t b = 0; b < x.size(); b += static_cast<size_t>(sub)) {
        float lo = 0.0f, hi = x[b];
        for (int l = 0; l < sub; ++l) lo = std::min(lo, x[b + l]), hi = std::max(hi, x[b + l]);
        const float scale = (hi - lo) / static_cast<float>(nmax);
        for (int l = 0; l < sub; ++l) {
            const float q = scale > 0.0f ? std::min(static_cast<float>(nmax), std::max(0.0f, std::nearbyint((x[b + l] - lo) / scale))) : 0.0f;
            const double e = scale * q + lo - x[b + l];
            err += e * e;
            ss += static_cast<double>(x[b + l]) * x[b + l];
        }
    }
    return std::sqrt(err / ss);
}

TEST(k_quant_scale_search_beats_the_unrounded_range_fit) {
    // Even with their scales stored in 6 or 8 bits, the searched K-quants
    // come out below the range fit whose scales are kept in full precision.
    const std::vector<float> x = random_values(256 * 64, 11, 0.02f);
    const double q4 = roundtrip_error(LMRT_TYPE_Q4_K, x), q5 = roundtrip_error(LMRT_TYPE_Q5_K, x);
    const double q4_range = k_range_fit_error(x, 15, 32), q5_range = k_range_fit_error(x, 31, 32);
    std::printf("  relative RMSE: Q4_K %.4f (range fit %.4f), Q5_K %.4f (range fit %.4f)\n", q4, q4_range, q5, q5_range);
    if (!(q4 < q4_range)) lmrt_test::fail(__FILE__, __LINE__, "Q4_K " + std::to_string(q4) + " vs range fit " + std::to_string(q4_range));
    if (!(q5 < q5_range)) lmrt_test::fail(__FILE__, __LINE__, "Q5_K " + std::to_string(q5) + " vs range fit " + std::to_string(q5_range));
    // constant and all-zero blocks encode exactly, a lone spike within one step
    std::vector<float> flat(256, 0.25f), zero(256, 0.0f), spike(256, 0.0f);
    spike[37] = 3.0f;
    for (uint32_t type : {LMRT_TYPE_Q4_K, LMRT_TYPE_Q5_K, LMRT_TYPE_Q6_K}) {
        std::vector<uint8_t> enc(256);
        std::vector<float> dec(256, 1.0f);
        REQUIRE(lmrt_quantize_row(type, zero.data(), enc.data(), 256, nullptr) == LMRT_OK);
        REQUIRE(lmrt_dequantize_row(type, enc.data(), dec.data(), 256, nullptr) == LMRT_OK);
        CHECK(std::all_of(dec.begin(), dec.end(), [](float v) { return v == 0.0f; }));
        CHECK(roundtrip_error(type, flat) < 1e-3);
        CHECK(roundtrip_error(type, spike) < 1e-3);
    }
}

TEST(q5_decoders_follow_the_published_layout) {
    // Q5_0: d = 0.5, element j has level j (5 bits: nibble in qs, fifth bit in qh)
    uint8_t b0[22] = {};
    const uint16_t half = 0x3800, quarter = 0x3400; // f16 0.5 and 0.25
    std::memcpy(b0, &half, 2);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        const int lo = j, hi = j + 16; // levels of elements j and j + 16
        b0[6 + j] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
        qh |= static_cast<uint32_t>(lo >> 4) << j;
        qh |= static_cast<uint32_t>(hi >> 4) << (j + 16);
    }
    std::memcpy(b0 + 2, &qh, 4);
    float out[32];
    REQUIRE(lmrt_dequantize_row(LMRT_TYPE_Q5_0, b0, out, 32, nullptr) == LMRT_OK);
    for (int j = 0; j < 32; ++j) CHECK_EQ(out[j], 0.5f * (j - 16));
    // Q5_1: the same levels with d = 0.5, m = 0.25
    uint8_t b1[24] = {};
    std::memcpy(b1, &half, 2);
    std::memcpy(b1 + 2, &quarter, 2);
    std::memcpy(b1 + 4, b0 + 2, 20);
    REQUIRE(lmrt_dequantize_row(LMRT_TYPE_Q5_1, b1, out, 32, nullptr) == LMRT_OK);
    for (int j = 0; j < 32; ++j) CHECK_EQ(out[j], 0.5f * j + 0.25f);
}

TEST(k_quant_decoders_follow_the_published_layout) {
    // Q4_K block built by hand from the GGUF layout: d = 1, dmin = 0.5,
    // sub-block j has scale j+1 and min 2j (6-bit packed), every nibble = 3.
    uint8_t block[144] = {};
    const uint16_t one = 0x3c00, half = 0x3800; // f16 1.0 and 0.5
    std::memcpy(block, &one, 2);
    std::memcpy(block + 2, &half, 2);
    uint8_t *scales = block + 4;
    for (int j = 0; j < 8; ++j) {
        const int sc = j + 1, m = 2 * j;
        if (j < 4) {
            scales[j] = static_cast<uint8_t>(sc);
            scales[j + 4] = static_cast<uint8_t>(m);
        } else {
            scales[j + 4] = static_cast<uint8_t>((sc & 0xF) | ((m & 0xF) << 4));
            scales[j - 4] |= static_cast<uint8_t>((sc >> 4) << 6);
            scales[j] |= static_cast<uint8_t>((m >> 4) << 6);
        }
    }
    std::memset(block + 16, 0x33, 128);
    float out[256];
    REQUIRE(lmrt_dequantize_row(LMRT_TYPE_Q4_K, block, out, 256, nullptr) == LMRT_OK);
    for (int i = 0; i < 256; ++i) {
        const int j = i / 32;
        CHECK_EQ(out[i], 1.0f * (j + 1) * 3 - 0.5f * (2 * j));
    }

    // Q6_K: d = 1, scale of sub-block j (16 elements) = j - 8; element i has
    // 6-bit code (i % 64) spread over ql/qh as the layout describes.
    uint8_t q6[210] = {};
    for (int i = 0; i < 256; ++i) {
        const int code = i % 64;
        const int h = i / 128, r = i % 128, l = r % 32, quarter = r / 32;
        uint8_t *ql = q6 + 64 * h;
        uint8_t *qh = q6 + 128 + 32 * h;
        const int ql_index = l + (quarter & 1) * 32;
        const int shift = (quarter >> 1) * 4;
        ql[ql_index] |= static_cast<uint8_t>((code & 0xF) << shift);
        qh[l] |= static_cast<uint8_t>((code >> 4) << (2 * quarter));
    }
    for (int j = 0; j < 16; ++j) q6[192 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 8));
    std::memcpy(q6 + 208, &one, 2);
    REQUIRE(lmrt_dequantize_row(LMRT_TYPE_Q6_K, q6, out, 256, nullptr) == LMRT_OK);
    for (int i = 0; i < 256; ++i) CHECK_EQ(out[i], static_cast<float>((i / 16 - 8) * (i % 64 - 32)));
}

TEST(quantize_rejects_partial_blocks_and_non_finite_values) {
    std::vector<float> x(48, 1.0f);
    std::vector<uint8_t> out(1024);
    lmrt_error err{};
    CHECK_EQ(lmrt_quantize_row(LMRT_TYPE_Q8_0, x.data(), out.data(), 48, &err), LMRT_E_INVALID_ARGUMENT);
    x[3] = NAN;
    CHECK_EQ(lmrt_quantize_row(LMRT_TYPE_Q4_0, x.data(), out.data(), 32, &err), LMRT_E_INVALID_ARGUMENT);
    CHECK(std::string(err.message).find("NaN") != std::string::npos);
    CHECK_EQ(lmrt_quantize_row(LMRT_TYPE_IQ2_XXS, x.data(), out.data(), 256, &err), LMRT_E_GGUF_UNSUPPORTED);
}
