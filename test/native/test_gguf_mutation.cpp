// Mutation test of the GGUF reader: seeded random byte flips, truncations
// and field overwrites of valid files. Every outcome must be a success or a
// GGUF error status; under LMRT_SANITIZE any out-of-bounds read, overflow or
// leak fails the run. Reproducible: LMRT_MUTATION_SEED picks the seed.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

#include "gguf_walk.h"
#include "test.h"

namespace {

std::vector<uint8_t> synthetic_file() {
    // every metadata type, nested arrays and several tensor types
    const std::string path = lmrt_test::temp_dir() + "/mutation-base.gguf";
    const float f32s[4] = {1, 2, 3, 4};
    const lmrt_string strs[3] = {{"x", 1}, {"yy", 2}, {"", 0}};
    lmrt_gguf_value_in inner[2];
    std::memset(inner, 0, sizeof inner);
    inner[0].type = inner[1].type = LMRT_GGUF_ARRAY;
    inner[0].as.array = {LMRT_GGUF_STRING, 3, strs};
    inner[1].as.array = {LMRT_GGUF_FLOAT32, 4, f32s};
    std::vector<lmrt_gguf_kv_in> kvs(5);
    std::memset(kvs.data(), 0, kvs.size() * sizeof kvs[0]);
    kvs[0].key = {"general.architecture", 20};
    kvs[0].value.type = LMRT_GGUF_STRING;
    kvs[0].value.as.str = {"llama", 5};
    kvs[1].key = {"u64", 3};
    kvs[1].value.type = LMRT_GGUF_UINT64;
    kvs[1].value.as.u64 = 12345;
    kvs[2].key = {"nested", 6};
    kvs[2].value.type = LMRT_GGUF_ARRAY;
    kvs[2].value.as.array = {LMRT_GGUF_ARRAY, 2, inner};
    kvs[3].key = {"strs", 4};
    kvs[3].value.type = LMRT_GGUF_ARRAY;
    kvs[3].value.as.array = {LMRT_GGUF_STRING, 3, strs};
    kvs[4].key = {"f", 1};
    kvs[4].value.type = LMRT_GGUF_FLOAT64;
    kvs[4].value.as.f64 = 2.5;
    const uint32_t types[] = {LMRT_TYPE_F32, LMRT_TYPE_Q8_0, LMRT_TYPE_Q4_K, LMRT_TYPE_F16};
    const char *names[] = {"a", "b", "c", "d"};
    lmrt_gguf_tensor_in ts[4];
    std::memset(ts, 0, sizeof ts);
    for (int i = 0; i < 4; ++i) {
        ts[i].name = {names[i], 1};
        ts[i].type = types[i];
        ts[i].n_dims = 2;
        ts[i].ne[0] = 256;
        ts[i].ne[1] = 2;
        ts[i].source = LMRT_SOURCE_UNIFORM;
        ts[i].scale = 1.0f;
        ts[i].seed = static_cast<uint64_t>(i);
    }
    lmrt_error err{};
    if (lmrt_gguf_write(path.c_str(), 0, kvs.data(), kvs.size(), ts, 4, nullptr, nullptr, &err) != LMRT_OK) {
        lmrt_test::fail(__FILE__, __LINE__, err.message);
    }
    return lmrt_test::read_file(path);
}

struct Outcomes {
    int ok = 0, invalid = 0, unsupported = 0, other = 0;
};

void mutate_and_parse(const std::vector<uint8_t> &base, uint64_t header_end, std::mt19937_64 &rng, Outcomes &out) {
    std::vector<uint8_t> m = base;
    const uint64_t region = std::max<uint64_t>(1, std::min<uint64_t>(header_end, m.size()));
    auto pos = [&](bool anywhere) { return static_cast<size_t>(rng() % (anywhere ? m.size() : region)); };
    switch (rng() % 3) {
    case 0: { // flip 1..8 bytes, mostly in the header
        const int n = 1 + static_cast<int>(rng() % 8);
        for (int i = 0; i < n; ++i) m[pos(rng() % 10 == 0)] = static_cast<uint8_t>(rng());
        break;
    }
    case 1: // truncate
        m.resize(static_cast<size_t>(rng() % (m.size() + 1)));
        break;
    default: { // overwrite a field with an interesting value
        static const uint64_t interesting[] = {0, 1, 2, 3, 7, 8, 13, 31, 32, 33, 255, 256, 0x7fffffffull, 0xffffffffull,
                                               0x100000000ull, 1ull << 62, 0x7fffffffffffffffull, ~0ull};
        uint64_t v = rng() % 4 == 0 ? rng() : interesting[rng() % (sizeof interesting / sizeof interesting[0])];
        if (rng() % 4 == 0) v = m.size() - rng() % 64;
        const size_t width = rng() % 2 == 0 ? 4 : 8;
        const size_t at = pos(false);
        if (at + width <= m.size()) std::memcpy(m.data() + at, &v, width);
    }
    }
    // an exact-size heap copy so that any over-read is outside the allocation
    std::unique_ptr<uint8_t[]> exact(new uint8_t[m.size() == 0 ? 1 : m.size()]);
    if (!m.empty()) std::memcpy(exact.get(), m.data(), m.size());
    lmrt_gguf *g = nullptr;
    lmrt_error err{};
    const lmrt_status s = lmrt_gguf_open_memory(exact.get(), m.size(), "mutant.gguf", &g, &err);
    switch (s) {
    case LMRT_OK:
        ++out.ok;
        (void)lmrt_test::walk_gguf(g);
        break;
    case LMRT_E_GGUF_INVALID: ++out.invalid; break;
    case LMRT_E_GGUF_UNSUPPORTED: ++out.unsupported; break;
    default:
        ++out.other;
        lmrt_test::fail(__FILE__, __LINE__, std::string("unexpected status ") + lmrt_status_code(s) + ": " + err.message);
    }
    if (s == LMRT_OK) {
        lmrt_gguf_free(g);
    } else if (g != nullptr || std::strlen(err.message) == 0) {
        lmrt_test::fail(__FILE__, __LINE__, "a failed open must return no handle and a message");
    }
}

uint64_t header_end(const std::vector<uint8_t> &file) {
    lmrt_gguf *g = nullptr;
    if (lmrt_gguf_open_memory(file.data(), file.size(), "base", &g, nullptr) != LMRT_OK) return file.size();
    const uint64_t end = lmrt_gguf_data_offset(g);
    lmrt_gguf_free(g);
    return end;
}

} // namespace

TEST(gguf_reader_survives_12000_seeded_mutations) {
    const char *seed_env = std::getenv("LMRT_MUTATION_SEED");
    const uint64_t seed = seed_env != nullptr ? std::strtoull(seed_env, nullptr, 10) : 20261127;
    std::vector<std::vector<uint8_t>> bases = {synthetic_file()};
    const std::string dir = lmrt_test::models_dir();
    if (!dir.empty()) bases.push_back(lmrt_test::read_file(dir + "/stories260K-q4_0.gguf"));
    std::mt19937_64 rng(seed);
    Outcomes out;
    const int per_base = 12000 / static_cast<int>(bases.size()) + 1;
    for (const auto &base : bases) {
        REQUIRE(!base.empty());
        const uint64_t end = header_end(base);
        for (int i = 0; i < per_base; ++i) mutate_and_parse(base, end, rng, out);
    }
    std::fprintf(stderr, "  seed %llu: %d parsed, %d invalid, %d unsupported, %d other\n",
                 static_cast<unsigned long long>(seed), out.ok, out.invalid, out.unsupported, out.other);
    CHECK_EQ(out.other, 0);
    CHECK(out.ok + out.invalid + out.unsupported >= 12000);
    CHECK(out.invalid > 1000); // the mutations do reach the validation paths
}
