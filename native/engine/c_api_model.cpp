// The C API over models, contexts, sequences and steps.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>

#include "handles.h"

namespace {

lmrt_status invalid(lmrt_error *err, const char *fmt, int64_t a = 0, int64_t b = 0) {
    return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, fmt, a, b).to_c(err);
}

template <typename Fn> lmrt_status guarded(lmrt_error *err, const char *what, Fn fn) {
    try {
        return fn();
    } catch (const std::bad_alloc &) {
        return lmrt::Status::error(LMRT_E_OUT_OF_MEMORY, "out of memory while %s", what).to_c(err);
    } catch (...) {
        return lmrt::Status::error(LMRT_E_INTERNAL, "unexpected exception while %s", what).to_c(err);
    }
}

struct StepJob {
    lmrt::StepArgs *args;
    lmrt::Arch arch;
};

void run_step(void *user, int ith, int nth) {
    auto *job = static_cast<StepJob *>(user);
    if (job->arch == lmrt::Arch::kGpt2) {
        lmrt::forward_gpt2(*job->args, ith, nth);
    } else {
        lmrt::forward_llama(*job->args, ith, nth);
    }
}

// A step of a small model does a few hundred microseconds of arithmetic or
// less; waking another core and meeting it at every op's barrier costs more
// than it saves. Such steps run on the calling thread alone: under ~4M
// weight-row products (parameters times rows); on a 2-core VM a
// 3.5M-parameter model decodes as fast on one thread as on two.
// Results do not depend on it: the kernels split work by output feature.
bool one_thread_suffices(const lmrt_model &m, uint32_t rows) {
    constexpr uint64_t kSingleThreadWork = 4u << 20;
    return m.n_params * rows < kSingleThreadWork;
}

// Each row's summation order: from its own flags for the batch; for the
// logit rows the last layer keeps, single when its sequence asked for one
// row's logits (a prompt's last row, as llama.cpp computes its output row),
// batched when it asked for several.
void order_rows(const lmrt::BatchRow *batch, uint32_t n, lmrt::StepScratch *s) {
    using lmrt::kernels::RowOrder;
    for (uint32_t i = 0; i < n; ++i) s->row_orders[i] = batch[i].decode ? RowOrder::kSingle : RowOrder::kBatched;
    const std::vector<int> &logit_rows = s->logit_rows;
    for (size_t j = 0; j < logit_rows.size(); ++j) {
        const int seq = batch[logit_rows[j]].seq;
        int count = 0;
        for (int r : logit_rows) count += batch[r].seq == seq;
        s->logit_orders[j] = count == 1 ? RowOrder::kSingle : RowOrder::kBatched;
    }
    s->orders = s->row_orders.data();
}

// Puts the model on the CUDA backend when asked and possible: all layers,
// or the last gpu_layers of them with the CPU running the ones before (as
// llama.cpp offloads). AUTO falls back to the CPU when the backend is
// unavailable or cannot run the model; CUDA gives those as errors.
// Uploading happens before the CPU's interleaved copies would be made, from
// the mapped file.
lmrt::Status choose_backend(const lmrt_model_params &p, lmrt_model *model) {
    if (p.backend == LMRT_BACKEND_CPU || p.gpu_layers == 0) return lmrt::Status::ok();
    const bool automatic = p.backend == LMRT_BACKEND_AUTO;
    const int n_layer = model->hp.n_layer;
    const int first_layer = p.gpu_layers < 0 || p.gpu_layers >= n_layer ? 0 : n_layer - p.gpu_layers;
    lmrt::Status s = lmrt::CudaModel::create(model->hp, model->weights, p.cuda_library, p.device, first_layer, &model->cuda);
    if (!s.is_ok() && automatic &&
        (s.code() == LMRT_E_BACKEND_UNAVAILABLE || s.code() == LMRT_E_ARCH_UNSUPPORTED || s.code() == LMRT_E_GGUF_UNSUPPORTED)) {
        model->cuda.reset();
        return lmrt::Status::ok();
    }
    return s;
}

// The index of a row's largest logit, the first of equal ones, NaN never
// (as the sampling chain's greedy choice in ts/sampling/chain.ts).
int32_t argmax_of(const float *row, int n) {
    int32_t best = 0;
    float value = row[0] == row[0] ? row[0] : -INFINITY;
    for (int i = 1; i < n; ++i) {
        if (row[i] > value) {
            value = row[i];
            best = i;
        }
    }
    return best;
}

// The k largest logits of a row and their ids: largest first, equal
// logits the lower id first, NaN as -infinity (the sampling chain's order,
// ts/sampling/candidates.ts). `order` is scratch of the row's length.
void top_k_of(const float *row, int n, int k, int32_t *ids, float *values, std::vector<int32_t> *order) {
    auto value = [row](int32_t i) { return row[i] == row[i] ? row[i] : -INFINITY; };
    order->resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) (*order)[static_cast<size_t>(i)] = i;
    std::partial_sort(order->begin(), order->begin() + k, order->end(), [&](int32_t a, int32_t b) {
        const float va = value(a), vb = value(b);
        return va > vb || (va == vb && a < b);
    });
    for (int i = 0; i < k; ++i) {
        ids[i] = (*order)[static_cast<size_t>(i)];
        values[i] = value(ids[i]);
    }
}

// Hands out the CPU step's logit rows (in ctx->step_logits), each kind in
// row order: greedy rows' tokens, top-k rows' entries, the others' logits.
void split_logits(lmrt_context *ctx, const lmrt_step_output &out) {
    const size_t V = static_cast<size_t>(ctx->model->hp.n_vocab);
    const std::vector<int> &logit_rows = ctx->scratch.logit_rows;
    size_t next_logits = 0, next_token = 0, next_top = 0;
    for (size_t j = 0; j < logit_rows.size(); ++j) {
        const float *row = ctx->step_logits.data() + j * V;
        const lmrt::BatchRow &r = ctx->scratch.batch[static_cast<size_t>(logit_rows[j])];
        if (r.argmax) {
            out.tokens[next_token++] = argmax_of(row, static_cast<int>(V));
        } else if (r.topk) {
            top_k_of(row, static_cast<int>(V), static_cast<int>(out.top_k), out.top_ids + next_top, out.top_logits + next_top, &ctx->top_order);
            next_top += out.top_k;
        } else {
            std::memcpy(out.logits + next_logits++ * V, row, V * sizeof(float));
        }
    }
}

// After a step's K/V are written: the sequences' new lengths, their row
// keys for prefix caching, and the blocks a sliding window has left behind.
void finish_step(lmrt_context *ctx, uint32_t n) {
    const std::vector<lmrt::BatchRow> &batch = ctx->scratch.batch;
    ctx->kv.commit(ctx->growth);
    for (uint32_t i = 0; i < n; ++i) ctx->kv.record(batch[i].seq, batch[i].pos, lmrt::kv_row_key(batch[i].token, batch[i].decode));
    for (const lmrt::KvCache::Growth &g : ctx->growth) ctx->kv.seal(g.seq);
    // a sliding window never looks below new_length - window + 1 again
    const int window = ctx->model->hp.sliding_window;
    if (window > 0) {
        for (const lmrt::KvCache::Growth &g : ctx->growth) ctx->kv.release_before(g.seq, g.new_length - window + 1);
    }
}

// A step on the device: each row's K/V slot and the first position it
// attends to, the block tables of the step's sequences (once each), and
// the copy-on-write copies the cache's reserve() decided on.
lmrt::Status cuda_step(lmrt_context *ctx, uint32_t n, const lmrt_step_output &out, const float *x) {
    const lmrt::HParams &hp = ctx->model->hp;
    const lmrt::KvCache &kv = ctx->kv;
    const int bs = kv.block_size();
    ctx->cuda_rows.resize(n);
    ctx->cuda_tables.clear();
    for (uint32_t i = 0; i < n; ++i) {
        const size_t seq = static_cast<size_t>(ctx->scratch.batch[i].seq);
        if (seq >= ctx->cuda_table_of.size()) ctx->cuda_table_of.resize(seq + 1);
        ctx->cuda_table_of[seq] = -1; // not yet among this step's tables
    }
    for (uint32_t i = 0; i < n; ++i) {
        const lmrt::BatchRow &row = ctx->scratch.batch[i];
        int32_t &offset = ctx->cuda_table_of[static_cast<size_t>(row.seq)];
        const std::vector<int> &table = kv.block_table(row.seq);
        if (offset < 0) {
            offset = static_cast<int32_t>(ctx->cuda_tables.size());
            ctx->cuda_tables.insert(ctx->cuda_tables.end(), table.begin(), table.end());
        }
        const int first = hp.sliding_window > 0 ? std::max(0, row.pos - hp.sliding_window + 1) : 0;
        const int32_t slot = table[static_cast<size_t>(row.pos / bs)] * bs + row.pos % bs;
        ctx->cuda_rows[i] = lmrt_cuda_row{row.token, row.pos, first, slot, offset, row.decode ? 1 : 0, row.argmax ? 1 : 0, row.topk ? 1 : 0};
    }
    uint32_t max_span = 1;
    for (uint32_t i = 0; i < n; ++i) {
        max_span = std::max(max_span, static_cast<uint32_t>(ctx->cuda_rows[i].pos - ctx->cuda_rows[i].first + 1));
    }
    ctx->cuda_copies.clear();
    for (const lmrt::KvCache::BlockCopy &c : kv.copies()) {
        ctx->cuda_copies.push_back(c.from);
        ctx->cuda_copies.push_back(c.to);
    }
    const std::vector<int> &logit_rows = ctx->scratch.logit_rows;
    lmrt_cuda_step step{};
    step.rows = ctx->cuda_rows.data();
    step.n_rows = n;
    step.tables = ctx->cuda_tables.data();
    step.n_tables = static_cast<uint32_t>(ctx->cuda_tables.size());
    step.copies = ctx->cuda_copies.data();
    step.n_copies = static_cast<uint32_t>(ctx->cuda_copies.size() / 2);
    static_assert(sizeof(int) == sizeof(int32_t), "logit rows are passed as int32");
    step.logit_rows = reinterpret_cast<const int32_t *>(logit_rows.data());
    step.n_logit_rows = static_cast<uint32_t>(logit_rows.size());
    step.logits = out.logits;
    step.tokens = out.tokens;
    step.top_k = out.top_k;
    step.top_ids = out.top_ids;
    step.top_logits = out.top_logits;
    step.max_span = max_span;
    step.x = x;
    return ctx->cuda->step(step);
}

} // namespace

extern "C" {

lmrt_status lmrt_model_open(const char *path, lmrt_model **out, lmrt_error *err) { return lmrt_model_open_with(path, nullptr, out, err); }

lmrt_status lmrt_model_open_with(const char *path, const lmrt_model_params *params, lmrt_model **out, lmrt_error *err) {
    if (path == nullptr || out == nullptr) return invalid(err, "lmrt_model_open: null argument");
    const lmrt_model_params p = params != nullptr ? *params : lmrt_model_params{};
    if (p.backend > LMRT_BACKEND_AUTO) return invalid(err, "unknown backend %" PRId64 " (LMRT_BACKEND_CPU, _CUDA or _AUTO)", p.backend);
    if (p.gpu_layers < -1) return invalid(err, "gpu_layers must be -1 (all) or a number of layers, got %" PRId64, p.gpu_layers);
    if (p.device < 0) return invalid(err, "device must be a CUDA device index, got %" PRId64, p.device);
    *out = nullptr;
    return guarded(err, "loading a model", [&]() -> lmrt_status {
        auto model = std::make_unique<lmrt_model>();
        lmrt::Status s = model->gguf.open_file(path);
        if (s.is_ok()) s = model->tokenizer.tokenizer.load(model->gguf, path);
        if (s.is_ok()) {
            s = lmrt::load_model(model->gguf, path, static_cast<int>(model->tokenizer.tokenizer.vocab().size()), &model->hp,
                                 &model->weights);
        }
        if (s.is_ok()) s = choose_backend(p, model.get());
        if (s.is_ok() && !model->cuda && p.mapped_only == 0) s = lmrt::interleave_weights(model->gguf, &model->weights);
        if (!s.is_ok()) return s.to_c(err);
        for (const lmrt::GgufTensor &t : model->gguf.tensors()) model->n_params += t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3];
        *out = model.release();
        return LMRT_OK;
    });
}

void lmrt_model_free(lmrt_model *model) { delete model; }

void lmrt_model_info_get(const lmrt_model *m, lmrt_model_info *info) {
    if (m == nullptr || info == nullptr) return;
    const lmrt::HParams &hp = m->hp;
    info->arch = lmrt_string{hp.arch_name.data(), hp.arch_name.size()};
    info->n_vocab = static_cast<uint32_t>(hp.n_vocab);
    info->n_ctx_train = static_cast<uint32_t>(hp.n_ctx_train);
    info->n_embd = static_cast<uint32_t>(hp.n_embd);
    info->n_layer = static_cast<uint32_t>(hp.n_layer);
    info->n_head = static_cast<uint32_t>(hp.n_head);
    info->n_head_kv = static_cast<uint32_t>(hp.n_head_kv);
    info->head_dim = static_cast<uint32_t>(hp.head_dim);
    info->n_ff = static_cast<uint32_t>(hp.n_ff);
    info->n_params = m->n_params;
    info->file_size = m->gguf.size();
    info->sliding_window = static_cast<uint32_t>(std::max(hp.sliding_window, 0));
    info->interleaved_bytes = m->weights.interleaved.bytes;
    info->backend = m->cuda ? LMRT_BACKEND_CUDA : LMRT_BACKEND_CPU;
    info->device = m->cuda ? lmrt_string{m->cuda->device_name().data(), m->cuda->device_name().size()} : lmrt_string{"", 0};
    info->device_bytes = m->cuda ? m->cuda->device_bytes() : 0;
    info->gpu_layers = m->cuda ? static_cast<uint32_t>(hp.n_layer - m->cuda->first_layer()) : 0;
}

int lmrt_cuda_available(char *why, uint64_t cap) {
    lmrt_cuda_status status;
    lmrt_cuda_status_get(nullptr, &status);
    if (status.devices == 0 && why != nullptr && cap > 0) std::snprintf(why, static_cast<size_t>(cap), "%s", status.message);
    return status.devices;
}

void lmrt_cuda_status_get(const char *library, lmrt_cuda_status *out) {
    if (out == nullptr) return;
    *out = lmrt_cuda_status{};
    lmrt::CudaLibrary lib;
    const lmrt::Status s = lmrt::CudaLibrary::load(library, &lib);
    std::snprintf(out->library, sizeof out->library, "%s", lib.path.c_str());
    if (!s.is_ok()) {
        std::snprintf(out->message, sizeof out->message, "%s", s.message().c_str());
        return;
    }
    out->loaded = 1;
    out->devices = lib.device_count(out->message, static_cast<int>(sizeof out->message));
    if (out->devices <= 0) {
        out->devices = 0;
        return;
    }
    out->message[0] = '\0';
    size_t total = 0;
    lib.device_info(0, out->device, static_cast<int>(sizeof out->device), &total);
}

const lmrt_tokenizer *lmrt_model_tokenizer(const lmrt_model *model) { return model == nullptr ? nullptr : &model->tokenizer; }

int lmrt_model_meta_string(const lmrt_model *model, const char *key, lmrt_string *out) {
    if (out != nullptr) *out = lmrt_string{"", 0};
    if (model == nullptr || key == nullptr || out == nullptr) return 0;
    const int64_t i = model->gguf.find_kv(key);
    if (i < 0) return 0;
    const lmrt::GgufValue &v = model->gguf.kvs()[static_cast<size_t>(i)].value;
    if (v.type != LMRT_GGUF_STRING) return 0;
    *out = lmrt_string{v.str.data(), v.str.size()};
    return 1;
}

lmrt_status lmrt_context_create(lmrt_model *model, const lmrt_context_params *params, lmrt_context **out, lmrt_error *err) {
    if (model == nullptr || out == nullptr) return invalid(err, "lmrt_context_create: null argument");
    *out = nullptr;
    lmrt_context_params p{};
    if (params != nullptr) p = *params;
    const lmrt::HParams &hp = model->hp;
    uint32_t n_ctx = p.n_ctx != 0 ? p.n_ctx : std::min<uint32_t>(hp.n_ctx_train > 0 ? static_cast<uint32_t>(hp.n_ctx_train) : 4096u, 4096u);
    const uint32_t n_batch = p.n_batch != 0 ? p.n_batch : 512;
    const int n_threads = p.n_threads != 0 ? static_cast<int>(p.n_threads) : lmrt::physical_core_count();
    lmrt::KvType kv_type = lmrt::KvType::kF16;
    if (p.kv_type != 0 && !lmrt::kv_type_from_id(p.kv_type, &kv_type)) {
        return invalid(err, "KV cache type %u is not one the cache can store (f16, bf16 or q8_0)", p.kv_type);
    }
    if (n_ctx > (1u << 24) || n_batch > 65536 || n_threads > 1024) {
        return invalid(err, "context parameters out of range (n_ctx %" PRId64 ", n_batch %" PRId64 ")", n_ctx, n_batch);
    }
    if (model->cuda && kv_type != lmrt::KvType::kF16) {
        return invalid(err, "the CUDA backend stores the KV cache in f16 only (kv_type %" PRId64 " asked for)", p.kv_type);
    }
    // with the CUDA backend, the CPU runs the layers before the device's first (none, or a split model's first ones)
    const int cpu_layers = model->cuda ? model->cuda->first_layer() : hp.n_layer;
    return guarded(err, "creating a context", [&]() -> lmrt_status {
        // steps that run wholly on the device need no threads
        auto ctx = std::make_unique<lmrt_context>(cpu_layers > 0 ? n_threads : 1);
        ctx->model = model;
        const int block = 16; // a multiple of 8: layers::attention shifts positions by whole blocks
        const uint32_t blocks = (n_ctx + block - 1) / block;
        // the host stores the CPU's layers' K/V; the device holds the others' blocks, under the same tables
        lmrt::Status s = ctx->kv.init(std::max(cpu_layers, 1), hp.n_head_kv, hp.head_dim, blocks, block, kv_type, cpu_layers > 0);
        ctx->kv.set_window(hp.sliding_window);
        if (!s.is_ok()) return s.to_c(err);
        const int positions = static_cast<int>(blocks) * block;
        if (model->cuda) {
            lmrt_cuda_context_desc desc{};
            desc.n_blocks = blocks;
            desc.block_size = block;
            desc.max_rows = n_batch;
            desc.max_span = static_cast<uint32_t>(hp.sliding_window > 0 ? std::min(positions, hp.sliding_window) : positions);
            s = lmrt::CudaContext::create(*model->cuda, desc, &ctx->cuda);
            if (!s.is_ok()) return s.to_c(err);
            ctx->device_kv_bytes = static_cast<uint64_t>(blocks) * static_cast<uint64_t>(hp.n_layer - cpu_layers) * 2 * block *
                                   static_cast<uint64_t>(hp.n_head_kv) * static_cast<uint64_t>(hp.head_dim) * 2;
            ctx->cuda_rows.reserve(n_batch);
            if (cpu_layers == 0) {
                ctx->scratch.max_rows = static_cast<int>(n_batch); // the host keeps the validated rows only
                ctx->scratch.batch.resize(n_batch);
                ctx->scratch.logit_rows.reserve(n_batch);
                *out = ctx.release();
                return LMRT_OK;
            }
        }
        ctx->scratch.allocate(hp, static_cast<int>(n_batch), n_threads, std::max(positions, hp.n_embd), static_cast<int>(blocks));
        *out = ctx.release();
        return LMRT_OK;
    });
}

void lmrt_context_free(lmrt_context *ctx) { delete ctx; }

lmrt_status lmrt_seq_create(lmrt_context *ctx, int32_t *seq, lmrt_error *err) {
    if (ctx == nullptr || seq == nullptr) return invalid(err, "lmrt_seq_create: null argument");
    return guarded(err, "creating a sequence", [&]() {
        *seq = ctx->kv.seq_create();
        return LMRT_OK;
    });
}

lmrt_status lmrt_seq_fork(lmrt_context *ctx, int32_t src, int32_t *dst, lmrt_error *err) {
    if (ctx == nullptr || dst == nullptr) return invalid(err, "lmrt_seq_fork: null argument");
    return guarded(err, "forking a sequence", [&]() { return ctx->kv.seq_fork(src, dst).to_c(err); });
}

lmrt_status lmrt_seq_truncate(lmrt_context *ctx, int32_t seq, int32_t length, lmrt_error *err) {
    if (ctx == nullptr) return invalid(err, "lmrt_seq_truncate: null context");
    return ctx->kv.seq_truncate(seq, length).to_c(err);
}

lmrt_status lmrt_seq_release(lmrt_context *ctx, int32_t seq, lmrt_error *err) {
    if (ctx == nullptr) return invalid(err, "lmrt_seq_release: null context");
    return ctx->kv.seq_release(seq).to_c(err);
}

lmrt_status lmrt_seq_reuse_prefix(lmrt_context *ctx, int32_t seq, const int32_t *tokens, uint32_t n, uint32_t n_prompt,
                                  uint32_t *reused, lmrt_error *err) {
    if (ctx == nullptr || reused == nullptr || (tokens == nullptr && n != 0)) return invalid(err, "lmrt_seq_reuse_prefix: null argument");
    *reused = 0;
    if (!ctx->kv.seq_valid(seq)) return invalid(err, "sequence %" PRId64 " does not exist", seq);
    if (ctx->kv.seq_length(seq) != 0) return invalid(err, "sequence %" PRId64 " is not empty", seq);
    return guarded(err, "reusing a prefix", [&]() {
        std::vector<int32_t> keys(n);
        for (uint32_t i = 0; i < n; ++i) keys[i] = lmrt::kv_row_key(tokens[i], i >= n_prompt);
        *reused = static_cast<uint32_t>(ctx->kv.seq_reuse(seq, keys.data(), static_cast<int>(n)));
        return LMRT_OK;
    });
}

int32_t lmrt_seq_length(const lmrt_context *ctx, int32_t seq) {
    if (ctx == nullptr || !ctx->kv.seq_valid(seq)) return -1;
    return ctx->kv.seq_length(seq);
}

lmrt_status lmrt_context_step(lmrt_context *ctx, const lmrt_batch_row *rows, uint32_t n, float *logits, uint64_t capacity,
                              lmrt_error *err) {
    lmrt_step_output out{};
    out.logits = logits;
    out.logits_capacity = capacity;
    return lmrt_context_step_ex(ctx, rows, n, &out, err);
}

lmrt_status lmrt_context_step_ex(lmrt_context *ctx, const lmrt_batch_row *rows, uint32_t n, const lmrt_step_output *out_or_null,
                                 lmrt_error *err) {
    const lmrt_step_output out = out_or_null != nullptr ? *out_or_null : lmrt_step_output{};
    if (ctx == nullptr || (rows == nullptr && n != 0) || (out.logits == nullptr && out.logits_capacity != 0) ||
        (out.tokens == nullptr && out.tokens_capacity != 0) || ((out.top_ids == nullptr || out.top_logits == nullptr) && out.top_capacity != 0)) {
        return invalid(err, "lmrt_context_step: null argument");
    }
    if (n == 0) return LMRT_OK;
    const lmrt::HParams &hp = ctx->model->hp;
    if (n > static_cast<uint32_t>(ctx->scratch.max_rows)) {
        return invalid(err, "a step of %" PRId64 " rows exceeds the context's batch size of %" PRId64, n, ctx->scratch.max_rows);
    }
    return guarded(err, "running a step", [&]() -> lmrt_status {
        // validate: known sequences, tokens in range, positions appended in order
        ctx->growth.clear();
        ctx->scratch.logit_rows.clear();
        std::vector<lmrt::BatchRow> &batch = ctx->scratch.batch; // sized for max_rows: no allocation per step
        for (uint32_t i = 0; i < n; ++i) {
            const lmrt_batch_row &r = rows[i];
            if (!ctx->kv.seq_valid(r.seq)) return invalid(err, "row %" PRId64 ": sequence %" PRId64 " does not exist", i, r.seq);
            if (r.token < 0 || r.token >= hp.n_vocab) {
                return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "row %u: token id %d is out of range (the vocabulary has %d tokens)",
                                           i, r.token, hp.n_vocab).to_c(err);
            }
            auto g = std::find_if(ctx->growth.begin(), ctx->growth.end(), [&](const lmrt::KvCache::Growth &x) { return x.seq == r.seq; });
            const int expected = g == ctx->growth.end() ? ctx->kv.seq_length(r.seq) : g->new_length;
            if (r.pos != expected) {
                return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "row %u: sequence %d expects position %d next, got %d", i, r.seq,
                                           expected, r.pos).to_c(err);
            }
            if (hp.arch == lmrt::Arch::kGpt2 && r.pos >= hp.n_ctx_train) {
                return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "position %d is beyond the model's %d learned positions", r.pos,
                                           hp.n_ctx_train).to_c(err);
            }
            if (g == ctx->growth.end()) {
                ctx->growth.push_back({r.seq, r.pos + 1});
            } else {
                g->new_length = r.pos + 1;
            }
            if (r.flags & ~(LMRT_ROW_LOGITS | LMRT_ROW_DECODE | LMRT_ROW_ARGMAX | LMRT_ROW_TOPK)) {
                return invalid(err, "row %" PRId64 ": unknown flags %" PRId64, i, r.flags);
            }
            if ((r.flags & (LMRT_ROW_ARGMAX | LMRT_ROW_TOPK)) && !(r.flags & LMRT_ROW_LOGITS)) {
                return invalid(err, "row %" PRId64 ": LMRT_ROW_ARGMAX and LMRT_ROW_TOPK need LMRT_ROW_LOGITS", i);
            }
            if ((r.flags & LMRT_ROW_ARGMAX) && (r.flags & LMRT_ROW_TOPK)) {
                return invalid(err, "row %" PRId64 ": LMRT_ROW_ARGMAX and LMRT_ROW_TOPK exclude each other", i);
            }
            if (r.flags & LMRT_ROW_LOGITS) ctx->scratch.logit_rows.push_back(static_cast<int>(i));
            batch[i] = lmrt::BatchRow{r.seq, r.token, r.pos, (r.flags & LMRT_ROW_LOGITS) != 0, (r.flags & LMRT_ROW_DECODE) != 0,
                                      (r.flags & LMRT_ROW_ARGMAX) != 0, (r.flags & LMRT_ROW_TOPK) != 0};
        }
        uint64_t n_argmax = 0, n_topk = 0;
        for (int r : ctx->scratch.logit_rows) {
            n_argmax += batch[static_cast<size_t>(r)].argmax;
            n_topk += batch[static_cast<size_t>(r)].topk;
        }
        const uint64_t needed = (static_cast<uint64_t>(ctx->scratch.logit_rows.size()) - n_argmax - n_topk) * static_cast<uint64_t>(hp.n_vocab);
        if (needed > out.logits_capacity) {
            return invalid(err, "the logits buffer holds %" PRId64 " floats; this step needs %" PRId64, static_cast<int64_t>(out.logits_capacity),
                           static_cast<int64_t>(needed));
        }
        if (n_argmax > out.tokens_capacity) {
            return invalid(err, "the tokens buffer holds %" PRId64 " ids; this step's greedy rows need %" PRId64,
                           static_cast<int64_t>(out.tokens_capacity), static_cast<int64_t>(n_argmax));
        }
        if (n_topk > 0 && (out.top_k < 1 || out.top_k > LMRT_MAX_TOP_K || out.top_k > static_cast<uint32_t>(hp.n_vocab))) {
            return invalid(err, "top_k must be 1 to %" PRId64 " (and at most the vocabulary), got %" PRId64,
                           std::min<int64_t>(LMRT_MAX_TOP_K, hp.n_vocab), out.top_k);
        }
        if (n_topk * out.top_k > out.top_capacity) {
            return invalid(err, "the top-k buffers hold %" PRId64 " entries; this step needs %" PRId64, static_cast<int64_t>(out.top_capacity),
                           static_cast<int64_t>(n_topk * out.top_k));
        }
        lmrt::Status s = ctx->kv.reserve(ctx->growth);
        if (!s.is_ok()) return s.to_c(err);
        order_rows(batch.data(), n, &ctx->scratch);
        if (ctx->cuda) {
            // a split model: the CPU's layers first, their hidden states on to the device
            const int cpu_layers = ctx->model->cuda->first_layer();
            if (cpu_layers > 0) {
                lmrt::StepArgs args{hp, ctx->model->weights, ctx->kv, ctx->pool, ctx->scratch, batch.data(), static_cast<int>(n), nullptr,
                                    ctx->profile.get(), cpu_layers};
                StepJob job{&args, hp.arch};
                ctx->pool.run(run_step, &job, one_thread_suffices(*ctx->model, n));
            }
            s = cuda_step(ctx, n, out, cpu_layers > 0 ? ctx->scratch.x.data() : nullptr);
            if (!s.is_ok()) return s.to_c(err);
            finish_step(ctx, n);
            return LMRT_OK;
        }
        // with greedy or top-k rows, every logit row lands in the context's buffer first
        const bool split = n_argmax + n_topk > 0;
        float *logits = out.logits;
        if (split) {
            ctx->step_logits.resize(ctx->scratch.logit_rows.size() * static_cast<size_t>(hp.n_vocab));
            logits = ctx->step_logits.data();
        }
        lmrt::StepArgs args{hp, ctx->model->weights, ctx->kv, ctx->pool, ctx->scratch, batch.data(), static_cast<int>(n), logits,
                            ctx->profile.get()};
        StepJob job{&args, hp.arch};
        const bool single = one_thread_suffices(*ctx->model, n);
        if (ctx->profile) {
            ctx->profile->step_begin(static_cast<int>(n));
            const auto t0 = std::chrono::steady_clock::now();
            ctx->pool.run(run_step, &job, single);
            ctx->profile->step_done(static_cast<int>(n), static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                             std::chrono::steady_clock::now() - t0).count()));
        } else {
            ctx->pool.run(run_step, &job, single);
        }
        if (split) split_logits(ctx, out);
        finish_step(ctx, n);
        return LMRT_OK;
    });
}

void lmrt_kv_stats_get(const lmrt_context *ctx, lmrt_kv_stats *stats) {
    if (ctx == nullptr || stats == nullptr) return;
    const lmrt::KvStats s = ctx->kv.stats();
    *stats = lmrt_kv_stats{s.blocks_total, s.blocks_used, s.blocks_free, s.block_size, s.sequences, ctx->kv.bytes() + ctx->device_kv_bytes,
                           s.blocks_cached, s.prefix_hits};
}

lmrt_status lmrt_kv_check(const lmrt_context *ctx, lmrt_error *err) {
    if (ctx == nullptr) return invalid(err, "lmrt_kv_check: null context");
    return ctx->kv.check().to_c(err);
}

} // extern "C"
