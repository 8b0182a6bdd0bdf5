// GGUF writer: every metadata type and every encodable tensor type written,
// then checked field by field with the hand-made byte layout and the reader.
#include <cstring>
#include <dirent.h>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>

#include "gguf_bytes.h"
#include "test.h"

namespace {

lmrt_string s(const char *c) { return lmrt_string{c, std::strlen(c)}; }

lmrt_gguf_value_in scalar(lmrt_gguf_value_type type, uint64_t u) {
    lmrt_gguf_value_in v;
    std::memset(&v, 0, sizeof v);
    v.type = type;
    v.as.u64 = u;
    return v;
}

} // namespace

TEST(writer_output_is_byte_identical_to_the_hand_built_layout) {
    // metadata of several types + one F32 tensor, built both ways
    const float data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    lmrt_gguf_kv_in kvs[3];
    kvs[0] = {s("general.architecture"), {}};
    kvs[0].value.type = LMRT_GGUF_STRING;
    kvs[0].value.as.str = s("llama");
    kvs[1] = {s("n"), scalar(LMRT_GGUF_UINT32, 7)};
    kvs[2] = {s("eps"), {}};
    kvs[2].value.type = LMRT_GGUF_FLOAT32;
    kvs[2].value.as.f64 = 0.5;
    lmrt_gguf_tensor_in t;
    std::memset(&t, 0, sizeof t);
    t.name = s("w");
    t.type = LMRT_TYPE_F32;
    t.n_dims = 2;
    t.ne[0] = 4;
    t.ne[1] = 2;
    t.source = LMRT_SOURCE_F32;
    t.data = data;
    t.data_bytes = sizeof data;
    const std::string path = lmrt_test::temp_dir() + "/layout.gguf";
    lmrt_error err{};
    REQUIRE(lmrt_gguf_write(path.c_str(), 0, kvs, 3, &t, 1, nullptr, nullptr, &err) == LMRT_OK);

    lmrt_test::GgufBytes want;
    want.header(1, 3).kv_str("general.architecture", "llama").kv_u32("n", 7);
    want.str("eps").u32(LMRT_GGUF_FLOAT32).f32(0.5f);
    want.tensor("w", {4, 2}, LMRT_TYPE_F32, 0).pad(32).raw(data, sizeof data).pad(32);
    CHECK(lmrt_test::read_file(path) == want.b);
}

TEST(writer_roundtrips_every_metadata_type_through_the_reader) {
    const uint8_t u8s[3] = {1, 2, 255};
    const float f32s[2] = {0.25f, -1.5f};
    const int64_t i64s[2] = {-5, 1ll << 40};
    const uint8_t bools[3] = {1, 0, 1};
    const lmrt_string strs[2] = {s("a"), s("")};
    lmrt_gguf_value_in inner[2];
    std::memset(inner, 0, sizeof inner);
    inner[0].type = LMRT_GGUF_ARRAY;
    inner[0].as.array = {LMRT_GGUF_UINT8, 3, u8s};
    inner[1].type = LMRT_GGUF_ARRAY;
    inner[1].as.array = {LMRT_GGUF_STRING, 2, strs};

    std::vector<lmrt_gguf_kv_in> kvs;
    auto add = [&](const char *key, lmrt_gguf_value_in v) { kvs.push_back({s(key), v}); };
    add("u8", scalar(LMRT_GGUF_UINT8, 200));
    add("u16", scalar(LMRT_GGUF_UINT16, 60000));
    add("u32", scalar(LMRT_GGUF_UINT32, 4000000000u));
    add("u64", scalar(LMRT_GGUF_UINT64, UINT64_MAX));
    add("b", scalar(LMRT_GGUF_BOOL, 1));
    lmrt_gguf_value_in v;
    std::memset(&v, 0, sizeof v);
    for (auto [key, type, val] : {std::tuple{"i8", LMRT_GGUF_INT8, -100ll}, std::tuple{"i16", LMRT_GGUF_INT16, -30000ll},
                                  std::tuple{"i32", LMRT_GGUF_INT32, -2000000000ll}, std::tuple{"i64", LMRT_GGUF_INT64, -(1ll << 60)}}) {
        v.type = type;
        v.as.i64 = val;
        add(key, v);
    }
    v.type = LMRT_GGUF_FLOAT32;
    v.as.f64 = 1.25;
    add("f32", v);
    v.type = LMRT_GGUF_FLOAT64;
    v.as.f64 = 1e300;
    add("f64", v);
    v.type = LMRT_GGUF_STRING;
    v.as.str = s("h\xc3\xa9llo");
    add("str", v);
    v.type = LMRT_GGUF_ARRAY;
    v.as.array = {LMRT_GGUF_FLOAT32, 2, f32s};
    add("arr.f32", v);
    v.as.array = {LMRT_GGUF_INT64, 2, i64s};
    add("arr.i64", v);
    v.as.array = {LMRT_GGUF_BOOL, 3, bools};
    add("arr.bool", v);
    v.as.array = {LMRT_GGUF_STRING, 2, strs};
    add("arr.str", v);
    v.as.array = {LMRT_GGUF_ARRAY, 2, inner};
    add("arr.nested", v);

    const std::string path = lmrt_test::temp_dir() + "/meta.gguf";
    lmrt_error err{};
    REQUIRE(lmrt_gguf_write(path.c_str(), 0, kvs.data(), kvs.size(), nullptr, 0, nullptr, nullptr, &err) == LMRT_OK);
    lmrt_gguf *g = nullptr;
    REQUIRE(lmrt_gguf_open(path.c_str(), &g, &err) == LMRT_OK);
    REQUIRE(lmrt_gguf_n_kv(g) == kvs.size());
    auto get = [&](const char *key) {
        lmrt_gguf_value out;
        std::memset(&out, 0, sizeof out);
        const int64_t i = lmrt_gguf_find_kv(g, key, std::strlen(key));
        if (i < 0 || lmrt_gguf_kv_get(g, static_cast<uint64_t>(i), nullptr, &out) != LMRT_OK) {
            lmrt_test::fail(__FILE__, __LINE__, std::string("missing ") + key);
        }
        return out;
    };
    CHECK_EQ(get("u8").as.u64, 200u);
    CHECK_EQ(get("u16").as.u64, 60000u);
    CHECK_EQ(get("u32").as.u64, 4000000000u);
    CHECK_EQ(get("u64").as.u64, UINT64_MAX);
    CHECK_EQ(get("b").as.u64, 1u);
    CHECK_EQ(get("i8").as.i64, -100);
    CHECK_EQ(get("i16").as.i64, -30000);
    CHECK_EQ(get("i32").as.i64, -2000000000);
    CHECK_EQ(get("i64").as.i64, -(1ll << 60));
    CHECK_EQ(get("f32").as.f64, 1.25);
    CHECK_EQ(get("f64").as.f64, 1e300);
    CHECK_EQ(std::string(get("str").as.str.data, get("str").as.str.len), std::string("h\xc3\xa9llo"));
    const lmrt_gguf_value af = get("arr.f32");
    CHECK_EQ(af.as.array.count, 2u);
    CHECK(std::memcmp(af.as.array.data, f32s, sizeof f32s) == 0);
    CHECK(std::memcmp(get("arr.i64").as.array.data, i64s, sizeof i64s) == 0);
    CHECK(std::memcmp(get("arr.bool").as.array.data, bools, sizeof bools) == 0);
    const lmrt_gguf_value nested = get("arr.nested");
    CHECK_EQ(nested.as.array.elem_type, LMRT_GGUF_ARRAY);
    lmrt_gguf_value second, str0;
    REQUIRE(lmrt_gguf_array_get(g, &nested, 1, &second) == LMRT_OK);
    CHECK_EQ(second.as.array.elem_type, LMRT_GGUF_STRING);
    REQUIRE(lmrt_gguf_array_get(g, &second, 0, &str0) == LMRT_OK);
    CHECK_EQ(std::string(str0.as.str.data, str0.as.str.len), std::string("a"));
    lmrt_gguf_free(g);
}

TEST(writer_encodes_every_supported_tensor_type_at_its_offset) {
    const uint32_t types[] = {LMRT_TYPE_F32, LMRT_TYPE_F16, LMRT_TYPE_BF16, LMRT_TYPE_Q8_0,
                              LMRT_TYPE_Q4_0, LMRT_TYPE_Q4_K, LMRT_TYPE_Q5_K, LMRT_TYPE_Q6_K};
    std::vector<lmrt_gguf_tensor_in> ts;
    std::vector<std::string> names;
    for (uint32_t type : types) names.push_back("t" + std::to_string(type));
    for (size_t i = 0; i < names.size(); ++i) {
        lmrt_gguf_tensor_in t;
        std::memset(&t, 0, sizeof t);
        t.name = lmrt_string{names[i].data(), names[i].size()};
        t.type = types[i];
        t.n_dims = 2;
        t.ne[0] = 512;
        t.ne[1] = 3;
        t.source = LMRT_SOURCE_UNIFORM;
        t.scale = 0.1f;
        t.seed = 99;
        ts.push_back(t);
    }
    const std::string path = lmrt_test::temp_dir() + "/types.gguf";
    lmrt_error err{};
    REQUIRE(lmrt_gguf_write(path.c_str(), 0, nullptr, 0, ts.data(), ts.size(), nullptr, nullptr, &err) == LMRT_OK);
    lmrt_gguf *g = nullptr;
    REQUIRE(lmrt_gguf_open(path.c_str(), &g, &err) == LMRT_OK);
    // same seed -> same values in every type: decode each and compare with F32
    std::vector<float> ref(512 * 3), got(512 * 3);
    lmrt_gguf_tensor_info info;
    REQUIRE(lmrt_gguf_tensor_get(g, 0, &info) == LMRT_OK);
    std::memcpy(ref.data(), info.data, ref.size() * 4);
    for (float x : ref) CHECK(x >= -0.1f && x < 0.1f);
    for (size_t i = 1; i < ts.size(); ++i) {
        REQUIRE(lmrt_gguf_tensor_get(g, i, &info) == LMRT_OK);
        CHECK_EQ(info.type, types[i]);
        CHECK_EQ(info.offset % 32, 0u);
        REQUIRE(lmrt_dequantize_row(info.type, info.data, got.data(), got.size(), &err) == LMRT_OK);
        double max_err = 0;
        for (size_t j = 0; j < got.size(); ++j) max_err = std::max(max_err, std::fabs(static_cast<double>(got[j] - ref[j])));
        CHECK(max_err < 0.02);
    }
    lmrt_gguf_free(g);
}

TEST(writer_rejects_bad_requests_and_leaves_no_partial_file) {
    const std::string path = lmrt_test::temp_dir() + "/bad.gguf";
    lmrt_gguf_tensor_in t;
    std::memset(&t, 0, sizeof t);
    t.name = s("w");
    t.type = LMRT_TYPE_Q4_K;
    t.n_dims = 1;
    t.ne[0] = 100; // not a multiple of 256
    t.source = LMRT_SOURCE_CONSTANT;
    lmrt_error err{};
    CHECK_EQ(lmrt_gguf_write(path.c_str(), 0, nullptr, 0, &t, 1, nullptr, nullptr, &err), LMRT_E_INVALID_ARGUMENT);
    CHECK(std::string(err.message).find("'w'") != std::string::npos);
    t.ne[0] = 256;
    t.type = LMRT_TYPE_IQ2_XXS;
    CHECK_EQ(lmrt_gguf_write(path.c_str(), 0, nullptr, 0, &t, 1, nullptr, nullptr, &err), LMRT_E_GGUF_UNSUPPORTED);
    // a NaN found mid-write fails the write and removes the temporary file
    std::vector<float> data(256, 1.0f);
    data[200] = NAN;
    t.type = LMRT_TYPE_Q8_0;
    t.source = LMRT_SOURCE_F32;
    t.data = data.data();
    t.data_bytes = data.size() * 4;
    CHECK_EQ(lmrt_gguf_write(path.c_str(), 0, nullptr, 0, &t, 1, nullptr, nullptr, &err), LMRT_E_INVALID_ARGUMENT);
    struct stat st;
    CHECK(::stat(path.c_str(), &st) != 0);
    DIR *dir = ::opendir(lmrt_test::temp_dir().c_str());
    REQUIRE(dir != nullptr);
    for (dirent *e = ::readdir(dir); e != nullptr; e = ::readdir(dir)) {
        CHECK(std::string(e->d_name).find(".tmp-") == std::string::npos);
    }
    ::closedir(dir);
    lmrt_gguf_kv_in dup[2] = {{s("k"), scalar(LMRT_GGUF_UINT8, 1)}, {s("k"), scalar(LMRT_GGUF_UINT8, 2)}};
    CHECK_EQ(lmrt_gguf_write(path.c_str(), 0, dup, 2, nullptr, 0, nullptr, nullptr, &err), LMRT_E_INVALID_ARGUMENT);
    lmrt_gguf_kv_in overflow[1] = {{s("k"), scalar(LMRT_GGUF_UINT8, 300)}};
    CHECK_EQ(lmrt_gguf_write(path.c_str(), 0, overflow, 1, nullptr, 0, nullptr, nullptr, &err), LMRT_E_INVALID_ARGUMENT);
    CHECK_EQ(lmrt_gguf_write("/nonexistent-dir/x.gguf", 0, nullptr, 0, nullptr, 0, nullptr, nullptr, &err), LMRT_E_IO);
}
