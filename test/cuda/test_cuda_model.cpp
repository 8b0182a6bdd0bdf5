// The whole model on the CUDA backend against the CPU backend, through
// lmrt.h only: the same steps (a prompt, greedy decoding, part of it with
// the device choosing the tokens (LMRT_ROW_ARGMAX) or the top 40
// (LMRT_ROW_TOPK), a fork whose shared block is copied on write, a batch
// mixing a new prompt with decode rows, a truncation) on both, with the
// whole model on the GPU and split with the CPU (the last two layers on the
// GPU), every logits row compared with the parity tests' tolerances against
// llama.cpp, and the greedy token wherever the CPU's top two are not a
// near-tie.
//
// Models: stories260K in f32/f16/q8_0/q4_0 from LMRT_TEST_MODELS (default
// ../shared/models), and every .gguf in LMRT_CUDA_SYNTH_MODELS (written by
// test/cuda/run.mjs or scripts/device-models.mjs: K-quants, BF16, Qwen2,
// Qwen3, GPT-2, a sliding window).
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "check.h"
#include "lmrt.h"

namespace lmrt_cuda_test {

namespace {

struct Backend {
    lmrt_model *model = nullptr;
    lmrt_context *ctx = nullptr;
    ~Backend() {
        lmrt_context_free(ctx);
        lmrt_model_free(model);
    }
};

bool open(const std::string &path, uint32_t backend, Backend *b, int gpu_layers = -1) {
    lmrt_model_params mp{};
    mp.backend = backend;
    mp.gpu_layers = gpu_layers;
    lmrt_error err{};
    if (lmrt_model_open_with(path.c_str(), &mp, &b->model, &err) != LMRT_OK) {
        fail(path + ": " + (backend == LMRT_BACKEND_CUDA ? "CUDA" : "CPU") + " open: " + err.message);
        return false;
    }
    lmrt_context_params cp{};
    cp.n_ctx = 1024;
    cp.n_batch = 64;
    if (lmrt_context_create(b->model, &cp, &b->ctx, &err) != LMRT_OK) {
        fail(path + ": context: " + err.message);
        return false;
    }
    return true;
}

// Runs one step on both backends and compares the logits rows.
class Pair {
  public:
    Pair(std::string name, Backend &cpu, Backend &cuda, int n_vocab, double tol)
        : name_(std::move(name)), cpu_(cpu), cuda_(cuda), n_vocab_(n_vocab), tol_(tol) {}

    // Returns the CPU's logits (empty on failure).
    std::vector<float> step(const std::vector<lmrt_batch_row> &rows) {
        int n_logits = 0;
        for (const lmrt_batch_row &r : rows) n_logits += (r.flags & LMRT_ROW_LOGITS) != 0;
        std::vector<float> a(static_cast<size_t>(n_logits) * n_vocab_), b(a.size());
        lmrt_error err{};
        if (lmrt_context_step(cpu_.ctx, rows.data(), static_cast<uint32_t>(rows.size()), a.data(), a.size(), &err) != LMRT_OK) {
            fail(name_ + ": CPU step: " + err.message);
            return {};
        }
        if (lmrt_context_step(cuda_.ctx, rows.data(), static_cast<uint32_t>(rows.size()), b.data(), b.size(), &err) != LMRT_OK) {
            fail(name_ + ": CUDA step: " + err.message);
            return {};
        }
        for (int k = 0; k < n_logits; ++k, ++checks) {
            const float *x = a.data() + static_cast<size_t>(k) * n_vocab_, *y = b.data() + static_cast<size_t>(k) * n_vocab_;
            double max_abs = 0, max_diff = 0;
            int best = 0, best_gpu = 0;
            for (int i = 0; i < n_vocab_; ++i) {
                max_abs = std::max(max_abs, static_cast<double>(std::fabs(x[i])));
                max_diff = std::max(max_diff, static_cast<double>(std::fabs(x[i] - y[i])));
                if (x[i] > x[best]) best = i;
                if (y[i] > y[best_gpu]) best_gpu = i;
            }
            const double bound = tol_ * std::max(1.0, max_abs);
            worst_ = std::max(worst_, max_diff / std::max(1.0, max_abs));
            if (!(max_diff <= bound)) {
                fail(name_ + ": step " + std::to_string(steps_) + " logits row " + std::to_string(k) + " differs by " + std::to_string(max_diff) +
                     " (bound " + std::to_string(bound) + ")");
                return {};
            }
            double second = -INFINITY;
            for (int i = 0; i < n_vocab_; ++i) {
                if (i != best) second = std::max(second, static_cast<double>(x[i]));
            }
            if (best_gpu != best && x[best] - second > 2 * bound) {
                fail(name_ + ": step " + std::to_string(steps_) + " greedy token " + std::to_string(best_gpu) + " on CUDA, " + std::to_string(best) +
                     " on the CPU");
                return {};
            }
        }
        ++steps_;
        return a;
    }
    // The step with the CUDA side asking for greedy tokens only
    // (LMRT_ROW_ARGMAX): each must be the CPU's argmax unless the CPU's top
    // two are a near-tie. Returns the CPU's logits.
    std::vector<float> greedy_step(std::vector<lmrt_batch_row> rows) {
        int n_logits = 0;
        for (const lmrt_batch_row &r : rows) n_logits += (r.flags & LMRT_ROW_LOGITS) != 0;
        std::vector<float> a(static_cast<size_t>(n_logits) * n_vocab_);
        std::vector<int32_t> tokens(static_cast<size_t>(n_logits), -1);
        lmrt_error err{};
        if (lmrt_context_step(cpu_.ctx, rows.data(), static_cast<uint32_t>(rows.size()), a.data(), a.size(), &err) != LMRT_OK) {
            fail(name_ + ": CPU step: " + err.message);
            return {};
        }
        for (lmrt_batch_row &r : rows) {
            if (r.flags & LMRT_ROW_LOGITS) r.flags |= LMRT_ROW_ARGMAX;
        }
        lmrt_step_output out{};
        out.tokens = tokens.data();
        out.tokens_capacity = tokens.size();
        if (lmrt_context_step_ex(cuda_.ctx, rows.data(), static_cast<uint32_t>(rows.size()), &out, &err) != LMRT_OK) {
            fail(name_ + ": CUDA greedy step: " + err.message);
            return {};
        }
        for (int k = 0; k < n_logits; ++k, ++checks) {
            const float *x = a.data() + static_cast<size_t>(k) * n_vocab_;
            int best = 0;
            double max_abs = 0;
            for (int i = 0; i < n_vocab_; ++i) {
                if (x[i] > x[best]) best = i;
                max_abs = std::max(max_abs, static_cast<double>(std::fabs(x[i])));
            }
            double second = -INFINITY;
            for (int i = 0; i < n_vocab_; ++i) {
                if (i != best) second = std::max(second, static_cast<double>(x[i]));
            }
            const bool valid = tokens[static_cast<size_t>(k)] >= 0 && tokens[static_cast<size_t>(k)] < n_vocab_;
            if (!valid || (tokens[static_cast<size_t>(k)] != best && x[best] - second > 2 * tol_ * std::max(1.0, max_abs))) {
                fail(name_ + ": step " + std::to_string(steps_) + " greedy token " + std::to_string(tokens[static_cast<size_t>(k)]) +
                     " from the device, " + std::to_string(best) + " on the CPU");
                return {};
            }
        }
        ++steps_;
        return a;
    }
    // The step with the CUDA side asking for each logit row's top k: every
    // entry's logit must be the CPU's within the bound, and no token left
    // out may beat the k-th by more than twice the bound on the CPU.
    std::vector<float> top_k_step(std::vector<lmrt_batch_row> rows, uint32_t k) {
        int n_logits = 0;
        for (const lmrt_batch_row &r : rows) n_logits += (r.flags & LMRT_ROW_LOGITS) != 0;
        std::vector<float> a(static_cast<size_t>(n_logits) * n_vocab_), top_logits(static_cast<size_t>(n_logits) * k);
        std::vector<int32_t> top_ids(static_cast<size_t>(n_logits) * k, -1);
        lmrt_error err{};
        if (lmrt_context_step(cpu_.ctx, rows.data(), static_cast<uint32_t>(rows.size()), a.data(), a.size(), &err) != LMRT_OK) {
            fail(name_ + ": CPU step: " + err.message);
            return {};
        }
        for (lmrt_batch_row &r : rows) {
            if (r.flags & LMRT_ROW_LOGITS) r.flags |= LMRT_ROW_TOPK;
        }
        const lmrt_step_output out{nullptr, 0, nullptr, 0, k, top_ids.data(), top_logits.data(), top_ids.size()};
        if (lmrt_context_step_ex(cuda_.ctx, rows.data(), static_cast<uint32_t>(rows.size()), &out, &err) != LMRT_OK) {
            fail(name_ + ": CUDA top-k step: " + err.message);
            return {};
        }
        for (int r = 0; r < n_logits; ++r, ++checks) {
            const float *x = a.data() + static_cast<size_t>(r) * n_vocab_;
            std::vector<float> sorted(x, x + n_vocab_);
            std::sort(sorted.begin(), sorted.end(), std::greater<float>());
            double max_abs = 0;
            for (float v : sorted) max_abs = std::max(max_abs, static_cast<double>(std::fabs(v)));
            const double bound = tol_ * std::max(1.0, max_abs);
            std::vector<char> taken(static_cast<size_t>(n_vocab_), 0);
            for (uint32_t i = 0; i < k; ++i) {
                const int32_t id = top_ids[static_cast<size_t>(r) * k + i];
                const float got = top_logits[static_cast<size_t>(r) * k + i];
                const bool ok = id >= 0 && id < n_vocab_ && !taken[static_cast<size_t>(id)] && std::fabs(got - x[id]) <= bound &&
                                (i == 0 || got <= top_logits[static_cast<size_t>(r) * k + i - 1]) && x[id] >= sorted[k - 1] - 2 * bound;
                if (!ok) {
                    fail(name_ + ": step " + std::to_string(steps_) + " top-k entry " + std::to_string(i) + " (id " + std::to_string(id) +
                         ") is not among the CPU's top " + std::to_string(k) + " within the bound, or out of order");
                    return {};
                }
                taken[static_cast<size_t>(id)] = 1;
            }
        }
        ++steps_;
        return a;
    }

    double worst() const { return worst_; }

  private:
    std::string name_;
    Backend &cpu_, &cuda_;
    int n_vocab_;
    double tol_, worst_ = 0;
    int steps_ = 0;
};

// The bound on a logits row's largest difference, relative to max(1, its
// largest logit), by the weight type in the file's name. The CPU rounds a
// product's activations as llama.cpp does (to f16 for F16 weights, bf16 for
// BF16, 8-bit blocks for the quantised types) and the CUDA kernels keep them
// in f32, so the two differ by about that rounding: the parity tests'
// bounds against llama.cpp (2e-3 for floats, 4e-2 for quantised), with f16
// and bf16 between by their precision.
double tolerance_for(const std::string &name) {
    if (name.find("bf16") != std::string::npos) return 4e-2;
    if (name.find("f16") != std::string::npos) return 1e-2;
    if (name.find("f32") != std::string::npos) return 2e-3;
    return 4e-2;
}

int argmax_of(const std::vector<float> &logits, int row, int n_vocab) {
    const float *x = logits.data() + static_cast<size_t>(row) * n_vocab;
    return static_cast<int>(std::max_element(x, x + n_vocab) - x);
}

bool seq_create(Backend &cpu, Backend &cuda, int32_t *seq) {
    int32_t a = -1, b = -1;
    if (lmrt_seq_create(cpu.ctx, &a, nullptr) != LMRT_OK || lmrt_seq_create(cuda.ctx, &b, nullptr) != LMRT_OK || a != b) return false;
    *seq = a;
    return true;
}

void prompt_rows(std::vector<lmrt_batch_row> *rows, int32_t seq, int pos0, int n, int n_vocab, int salt, bool logits_last) {
    for (int i = 0; i < n; ++i) {
        const int32_t token = static_cast<int32_t>(3 + (static_cast<int64_t>(pos0 + i) * 7919 + salt) % (n_vocab - 3));
        rows->push_back({seq, token, pos0 + i, logits_last && i + 1 == n ? LMRT_ROW_LOGITS : 0});
    }
}

// gpu_layers -1: the whole model on the GPU; else split with the CPU.
void compare_model(const std::string &path, int gpu_layers) {
    Backend cpu, cuda;
    if (!open(path, LMRT_BACKEND_CPU, &cpu) || !open(path, LMRT_BACKEND_CUDA, &cuda, gpu_layers)) return;
    lmrt_model_info info{};
    lmrt_model_info_get(cuda.model, &info);
    if (info.backend != LMRT_BACKEND_CUDA || (gpu_layers > 0 && info.gpu_layers != static_cast<uint32_t>(gpu_layers))) {
        fail(path + ": asked for CUDA with " + std::to_string(gpu_layers) + " GPU layers, runs on the CPU or with " + std::to_string(info.gpu_layers));
        return;
    }
    const int V = static_cast<int>(info.n_vocab);
    const std::string name = path.substr(path.rfind('/') + 1) + (gpu_layers > 0 ? " split, " + std::to_string(gpu_layers) + " GPU layers" : "");
    Pair pair(name, cpu, cuda, V, tolerance_for(name));
    const int failed_before = failures;

    // a prompt with logits on two rows, then greedy decoding
    int32_t a, b, c;
    if (!seq_create(cpu, cuda, &a)) return fail(name + ": sequence ids differ");
    std::vector<lmrt_batch_row> rows;
    prompt_rows(&rows, a, 0, 37, V, 1, true);
    rows[10].flags = LMRT_ROW_LOGITS;
    std::vector<float> logits = pair.step(rows);
    if (logits.empty()) return;
    int pos = 37, token = argmax_of(logits, 1, V);
    for (int i = 0; i < 12; ++i, ++pos) {
        // a third of the steps take the greedy token from the device, a third the top 40, instead of the logits
        const std::vector<lmrt_batch_row> row = {{a, token, pos, LMRT_ROW_LOGITS | LMRT_ROW_DECODE}};
        logits = i % 3 == 0 ? pair.step(row) : i % 3 == 1 ? pair.greedy_step(row) : pair.top_k_step(row, 40);
        if (logits.empty()) return;
        token = argmax_of(logits, 0, V);
    }
    // a fork in the middle of a block: the first write copies the shared block
    if (lmrt_seq_fork(cpu.ctx, a, &b, nullptr) != LMRT_OK) return fail(name + ": CPU fork");
    int32_t b_cuda = -1;
    if (lmrt_seq_fork(cuda.ctx, a, &b_cuda, nullptr) != LMRT_OK || b_cuda != b) return fail(name + ": CUDA fork");
    int token_b = (token + 1) % V;
    for (int i = 0; i < 6; ++i, ++pos) {
        logits = pair.step({{a, token, pos, LMRT_ROW_LOGITS | LMRT_ROW_DECODE}, {b, token_b, pos, LMRT_ROW_LOGITS | LMRT_ROW_DECODE}});
        if (logits.empty()) return;
        token = argmax_of(logits, 0, V);
        token_b = argmax_of(logits, 1, V);
    }
    // a new prompt in two chunks, each sharing its step with decode rows
    if (!seq_create(cpu, cuda, &c)) return fail(name + ": sequence ids differ");
    rows.clear();
    prompt_rows(&rows, c, 0, 40, V, 2, true);
    rows.push_back({a, token, pos, LMRT_ROW_LOGITS | LMRT_ROW_DECODE});
    if (pair.step(rows).empty()) return;
    rows.clear();
    rows.push_back({b, token_b, pos, LMRT_ROW_LOGITS | LMRT_ROW_DECODE});
    prompt_rows(&rows, c, 40, 30, V, 2, true);
    if (pair.step(rows).empty()) return;
    // a long prompt (past a sliding window's), then a truncation and decoding on
    rows.clear();
    prompt_rows(&rows, c, 70, 64, V, 3, true);
    if ((logits = pair.step(rows)).empty()) return;
    if (lmrt_seq_truncate(cpu.ctx, a, 40, nullptr) != LMRT_OK || lmrt_seq_truncate(cuda.ctx, a, 40, nullptr) != LMRT_OK) {
        return fail(name + ": truncate");
    }
    token = argmax_of(logits, 0, V);
    for (int p = 40; p < 44; ++p) {
        if ((logits = pair.step({{a, token, p, LMRT_ROW_LOGITS | LMRT_ROW_DECODE}})).empty()) return;
        token = argmax_of(logits, 0, V);
    }
    if (failures == failed_before) {
        std::printf("  %-40s on %s: logits within %.2g of the CPU's (relative to max(1, |logits|))\n", name.c_str(), info.device.data,
                    pair.worst());
    }
}

std::vector<std::string> models() {
    std::vector<std::string> paths;
    const char *env = std::getenv("LMRT_TEST_MODELS");
    const std::string dir = env != nullptr && *env != '\0' ? env : "../shared/models";
    struct stat st;
    if (::stat((dir + "/stories260K-f32.gguf").c_str(), &st) == 0) {
        for (const char *q : {"f32", "f16", "q8_0", "q4_0"}) paths.push_back(dir + "/stories260K-" + q + ".gguf");
    } else {
        std::printf("  SKIPPED the real models: none in '%s' (set LMRT_TEST_MODELS)\n", dir.c_str());
    }
    const char *synth = std::getenv("LMRT_CUDA_SYNTH_MODELS");
    if (synth != nullptr && *synth != '\0') {
        if (DIR *d = opendir(synth)) {
            std::vector<std::string> found;
            while (dirent *e = readdir(d)) {
                const std::string f = e->d_name;
                if (f.size() > 5 && f.compare(f.size() - 5, 5, ".gguf") == 0) found.push_back(std::string(synth) + "/" + f);
            }
            closedir(d);
            std::sort(found.begin(), found.end());
            paths.insert(paths.end(), found.begin(), found.end());
        }
    } else {
        std::printf("  no synthetic models (LMRT_CUDA_SYNTH_MODELS unset): K-quants, BF16, Qwen, GPT-2 and sliding windows not covered\n");
    }
    return paths;
}

} // namespace

void cuda_model_matches_the_cpu_backend() {
    const std::vector<std::string> paths = models();
    if (paths.empty()) return fail("no models to compare");
    for (const std::string &path : paths) {
        compare_model(path, -1);
        compare_model(path, 2); // the last two layers on the GPU, the others on the CPU (every model here has at least 4)
    }
}

} // namespace lmrt_cuda_test
