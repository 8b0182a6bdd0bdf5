// The CUDA backend's benchmark on a GPU machine (scripts/device-check.sh
// runs it; it needs no Node):
//   - the device-to-device copy bandwidth (the roofline's memory rate);
//   - the paged-attention decode kernel's achieved bandwidth at 4k and 32k
//     context (Llama-3-8B's heads: 32 query heads, 8 KV heads of 128),
//     beside PyTorch's scaled_dot_product_attention on the same shapes when
//     bench/cuda/sdpa.py's results are passed (--sdpa FILE);
//   - prefill and decode (batch 1 and 32) of synthetic Llama 1B- and
//     8B-class models in Q4_0 and F16, written here with random weights
//     (their speed does not depend on the values), through lmrt.h with the
//     CUDA backend, and batch-1 decode against its roofline: the copy
//     bandwidth over the weight bytes a token reads.
// Prints one table last.
//
//   lmrt_cuda_bench --dir DIR [--sdpa FILE] [--models 1b-q4_0,8b-f16,...] [--budget SECONDS]
//   lmrt_cuda_bench --check-files DIR   (no GPU needed: writes tiny models
//     the same way and runs a step of each on the CPU backend)
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../../native/kernels/cuda/attention.cuh"
#include "../../native/kernels/cuda/paged_kv.cuh"
#include "lmrt.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

#define CUDA_CHECK(call)                                                                                           \
    do {                                                                                                           \
        const cudaError_t e_ = (call);                                                                             \
        if (e_ != cudaSuccess) {                                                                                   \
            std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_));            \
            std::exit(1);                                                                                          \
        }                                                                                                          \
    } while (0)

// Device-to-device copies of a 2 GiB buffer; bytes read plus written per second.
double copy_bandwidth() {
    const size_t bytes = size_t(2) << 30;
    void *a = nullptr, *b = nullptr;
    CUDA_CHECK(cudaMalloc(&a, bytes));
    CUDA_CHECK(cudaMalloc(&b, bytes));
    CUDA_CHECK(cudaMemset(a, 1, bytes));
    cudaEvent_t start, stop;
    CUDA_CHECK(cudaEventCreate(&start));
    CUDA_CHECK(cudaEventCreate(&stop));
    std::vector<double> rates;
    for (int i = 0; i < 8; ++i) {
        CUDA_CHECK(cudaEventRecord(start));
        CUDA_CHECK(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice));
        CUDA_CHECK(cudaEventRecord(stop));
        CUDA_CHECK(cudaEventSynchronize(stop));
        float ms = 0;
        CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
        if (i > 0) rates.push_back(2.0 * bytes / (ms * 1e-3));
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    cudaFree(a);
    cudaFree(b);
    return median(rates);
}

struct AttentionResult {
    int batch, context;
    double ms, bytes;
};

// The paged decode kernel: `batch` rows, each attending to `context`
// positions of its own sequence (blocks of 16 in a shuffled pool).
AttentionResult bench_attention(int batch, int context) {
    const int n_head = 32, n_head_kv = 8, D = 128, block = 16;
    const int blocks_per_seq = context / block, n_blocks = blocks_per_seq * batch;
    lmrt::cuda::PagedKv kv;
    kv.n_layer = 1;
    kv.n_head_kv = n_head_kv;
    kv.head_dim = D;
    kv.block_size = block;
    kv.block_bytes = static_cast<size_t>(block) * n_head_kv * D * 2;
    const size_t pool_bytes = static_cast<size_t>(n_blocks) * 2 * kv.block_bytes;
    CUDA_CHECK(cudaMalloc(reinterpret_cast<void **>(&kv.pool), pool_bytes));
    CUDA_CHECK(cudaMemset(kv.pool, 0x3c, pool_bytes)); // halves near 1.0
    std::vector<int32_t> tables(static_cast<size_t>(n_blocks)), offsets(static_cast<size_t>(batch)), first(static_cast<size_t>(batch), 0),
        last(static_cast<size_t>(batch), context - 1);
    for (int b = 0; b < n_blocks; ++b) tables[static_cast<size_t>(b)] = b;
    std::shuffle(tables.begin(), tables.end(), std::mt19937(1));
    for (int r = 0; r < batch; ++r) offsets[static_cast<size_t>(r)] = r * blocks_per_seq;
    int32_t *d_ints = nullptr;
    float *q = nullptr, *out = nullptr, *partials = nullptr;
    const size_t n_ints = tables.size() + 3 * static_cast<size_t>(batch);
    CUDA_CHECK(cudaMalloc(&d_ints, n_ints * 4));
    CUDA_CHECK(cudaMemcpy(d_ints, tables.data(), tables.size() * 4, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(d_ints + tables.size(), offsets.data(), batch * 4, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(d_ints + tables.size() + batch, first.data(), batch * 4, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(d_ints + tables.size() + 2 * batch, last.data(), batch * 4, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMalloc(&q, static_cast<size_t>(batch) * n_head * D * 4));
    CUDA_CHECK(cudaMemset(q, 0, static_cast<size_t>(batch) * n_head * D * 4));
    CUDA_CHECK(cudaMalloc(&out, static_cast<size_t>(batch) * n_head * D * 4));
    const size_t partial_floats = lmrt::cuda::attention_partial_floats(n_head, D, context) * batch;
    CUDA_CHECK(cudaMalloc(&partials, partial_floats * 4));
    lmrt::cuda::AttentionRows rows;
    rows.q = q;
    rows.out = out;
    rows.tables = d_ints;
    rows.table_offset = d_ints + tables.size();
    rows.first = d_ints + tables.size() + batch;
    rows.last = d_ints + tables.size() + 2 * batch;
    rows.T = batch;
    rows.max_span = context;
    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
    cudaEvent_t start, stop;
    CUDA_CHECK(cudaEventCreate(&start));
    CUDA_CHECK(cudaEventCreate(&stop));
    for (int i = 0; i < 3; ++i) CUDA_CHECK(lmrt::cuda::paged_attention(kv, 0, rows, n_head, scale, partials, partial_floats, nullptr));
    const int iterations = 20;
    CUDA_CHECK(cudaEventRecord(start));
    for (int i = 0; i < iterations; ++i) CUDA_CHECK(lmrt::cuda::paged_attention(kv, 0, rows, n_head, scale, partials, partial_floats, nullptr));
    CUDA_CHECK(cudaEventRecord(stop));
    CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    cudaFree(partials);
    cudaFree(out);
    cudaFree(q);
    cudaFree(d_ints);
    cudaFree(kv.pool);
    return {batch, context, ms / iterations, static_cast<double>(batch) * context * n_head_kv * D * 2 * 2};
}

// ---------------------------------------------------------------- models

struct Shape {
    const char *name;
    int n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff;
};

const Shape kShapes[] = {{"1b", 128256, 2048, 16, 32, 8, 8192}, {"8b", 128256, 4096, 32, 32, 8, 14336}};
// for --check-files only: a model small enough to write anywhere
const Shape kTiny = {"tiny", 512, 256, 2, 8, 2, 512};

struct Model {
    std::string path, label;
    double weight_bytes = 0; // read per decoded token: every matrix but the embedding table
};

uint64_t tensor_bytes(uint32_t type, uint64_t n) {
    lmrt_type_layout layout;
    lmrt_type_layout_get(type, &layout);
    return n / layout.block_size * layout.block_bytes;
}

// Random bytes that decode to small finite weights: Q4_0 blocks with a
// fixed scale and random codes, or f16 values in about +-0.06.
std::vector<uint8_t> random_weights(uint32_t type, size_t bytes) {
    std::vector<uint8_t> out(bytes);
    std::mt19937_64 rng(7);
    for (size_t i = 0; i + 8 <= bytes; i += 8) {
        const uint64_t r = rng();
        std::memcpy(&out[i], &r, 8);
    }
    if (type == LMRT_TYPE_Q4_0) {
        for (size_t b = 0; b + 18 <= bytes; b += 18) {
            const uint16_t d = 0x2148; // 0.0102 as f16
            std::memcpy(&out[b], &d, 2);
        }
    } else {
        for (size_t i = 0; i + 2 <= bytes; i += 2) {
            uint16_t h;
            std::memcpy(&h, &out[i], 2);
            h = static_cast<uint16_t>((h & 0x83ff) | 0x2800); // sign, mantissa, exponent of 2^-5: |w| in [0.031, 0.062)
            std::memcpy(&out[i], &h, 2);
        }
    }
    return out;
}

lmrt_gguf_kv_in kv_u32(const char *key, uint32_t v) {
    lmrt_gguf_kv_in kv{};
    kv.key = {key, std::strlen(key)};
    kv.value.type = LMRT_GGUF_UINT32;
    kv.value.as.u64 = v;
    return kv;
}

lmrt_gguf_kv_in kv_f32(const char *key, float v) {
    lmrt_gguf_kv_in kv{};
    kv.key = {key, std::strlen(key)};
    kv.value.type = LMRT_GGUF_FLOAT32;
    kv.value.as.f64 = v;
    return kv;
}

lmrt_gguf_kv_in kv_str(const char *key, const char *v) {
    lmrt_gguf_kv_in kv{};
    kv.key = {key, std::strlen(key)};
    kv.value.type = LMRT_GGUF_STRING;
    kv.value.as.str = {v, std::strlen(v)};
    return kv;
}

// Writes a Llama-family GGUF of `shape` with matrices of `type` and a
// SentencePiece vocabulary (<unk>, <s>, </s>, 256 byte tokens, then pieces).
bool write_model(const Shape &shape, uint32_t type, const std::string &path, Model *m) {
    const uint64_t E = shape.n_embd, F = shape.n_ff, V = shape.n_vocab, KD = E / shape.n_head * shape.n_head_kv;
    std::vector<std::string> token_text(V);
    token_text[0] = "<unk>";
    token_text[1] = "<s>";
    token_text[2] = "</s>";
    for (int b = 0; b < 256; ++b) {
        char s[8];
        std::snprintf(s, sizeof s, "<0x%02X>", b);
        token_text[3 + b] = s;
    }
    for (uint64_t i = 259; i < V; ++i) token_text[i] = "\xe2\x96\x81t" + std::to_string(i);
    std::vector<lmrt_string> tokens(V);
    std::vector<float> scores(V);
    std::vector<int32_t> types(V, 1);
    for (uint64_t i = 0; i < V; ++i) {
        tokens[i] = {token_text[i].data(), token_text[i].size()};
        scores[i] = -static_cast<float>(i);
    }
    types[0] = 2;
    types[1] = types[2] = 3;
    for (int b = 0; b < 256; ++b) types[3 + b] = 6;
    std::vector<lmrt_gguf_kv_in> kvs = {kv_str("general.architecture", "llama"),
                                        kv_str("general.name", "lmrt-cuda-bench"),
                                        kv_u32("llama.embedding_length", shape.n_embd),
                                        kv_u32("llama.block_count", shape.n_layer),
                                        kv_u32("llama.feed_forward_length", shape.n_ff),
                                        kv_u32("llama.attention.head_count", shape.n_head),
                                        kv_u32("llama.attention.head_count_kv", shape.n_head_kv),
                                        kv_u32("llama.context_length", 8192),
                                        kv_f32("llama.rope.freq_base", 500000.0f),
                                        kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f),
                                        kv_str("tokenizer.ggml.model", "llama"),
                                        kv_u32("tokenizer.ggml.bos_token_id", 1),
                                        kv_u32("tokenizer.ggml.eos_token_id", 2),
                                        kv_u32("tokenizer.ggml.unknown_token_id", 0)};
    lmrt_gguf_kv_in arr{};
    arr.key = {"tokenizer.ggml.tokens", std::strlen("tokenizer.ggml.tokens")};
    arr.value.type = LMRT_GGUF_ARRAY;
    arr.value.as.array = {LMRT_GGUF_STRING, V, tokens.data()};
    kvs.push_back(arr);
    arr.key = {"tokenizer.ggml.scores", std::strlen("tokenizer.ggml.scores")};
    arr.value.as.array = {LMRT_GGUF_FLOAT32, V, scores.data()};
    kvs.push_back(arr);
    arr.key = {"tokenizer.ggml.token_type", std::strlen("tokenizer.ggml.token_type")};
    arr.value.as.array = {LMRT_GGUF_INT32, V, types.data()};
    kvs.push_back(arr);

    const std::vector<uint8_t> data = random_weights(type, tensor_bytes(type, E * V));
    std::vector<std::string> names;
    std::vector<lmrt_gguf_tensor_in> tensors;
    names.reserve(static_cast<size_t>(shape.n_layer) * 9 + 3);
    m->weight_bytes = 0;
    auto add = [&](const std::string &name, uint64_t ne0, uint64_t ne1, bool matrix) {
        names.push_back(name);
        lmrt_gguf_tensor_in t{};
        t.name = {names.back().data(), names.back().size()};
        t.n_dims = ne1 > 1 ? 2 : 1;
        t.ne[0] = ne0;
        t.ne[1] = ne1;
        t.ne[2] = t.ne[3] = 1;
        if (matrix) {
            t.type = type;
            t.source = LMRT_SOURCE_RAW;
            t.data = data.data();
            t.data_bytes = tensor_bytes(type, ne0 * ne1);
            if (name != "token_embd.weight") m->weight_bytes += static_cast<double>(t.data_bytes);
        } else {
            t.type = LMRT_TYPE_F32;
            t.source = LMRT_SOURCE_CONSTANT;
            t.scale = 1.0f;
        }
        tensors.push_back(t);
    };
    add("token_embd.weight", E, V, true);
    add("output_norm.weight", E, 1, false);
    add("output.weight", E, V, true);
    for (int i = 0; i < shape.n_layer; ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        add(b + "attn_norm.weight", E, 1, false);
        add(b + "attn_q.weight", E, E, true);
        add(b + "attn_k.weight", E, KD, true);
        add(b + "attn_v.weight", E, KD, true);
        add(b + "attn_output.weight", E, E, true);
        add(b + "ffn_norm.weight", E, 1, false);
        add(b + "ffn_gate.weight", E, F, true);
        add(b + "ffn_up.weight", E, F, true);
        add(b + "ffn_down.weight", F, E, true);
    }
    lmrt_error err{};
    if (lmrt_gguf_write(path.c_str(), 0, kvs.data(), kvs.size(), tensors.data(), tensors.size(), nullptr, nullptr, &err) != LMRT_OK) {
        std::fprintf(stderr, "writing %s: %s\n", path.c_str(), err.message);
        return false;
    }
    m->path = path;
    return true;
}

struct ModelResult {
    std::string label;
    double weight_mib = 0, prefill = 0, decode1 = 0, decode32 = 0, roofline = 0;
    std::string error;
};

bool step(lmrt_context *ctx, const std::vector<lmrt_batch_row> &rows, std::vector<float> &logits, std::string *error) {
    lmrt_error err{};
    if (lmrt_context_step(ctx, rows.data(), static_cast<uint32_t>(rows.size()), logits.data(), logits.size(), &err) != LMRT_OK) {
        *error = err.message;
        return false;
    }
    return true;
}

ModelResult bench_model(const Model &m, double bandwidth) {
    ModelResult r;
    r.label = m.label;
    r.weight_mib = m.weight_bytes / (1 << 20);
    lmrt_model_params mp{};
    mp.backend = LMRT_BACKEND_CUDA;
    mp.gpu_layers = -1;
    lmrt_model *model = nullptr;
    lmrt_context *ctx = nullptr;
    lmrt_error err{};
    if (lmrt_model_open_with(m.path.c_str(), &mp, &model, &err) != LMRT_OK) {
        r.error = err.message;
        return r;
    }
    lmrt_model_info info{};
    lmrt_model_info_get(model, &info);
    const int V = static_cast<int>(info.n_vocab);
    lmrt_context_params cp{};
    cp.n_ctx = 8192;
    cp.n_batch = 544;
    if (lmrt_context_create(model, &cp, &ctx, &err) != LMRT_OK) {
        r.error = err.message;
        lmrt_model_free(model);
        return r;
    }
    std::vector<float> logits(static_cast<size_t>(V) * 32);
    auto token = [V](int i) { return static_cast<int32_t>(3 + (static_cast<int64_t>(i) * 7919) % (V - 3)); };
    // prefill: a 512-token prompt in one step, best of warm runs by median
    std::vector<double> times;
    for (int run = 0; run < 4 && r.error.empty(); ++run) {
        int32_t seq;
        lmrt_seq_create(ctx, &seq, nullptr);
        std::vector<lmrt_batch_row> rows;
        for (int i = 0; i < 512; ++i) rows.push_back({seq, token(i), i, i == 511 ? LMRT_ROW_LOGITS : 0});
        const auto t0 = Clock::now();
        if (step(ctx, rows, logits, &r.error) && run > 0) times.push_back(seconds_since(t0));
        lmrt_seq_release(ctx, seq, nullptr);
    }
    if (!times.empty()) r.prefill = 512 / median(times);
    // decode at batch 1 and 32: 16-token prompts, then one row per sequence per step
    for (const int batch : {1, 32}) {
        if (!r.error.empty()) break;
        std::vector<int32_t> seqs(static_cast<size_t>(batch));
        std::vector<lmrt_batch_row> rows;
        for (int s = 0; s < batch; ++s) {
            lmrt_seq_create(ctx, &seqs[static_cast<size_t>(s)], nullptr);
            for (int i = 0; i < 16; ++i) rows.push_back({seqs[static_cast<size_t>(s)], token(i + s), i, i == 15 ? LMRT_ROW_LOGITS : 0});
        }
        if (!step(ctx, rows, logits, &r.error)) break;
        const int warm = 4, timed = batch == 1 ? 128 : 64;
        Clock::time_point t0;
        for (int k = 0; k < warm + timed; ++k) {
            if (k == warm) t0 = Clock::now();
            rows.clear();
            for (int s = 0; s < batch; ++s) rows.push_back({seqs[static_cast<size_t>(s)], token(k * 3 + s), 16 + k, LMRT_ROW_LOGITS | LMRT_ROW_DECODE});
            if (!step(ctx, rows, logits, &r.error)) break;
        }
        if (!r.error.empty()) break;
        const double rate = batch * timed / seconds_since(t0);
        (batch == 1 ? r.decode1 : r.decode32) = rate;
        for (int32_t s : seqs) lmrt_seq_release(ctx, s, nullptr);
    }
    r.roofline = bandwidth / m.weight_bytes;
    lmrt_context_free(ctx);
    lmrt_model_free(model);
    return r;
}

std::map<std::string, double> read_sdpa(const std::string &path) {
    // lines "batch context milliseconds [note]"
    std::map<std::string, double> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream s(line);
        int b = 0, c = 0;
        double ms = 0;
        if (s >> b >> c >> ms) out[std::to_string(b) + "x" + std::to_string(c)] = ms;
    }
    return out;
}

} // namespace

// Writes the tiny shape in both types and runs a step of each on the CPU.
int check_files(const std::string &dir) {
    for (const uint32_t type : {LMRT_TYPE_Q4_0, LMRT_TYPE_F16}) {
        Model m;
        if (!write_model(kTiny, type, dir + "/tiny.gguf", &m)) return 1;
        lmrt_model *model = nullptr;
        lmrt_context *ctx = nullptr;
        lmrt_error err{};
        if (lmrt_model_open(m.path.c_str(), &model, &err) != LMRT_OK || lmrt_context_create(model, nullptr, &ctx, &err) != LMRT_OK) {
            std::fprintf(stderr, "%s: %s\n", m.path.c_str(), err.message);
            return 1;
        }
        int32_t seq;
        lmrt_seq_create(ctx, &seq, nullptr);
        std::vector<lmrt_batch_row> rows = {{seq, 5, 0, 0}, {seq, 300, 1, LMRT_ROW_LOGITS}};
        std::vector<float> logits(kTiny.n_vocab);
        std::string error;
        const bool ok = step(ctx, rows, logits, &error) && std::isfinite(logits[0]);
        std::printf("%s %s: %s, weights read per token %.2f MiB\n", kTiny.name, type == LMRT_TYPE_Q4_0 ? "Q4_0" : "F16",
                    ok ? "loads and steps on the CPU" : error.c_str(), m.weight_bytes / (1 << 20));
        lmrt_context_free(ctx);
        lmrt_model_free(model);
        std::remove(m.path.c_str());
        if (!ok) return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    std::string dir = "/tmp/lmrt-cuda-bench", sdpa_file, only;
    double budget = 300;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--check-files") return check_files(argv[i + 1]);
        if (a == "--dir") dir = argv[i + 1];
        else if (a == "--sdpa") sdpa_file = argv[i + 1];
        else if (a == "--models") only = argv[i + 1];
        else if (a == "--budget") budget = std::atof(argv[i + 1]);
    }
    const auto start = Clock::now();
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        std::printf("no CUDA device: nothing to measure\n");
        return 1;
    }
    cudaDeviceProp prop{};
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    std::string mkdir = "mkdir -p '" + dir + "'";
    if (std::system(mkdir.c_str()) != 0) return 1;

    const double bandwidth = copy_bandwidth();
    std::printf("device-to-device copy: %.0f GB/s (read + write)\n", bandwidth / 1e9);
    std::vector<AttentionResult> attention;
    for (int batch : {1, 32}) {
        for (int context : {4096, 32768}) {
            attention.push_back(bench_attention(batch, context));
            std::printf("paged attention batch %d context %d: %.3f ms\n", batch, context, attention.back().ms);
        }
    }
    const std::map<std::string, double> sdpa = sdpa_file.empty() ? std::map<std::string, double>{} : read_sdpa(sdpa_file);

    std::vector<ModelResult> models;
    for (const Shape &shape : kShapes) {
        for (const uint32_t type : {LMRT_TYPE_Q4_0, LMRT_TYPE_F16}) {
            const std::string label = std::string(shape.name) + "-" + (type == LMRT_TYPE_Q4_0 ? "q4_0" : "f16");
            if (!only.empty() && only.find(label) == std::string::npos) continue;
            if (seconds_since(start) > budget) {
                models.push_back({label, 0, 0, 0, 0, 0, "skipped: past the time budget"});
                continue;
            }
            Model m;
            m.label = label;
            const auto t0 = Clock::now();
            if (!write_model(shape, type, dir + "/" + label + ".gguf", &m)) return 1;
            std::printf("%s: written in %.1f s\n", label.c_str(), seconds_since(t0));
            models.push_back(bench_model(m, bandwidth));
            std::remove(m.path.c_str());
            const ModelResult &r = models.back();
            if (!r.error.empty()) std::printf("%s: %s\n", label.c_str(), r.error.c_str());
        }
    }

    std::printf("\nCUDA backend on %s (sm_%d%d), %.0f GiB; device-to-device copy %.0f GB/s\n\n", prop.name, prop.major, prop.minor,
                prop.totalGlobalMem / 1073741824.0, bandwidth / 1e9);
    std::printf("| paged attention decode (32 q heads, 8 KV heads of 128, f16) | lmrt ms | lmrt GB/s | of copy bw | SDPA ms | SDPA / lmrt |\n");
    std::printf("|---|---:|---:|---:|---:|---:|\n");
    for (const AttentionResult &a : attention) {
        const double rate = a.bytes / (a.ms * 1e-3);
        const auto s = sdpa.find(std::to_string(a.batch) + "x" + std::to_string(a.context));
        char sdpa_cols[64] = "| - | -";
        if (s != sdpa.end()) std::snprintf(sdpa_cols, sizeof sdpa_cols, "| %.3f | %.2fx", s->second, s->second / a.ms);
        std::printf("| batch %d, context %d | %.3f | %.0f | %.0f%% %s |\n", a.batch, a.context, a.ms, rate / 1e9, 100 * rate / bandwidth, sdpa_cols);
    }
    std::printf("\n| model | weights read per token | prefill tok/s (512) | decode tok/s batch 1 | roofline tok/s | of roofline | decode tok/s batch 32 |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (const ModelResult &r : models) {
        if (!r.error.empty()) {
            std::printf("| %s | %s |\n", r.label.c_str(), r.error.c_str());
            continue;
        }
        std::printf("| %s | %.0f MiB | %.0f | %.1f | %.1f | %.0f%% | %.0f |\n", r.label.c_str(), r.weight_mib, r.prefill, r.decode1, r.roofline,
                    100 * r.decode1 / r.roofline, r.decode32);
    }
    return 0;
}
