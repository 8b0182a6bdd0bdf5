// GGUF reader: real files, and one hand-made file per way a file can be
// broken, each expecting its status code and a message naming the problem.
#include <memory>

#include "gguf_bytes.h"
#include "test.h"

using lmrt_test::GgufBytes;

namespace {

struct Result {
    lmrt_status status;
    std::string message;
};

Result parse(const GgufBytes &g) {
    lmrt_gguf *h = nullptr;
    lmrt_error err{};
    const lmrt_status s = lmrt_gguf_open_memory(g.b.data(), g.b.size(), "test.gguf", &h, &err);
    lmrt_gguf_free(h);
    return {s, s == LMRT_OK ? "" : err.message};
}

void expect_error(const GgufBytes &g, lmrt_status status, const char *needle) {
    const Result r = parse(g);
    CHECK_EQ(r.status, status);
    if (r.message.find(needle) == std::string::npos || r.message.find("test.gguf") == std::string::npos) {
        lmrt_test::fail(__FILE__, __LINE__, "message '" + r.message + "' lacks '" + needle + "' or the file name");
    }
}

// A valid file with one F32 tensor of 8 elements.
GgufBytes valid_file() {
    GgufBytes g;
    g.header(1, 2).kv_str("general.architecture", "llama").kv_u32("llama.block_count", 2);
    g.tensor("w", {8}, LMRT_TYPE_F32, 0).pad(32).zeros(32);
    return g;
}

} // namespace

TEST(reader_opens_the_real_models) {
    const std::string dir = lmrt_test::models_dir();
    if (dir.empty()) return;
    for (const char *f : {"stories260K-f32.gguf", "stories260K-f16.gguf", "stories260K-q8_0.gguf", "stories260K-q4_0.gguf",
                          "vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-bert-bge.gguf"}) {
        lmrt_gguf *g = nullptr;
        lmrt_error err{};
        const lmrt_status s = lmrt_gguf_open((dir + "/" + f).c_str(), &g, &err);
        if (s != LMRT_OK) lmrt_test::fail(__FILE__, __LINE__, std::string(f) + ": " + err.message);
        if (g == nullptr) continue;
        const int64_t arch = lmrt_gguf_find_kv(g, "general.architecture", 20);
        CHECK(arch >= 0);
        const int64_t tokens = lmrt_gguf_find_kv(g, "tokenizer.ggml.tokens", 21);
        REQUIRE(tokens >= 0);
        lmrt_gguf_value v;
        REQUIRE(lmrt_gguf_kv_get(g, static_cast<uint64_t>(tokens), nullptr, &v) == LMRT_OK);
        CHECK_EQ(v.type, LMRT_GGUF_ARRAY);
        CHECK_EQ(v.as.array.elem_type, LMRT_GGUF_STRING);
        if (std::string(f).rfind("stories", 0) == 0) {
            CHECK_EQ(v.as.array.count, 512u);
            CHECK_EQ(lmrt_gguf_n_tensors(g), 47u); // token_embd, output_norm, 5 layers x 9
            lmrt_gguf_value first;
            REQUIRE(lmrt_gguf_array_get(g, &v, 1, &first) == LMRT_OK);
            CHECK_EQ(std::string(first.as.str.data, first.as.str.len), std::string("<s>"));
        }
        lmrt_gguf_free(g);
    }
}

TEST(reader_accepts_a_minimal_valid_file_and_version_2) {
    CHECK_EQ(parse(valid_file()).status, LMRT_OK);
    GgufBytes v2;
    v2.header(0, 1, 2).kv_u32("a", 1);
    CHECK_EQ(parse(v2).status, LMRT_OK);
}

TEST(reader_rejects_wrong_magic_and_short_files) {
    GgufBytes g = valid_file();
    g.b[0] = 'X';
    expect_error(g, LMRT_E_GGUF_INVALID, "not a GGUF file");
    expect_error(GgufBytes{}, LMRT_E_GGUF_INVALID, "not a GGUF file");
    GgufBytes header_only;
    header_only.raw("GGUF", 4).u32(3);
    expect_error(header_only, LMRT_E_GGUF_INVALID, "truncated");
}

TEST(reader_rejects_unsupported_versions) {
    GgufBytes v1;
    v1.header(0, 0, 1);
    expect_error(v1, LMRT_E_GGUF_UNSUPPORTED, "version 1");
    GgufBytes v9;
    v9.header(0, 0, 9);
    expect_error(v9, LMRT_E_GGUF_UNSUPPORTED, "version 9");
    GgufBytes big_endian;
    big_endian.header(0, 0, 0x03000000u);
    expect_error(big_endian, LMRT_E_GGUF_UNSUPPORTED, "big-endian");
}

TEST(reader_rejects_absurd_counts_before_allocating) {
    GgufBytes g;
    g.header(UINT64_MAX / 2, 1ull << 60);
    expect_error(g, LMRT_E_GGUF_INVALID, "more than");
    GgufBytes arr;
    arr.header(0, 1).str("big").u32(LMRT_GGUF_ARRAY).u32(LMRT_GGUF_STRING).u64(1ull << 62);
    expect_error(arr, LMRT_E_GGUF_INVALID, "claims");
    GgufBytes arr2;
    arr2.header(0, 1).str("big").u32(LMRT_GGUF_ARRAY).u32(LMRT_GGUF_UINT64).u64(1ull << 61);
    expect_error(arr2, LMRT_E_GGUF_INVALID, "claims");
    GgufBytes key;
    key.header(0, 1).u64(1ull << 40).zeros(16);
    expect_error(key, LMRT_E_GGUF_INVALID, "metadata key");
}

TEST(reader_rejects_tensors_past_the_end) {
    GgufBytes g;
    g.header(1, 0).tensor("w", {64}, LMRT_TYPE_F32, 0).pad(32).zeros(100); // needs 256 bytes
    expect_error(g, LMRT_E_GGUF_INVALID, "past the end");
    GgufBytes far;
    far.header(1, 0).tensor("w", {8}, LMRT_TYPE_F32, UINT64_MAX - 31).pad(32).zeros(32);
    expect_error(far, LMRT_E_GGUF_INVALID, "past the end");
    GgufBytes huge;
    huge.header(1, 0).tensor("w", {1ull << 40, 1ull << 40}, LMRT_TYPE_F32, 0).pad(32);
    expect_error(huge, LMRT_E_GGUF_INVALID, "absurd shape");
}

TEST(reader_rejects_unknown_types_and_bad_shapes) {
    GgufBytes unknown;
    unknown.header(1, 0).tensor("w", {8}, 4, 0).pad(32).zeros(32); // id 4 was retired
    expect_error(unknown, LMRT_E_GGUF_UNSUPPORTED, "unknown type id 4");
    GgufBytes partial_block;
    partial_block.header(1, 0).tensor("w", {48}, LMRT_TYPE_Q8_0, 0).pad(32).zeros(64);
    expect_error(partial_block, LMRT_E_GGUF_INVALID, "not a multiple");
    GgufBytes dims;
    dims.header(1, 0).tensor("w", {1, 1, 1, 1, 1}, LMRT_TYPE_F32, 0).pad(32).zeros(32);
    expect_error(dims, LMRT_E_GGUF_INVALID, "dimensions");
    GgufBytes bad_value_type;
    bad_value_type.header(0, 1).str("k").u32(13).u32(0);
    expect_error(bad_value_type, LMRT_E_GGUF_INVALID, "unknown metadata value type 13");
}

TEST(reader_rejects_duplicates_bad_alignment_and_misaligned_offsets) {
    GgufBytes dup_key;
    dup_key.header(0, 2).kv_u32("a", 1).kv_u32("a", 2);
    expect_error(dup_key, LMRT_E_GGUF_INVALID, "duplicate metadata key 'a'");
    GgufBytes dup_tensor;
    dup_tensor.header(2, 0).tensor("w", {8}, LMRT_TYPE_F32, 0).tensor("w", {8}, LMRT_TYPE_F32, 32).pad(32).zeros(64);
    expect_error(dup_tensor, LMRT_E_GGUF_INVALID, "duplicate tensor name 'w'");
    GgufBytes align;
    align.header(0, 1).kv_u32("general.alignment", 24);
    expect_error(align, LMRT_E_GGUF_INVALID, "power of two");
    GgufBytes misaligned;
    misaligned.header(1, 0).tensor("w", {8}, LMRT_TYPE_F32, 4).pad(32).zeros(64);
    expect_error(misaligned, LMRT_E_GGUF_INVALID, "not a multiple of the alignment");
}

TEST(reader_limits_array_nesting) {
    GgufBytes deep;
    deep.header(0, 1).str("deep").u32(LMRT_GGUF_ARRAY);
    for (int i = 0; i < 100; ++i) deep.u32(LMRT_GGUF_ARRAY).u64(1);
    deep.u32(LMRT_GGUF_UINT8).u64(0);
    expect_error(deep, LMRT_E_GGUF_UNSUPPORTED, "nested deeper");
}

TEST(reader_honours_general_alignment) {
    GgufBytes g;
    g.header(1, 1).kv_u32("general.alignment", 64).tensor("w", {8}, LMRT_TYPE_F32, 0).pad(64).zeros(64);
    lmrt_gguf *h = nullptr;
    REQUIRE(lmrt_gguf_open_memory(g.b.data(), g.b.size(), "a", &h, nullptr) == LMRT_OK);
    CHECK_EQ(lmrt_gguf_alignment(h), 64u);
    CHECK_EQ(lmrt_gguf_data_offset(h) % 64, 0u);
    lmrt_gguf_free(h);
}

TEST(reader_reports_missing_files_as_io_errors) {
    lmrt_gguf *g = nullptr;
    lmrt_error err{};
    CHECK_EQ(lmrt_gguf_open("/nonexistent/x.gguf", &g, &err), LMRT_E_IO);
    CHECK(std::string(err.message).find("/nonexistent/x.gguf") != std::string::npos);
    CHECK_EQ(lmrt_gguf_open("/tmp", &g, &err), LMRT_E_IO);
    CHECK(g == nullptr);
}
