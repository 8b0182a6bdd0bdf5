#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "../../kernels/cuda/add.cuh"
#include "../../kernels/cuda/argmax.cuh"
#include "../../kernels/cuda/attention.cuh"
#include "../../kernels/cuda/embedding.cuh"
#include "../../kernels/cuda/flash_attention.cuh"
#include "../../kernels/cuda/gelu.cuh"
#include "../../kernels/cuda/gemm.cuh"
#include "../../kernels/cuda/layer_norm.cuh"
#include "../../kernels/cuda/matvec.cuh"
#include "../../kernels/cuda/rms_norm.cuh"
#include "../../kernels/cuda/rope.cuh"
#include "../../kernels/cuda/swiglu.cuh"
#include "../../kernels/cuda/top_k.cuh"
#include "device_context.cuh"

namespace lmrt::cuda {

namespace {

// Scratch budgets: the output product's logits and attention's partial sums
// are computed in slices of rows that fit these.
constexpr size_t kLogitBytes = 64u << 20, kPartialBytes = 64u << 20;
constexpr int kRowArrays = 11; // RowArrays: 11 arrays of max_rows entries, and one more entry for tile_start

} // namespace

DeviceContext::~DeviceContext() {
    drop_graphs();
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void DeviceContext::drop_graphs() {
    for (auto &g : graphs_) cudaGraphExecDestroy(g.second);
    graphs_.clear();
}

size_t DeviceContext::bytes() const {
    return pool_.bytes() + activations_.bytes() + ints_.bytes() + tables_.bytes() + logits_.bytes() + partials_.bytes() + ids_.bytes() +
           top_ids_.bytes() + top_values_.bytes();
}

DeviceContext::RowArrays DeviceContext::row_arrays(int32_t *base) const {
    const size_t R = desc_.max_rows;
    return RowArrays{base, base + R, base + 2 * R, base + 3 * R, base + 4 * R, base + 5 * R, base + 6 * R, base + 7 * R, base + 8 * R,
                     base + 9 * R, base + 10 * R};
}

int DeviceContext::create(const lmrt_cuda_context_desc &desc, const Why &why) {
    const lmrt_cuda_model_desc &hp = m_.hp;
    desc_ = desc;
    const size_t R = desc.max_rows, E = static_cast<size_t>(hp.n_embd), F = static_cast<size_t>(hp.n_ff);
    const size_t QD = static_cast<size_t>(hp.n_head) * static_cast<size_t>(hp.head_dim);
    const size_t KD = static_cast<size_t>(hp.n_head_kv) * static_cast<size_t>(hp.head_dim);
    if (E % 4 != 0 || F % 4 != 0 || KD % 4 != 0 || QD % 4 != 0) {
        return why.fail(LMRT_E_GGUF_UNSUPPORTED, "the CUDA backend needs the model's widths to be multiples of 4 (embedding %zu, "
                        "feed-forward %zu, K/V %zu)", E, F, KD);
    }
    LMRT_CUDA_TRY(cudaSetDevice(hp.device), why, "selecting the device");
    LMRT_CUDA_TRY(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), why, "creating a stream");
    const char *graphs = std::getenv("LMRT_CUDA_GRAPHS");
    graphs_enabled_ = graphs == nullptr || std::strcmp(graphs, "0") != 0;

    kv_.n_layer = hp.n_layer - hp.first_layer; // the device's layers only
    kv_.n_head_kv = hp.n_head_kv;
    kv_.head_dim = hp.head_dim;
    kv_.block_size = static_cast<int>(desc.block_size);
    kv_.block_bytes = static_cast<size_t>(desc.block_size) * KD * 2;
    LMRT_CUDA_TRY(pool_.allocate(static_cast<size_t>(desc.n_blocks) * static_cast<size_t>(kv_.n_layer) * 2 * kv_.block_bytes), why,
                  "allocating the KV cache");
    kv_.pool = pool_.get<uint8_t>();

    // x, xg, tmp, og: E; cur: E; q (GPT-2: q, k and v side by side), attn: QD; k, v: KD; ffn_a, ffn_b: F (every width a multiple of 4 floats)
    const size_t q_width = hp.arch == LMRT_CUDA_ARCH_GPT2 ? std::max(QD, 3 * E) : QD;
    const size_t widths[] = {E, E, E, E, E, q_width, QD, KD, KD, F, F};
    float **buffers[] = {&x_, &xg_, &tmp_, &og_, &cur_, &q_, &attn_, &k_, &v_, &ffn_a_, &ffn_b_};
    size_t total = 0;
    for (size_t w : widths) total += R * w;
    LMRT_CUDA_TRY(activations_.allocate(total * sizeof(float)), why, "allocating activations");
    float *next = activations_.get<float>();
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; ++i) {
        *buffers[i] = next;
        next += R * widths[i];
    }
    LMRT_CUDA_TRY(ints_.allocate((kRowArrays * R + 1) * sizeof(int32_t)), why, "allocating row arrays");
    LMRT_CUDA_TRY(staging_ints_.allocate((kRowArrays * R + 1) * sizeof(int32_t)), why, "allocating pinned row arrays");
    const char *flash = std::getenv("LMRT_CUDA_FLASH");
    flash_ = (flash == nullptr || std::strcmp(flash, "0") != 0) && flash_attention_ready(hp.head_dim);
    tile_rows_ = flash_tile_rows(hp.n_head, hp.n_head_kv);

    const size_t V = static_cast<size_t>(hp.n_vocab);
    logit_slice_ = static_cast<int>(std::max<size_t>(1, std::min(R, kLogitBytes / (V * sizeof(float)))));
    LMRT_CUDA_TRY(logits_.allocate(static_cast<size_t>(logit_slice_) * V * sizeof(float)), why, "allocating logits");
    LMRT_CUDA_TRY(ids_.allocate(R * sizeof(int32_t)), why, "allocating greedy tokens");
    LMRT_CUDA_TRY(staging_ids_.allocate(R * sizeof(int32_t)), why, "allocating pinned greedy tokens");
    const size_t top = R * static_cast<size_t>(std::min(kMaxTopK, hp.n_vocab));
    LMRT_CUDA_TRY(top_ids_.allocate(top * sizeof(int32_t)), why, "allocating top-k");
    LMRT_CUDA_TRY(top_values_.allocate(top * sizeof(float)), why, "allocating top-k");
    LMRT_CUDA_TRY(staging_top_ids_.allocate(top * sizeof(int32_t)), why, "allocating pinned top-k");
    LMRT_CUDA_TRY(staging_top_values_.allocate(top * sizeof(float)), why, "allocating pinned top-k");

    const size_t per_row = attention_partial_floats(hp.n_head, hp.head_dim, static_cast<int>(desc.max_span));
    partial_floats_ = per_row * std::max<size_t>(1, std::min(R, kPartialBytes / (per_row * sizeof(float))));
    LMRT_CUDA_TRY(partials_.allocate(partial_floats_ * sizeof(float)), why, "allocating attention scratch");
    return ensure_tables(desc.n_blocks, why);
}

int DeviceContext::ensure_tables(size_t n, const Why &why) {
    if (n * sizeof(int32_t) <= tables_.bytes()) return LMRT_OK;
    LMRT_CUDA_TRY(cudaStreamSynchronize(stream_), why, "waiting for the previous step");
    drop_graphs(); // they read the tables where they were
    const size_t bytes = std::max(n, 2 * tables_.bytes() / sizeof(int32_t)) * sizeof(int32_t);
    LMRT_CUDA_TRY(tables_.allocate(bytes), why, "allocating block tables");
    LMRT_CUDA_TRY(staging_tables_.allocate(bytes), why, "allocating pinned block tables");
    return LMRT_OK;
}

int DeviceContext::step(const lmrt_cuda_step &step, const Why &why) {
    const int T = static_cast<int>(step.n_rows);
    if (T <= 0) return LMRT_OK;
    if (step.n_rows > desc_.max_rows || step.n_logit_rows > step.n_rows || step.max_span > desc_.max_span || step.max_span == 0) {
        return why.fail(LMRT_E_INVALID_ARGUMENT, "CUDA step: %u rows (at most %u), %u logit rows, span %u (at most %u)", step.n_rows,
                        desc_.max_rows, step.n_logit_rows, step.max_span, desc_.max_span);
    }
    LMRT_CUDA_TRY(cudaSetDevice(m_.hp.device), why, "selecting the device");
    const int status = ensure_tables(step.n_tables, why);
    if (status != LMRT_OK) return status;

    // the previous step's copies out of the staging buffers are done: its step synchronised
    const RowArrays host = row_arrays(staging_ints_.get<int32_t>());
    for (int t = 0; t < T; ++t) {
        const lmrt_cuda_row &r = step.rows[t];
        host.tokens[t] = r.token;
        host.pos[t] = r.pos;
        host.first[t] = r.first;
        host.slots[t] = r.slot;
        host.table_offset[t] = r.table_offset;
    }
    std::memcpy(host.logit_rows, step.logit_rows, step.n_logit_rows * sizeof(int32_t));
    n_decode_ = n_decode_logits_ = 0;
    n_logits_ = static_cast<int>(step.n_logit_rows);
    int n_prompt = 0, n_prompt_logits = 0;
    for (int t = 0; t < T; ++t) {
        if (step.rows[t].decode != 0) host.decode_rows[n_decode_++] = t;
        else host.prompt_rows[n_prompt++] = t;
    }
    // flash attention's tiles: runs of a sequence's prompt rows (one block table), tile_rows_ at most
    n_tiles_ = 0;
    for (int i = 0; flash_ && i < n_prompt; ++i) {
        const int t = host.prompt_rows[i];
        if (i == 0 || i - host.tile_start[n_tiles_ - 1] == tile_rows_ || host.table_offset[t] != host.table_offset[host.prompt_rows[i - 1]]) {
            host.tile_start[n_tiles_++] = i;
        }
    }
    host.tile_start[n_tiles_] = n_prompt;
    top_k_ = 0;
    for (uint32_t j = 0; j < step.n_logit_rows; ++j) {
        const lmrt_cuda_row &r = step.rows[step.logit_rows[j]];
        if (r.decode != 0) host.decode_logits[n_decode_logits_++] = static_cast<int32_t>(j);
        else host.prompt_logits[n_prompt_logits++] = static_cast<int32_t>(j);
        if (r.topk != 0) top_k_ = static_cast<int>(step.top_k);
    }
    if (top_k_ > kMaxTopK || top_k_ > m_.hp.n_vocab) {
        return why.fail(LMRT_E_INVALID_ARGUMENT, "CUDA step: top-k of %d (at most %d)", top_k_, std::min(kMaxTopK, m_.hp.n_vocab));
    }
    std::memcpy(staging_tables_.get(), step.tables, step.n_tables * sizeof(int32_t));
    LMRT_CUDA_TRY(cudaMemcpyAsync(ints_.get(), staging_ints_.get(), ints_.bytes(), cudaMemcpyHostToDevice, stream_), why, "uploading rows");
    LMRT_CUDA_TRY(cudaMemcpyAsync(tables_.get(), staging_tables_.get(), step.n_tables * sizeof(int32_t), cudaMemcpyHostToDevice, stream_),
                  why, "uploading block tables");
    if (m_.hp.first_layer > 0) {
        // the CPU ran the first layers: their output is where the device starts
        if (step.x == nullptr) return why.fail(LMRT_E_INVALID_ARGUMENT, "CUDA step: the hidden states of the CPU's layers are missing");
        LMRT_CUDA_TRY(cudaMemcpyAsync(x_, step.x, static_cast<size_t>(T) * static_cast<size_t>(m_.hp.n_embd) * sizeof(float), cudaMemcpyHostToDevice,
                                      stream_),
                      why, "uploading hidden states");
    }
    // copy-on-write: a block's every layer, K and V, is one run of memory
    const size_t block_run = static_cast<size_t>(kv_.n_layer) * 2 * kv_.block_bytes;
    for (uint32_t c = 0; c < step.n_copies; ++c) {
        const size_t from = static_cast<size_t>(step.copies[2 * c]), to = static_cast<size_t>(step.copies[2 * c + 1]);
        LMRT_CUDA_TRY(cudaMemcpyAsync(kv_.pool + to * block_run, kv_.pool + from * block_run, block_run, cudaMemcpyDeviceToDevice, stream_),
                      why, "copying a shared KV block");
    }
    // the attention span rounded up to whole splits: the kernels' shapes depend on nothing finer
    const int max_span = static_cast<int>(std::min<uint32_t>(desc_.max_span, (step.max_span + kAttentionChunk - 1) / kAttentionChunk * kAttentionChunk));
    const int n_logits = static_cast<int>(step.n_logit_rows);
    int status_run = LMRT_OK;
    cudaGraphExec_t graph = graphs_enabled_ && T <= kGraphRows && n_logits <= logit_slice_ ? graph_for(step, max_span, why) : nullptr;
    if (graph != nullptr) {
        const cudaError_t e = cudaGraphLaunch(graph, stream_);
        status_run = e != cudaSuccess ? why.cuda(e, "running a step's graph") : fetch(step, 0, n_logits, why);
    } else {
        status_run = layers(step, max_span, why);
        for (int r0 = 0; status_run == LMRT_OK && r0 < n_logits; r0 += logit_slice_) {
            const int n = std::min(logit_slice_, n_logits - r0);
            status_run = output(r0, n, why);
            if (status_run == LMRT_OK) status_run = fetch(step, r0, n, why);
        }
    }
    if (status_run != LMRT_OK) {
        cudaStreamSynchronize(stream_); // what was queued still reads the staging buffers the next step refills
        cudaGetLastError();
        return status_run;
    }
    LMRT_CUDA_TRY(cudaStreamSynchronize(stream_), why, "running a step");
    // the greedy rows' tokens and the top-k rows' entries, in row order
    const int32_t *ids = staging_ids_.get<int32_t>();
    const size_t k = static_cast<size_t>(top_k_);
    int next_token = 0, next_top = 0;
    for (int j = 0; j < n_logits; ++j) {
        const lmrt_cuda_row &r = step.rows[step.logit_rows[j]];
        if (r.argmax != 0) step.tokens[next_token++] = ids[j];
        if (r.topk != 0) {
            std::memcpy(step.top_ids + next_top * k, staging_top_ids_.get<int32_t>() + j * k, k * sizeof(int32_t));
            std::memcpy(step.top_logits + next_top * k, staging_top_values_.get<float>() + j * k, k * sizeof(float));
            ++next_top;
        }
    }
    return LMRT_OK;
}

int DeviceContext::fetch(const lmrt_cuda_step &step, int r0, int n, const Why &why) {
    if (n <= 0) return LMRT_OK;
    const size_t V = static_cast<size_t>(m_.hp.n_vocab);
    LMRT_CUDA_TRY(cudaMemcpyAsync(staging_ids_.get<int32_t>() + r0, ids_.get<int32_t>() + r0, static_cast<size_t>(n) * sizeof(int32_t),
                                  cudaMemcpyDeviceToHost, stream_),
                  why, "copying greedy tokens");
    if (top_k_ > 0) {
        const size_t k = static_cast<size_t>(top_k_), from = static_cast<size_t>(r0) * k, count = static_cast<size_t>(n) * k;
        LMRT_CUDA_TRY(cudaMemcpyAsync(staging_top_ids_.get<int32_t>() + from, top_ids_.get<int32_t>() + from, count * sizeof(int32_t),
                                      cudaMemcpyDeviceToHost, stream_),
                      why, "copying top-k");
        LMRT_CUDA_TRY(cudaMemcpyAsync(staging_top_values_.get<float>() + from, top_values_.get<float>() + from, count * sizeof(float),
                                      cudaMemcpyDeviceToHost, stream_),
                      why, "copying top-k");
    }
    auto whole = [&](int j) { // logit row j wants its logits
        const lmrt_cuda_row &r = step.rows[step.logit_rows[j]];
        return r.argmax == 0 && r.topk == 0;
    };
    // where the slice's first logits row goes: after the earlier logit rows that want logits
    size_t out = 0;
    for (int j = 0; j < r0; ++j) out += whole(j);
    for (int j = 0; j < n;) {
        if (!whole(r0 + j)) {
            ++j;
            continue;
        }
        int run = 1;
        while (j + run < n && whole(r0 + j + run)) ++run;
        LMRT_CUDA_TRY(cudaMemcpyAsync(step.logits + out * V, logits_.get<float>() + static_cast<size_t>(j) * V, static_cast<size_t>(run) * V * sizeof(float),
                                      cudaMemcpyDeviceToHost, stream_),
                      why, "copying logits");
        out += static_cast<size_t>(run);
        j += run;
    }
    return LMRT_OK;
}

cudaGraphExec_t DeviceContext::graph_for(const lmrt_cuda_step &step, int max_span, const Why &why) {
    const std::tuple<int, int, int, int, int, int, int> key{static_cast<int>(step.n_rows), n_decode_, static_cast<int>(step.n_logit_rows),
                                                            n_decode_logits_, top_k_, max_span, n_tiles_};
    const auto found = graphs_.find(key);
    if (found != graphs_.end()) return found->second;
    if (graphs_.size() >= 64) drop_graphs(); // a long-lived server meets few shapes; start over rather than grow
    if (cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal) != cudaSuccess) {
        cudaGetLastError();
        return nullptr;
    }
    int status = layers(step, max_span, why);
    if (status == LMRT_OK && step.n_logit_rows > 0) status = output(0, static_cast<int>(step.n_logit_rows), why);
    cudaGraph_t graph = nullptr;
    const cudaError_t ended = cudaStreamEndCapture(stream_, &graph);
    cudaGraphExec_t exec = nullptr;
    const bool ok = status == LMRT_OK && ended == cudaSuccess && graph != nullptr && cudaGraphInstantiateWithFlags(&exec, graph, 0) == cudaSuccess;
    if (graph != nullptr) cudaGraphDestroy(graph);
    cudaGetLastError();
    if (!ok) {
        // capture failed (the kernels are launched directly instead); nothing ran
        if (exec != nullptr) cudaGraphExecDestroy(exec);
        return nullptr;
    }
    graphs_.emplace(key, exec);
    return exec;
}

int DeviceContext::project(const DeviceTensor &w, const float *x, int64_t x_stride, float *y, int64_t y_stride, const RowSet &rows,
                           const char *what, const Why &why) {
    if (rows.n_prompt > 0) {
        // without a tensor-core kernel for the type (F32), prompt rows take matvec too
        if (gemm_supports(w.type, w.n)) {
            LMRT_CUDA_TRY(gemm(w.type, w.data, w.n, w.rows, x, x_stride, y, y_stride, rows.n_prompt, stream_, rows.prompt), why, what);
        } else {
            LMRT_CUDA_TRY(matvec(w.type, w.data, w.n, w.rows, x, x_stride, y, y_stride, rows.n_prompt, stream_, rows.prompt), why, what);
        }
    }
    if (rows.n_decode > 0) LMRT_CUDA_TRY(matvec(w.type, w.data, w.n, w.rows, x, x_stride, y, y_stride, rows.n_decode, stream_, rows.decode), why, what);
    return LMRT_OK;
}

int DeviceContext::output(int r0, int n, const Why &why) {
    const lmrt_cuda_model_desc &hp = m_.hp;
    // the slice's rows of each kind are a run of each ascending list; the
    // kernels address rows by their index among the logit rows, so the
    // output's base is moved back by r0 rows (only rows r0 .. r0 + n - 1 are written)
    const RowArrays host = row_arrays(staging_ints_.get<int32_t>()), dev = row_arrays(ints_.get<int32_t>());
    const int n_prompt_logits = n_logits_ - n_decode_logits_;
    const int d0 = static_cast<int>(std::lower_bound(host.decode_logits, host.decode_logits + n_decode_logits_, r0) - host.decode_logits);
    const int d1 = static_cast<int>(std::lower_bound(host.decode_logits, host.decode_logits + n_decode_logits_, r0 + n) - host.decode_logits);
    const int p0 = static_cast<int>(std::lower_bound(host.prompt_logits, host.prompt_logits + n_prompt_logits, r0) - host.prompt_logits);
    const int p1 = static_cast<int>(std::lower_bound(host.prompt_logits, host.prompt_logits + n_prompt_logits, r0 + n) - host.prompt_logits);
    const RowSet rows{d1 - d0, p1 - p0, dev.decode_logits + d0, dev.prompt_logits + p0};
    float *y = reinterpret_cast<float *>(reinterpret_cast<uintptr_t>(logits_.get<float>()) - static_cast<uintptr_t>(r0) * hp.n_vocab * sizeof(float));
    const int status = project(m_.output, cur_, hp.n_embd, y, hp.n_vocab, rows, "computing logits", why);
    if (status != LMRT_OK) return status;
    // every row's greedy token: a read of logits still in L2, cheaper than asking which rows want it
    LMRT_CUDA_TRY(argmax(logits_.get<float>(), n, hp.n_vocab, ids_.get<int32_t>() + r0, stream_), why, "choosing greedy tokens");
    if (top_k_ > 0) {
        const size_t at = static_cast<size_t>(r0) * static_cast<size_t>(top_k_);
        LMRT_CUDA_TRY(top_k(logits_.get<float>(), n, hp.n_vocab, top_k_, top_ids_.get<int32_t>() + at, top_values_.get<float>() + at, stream_), why,
                      "choosing the top-k");
    }
    return LMRT_OK;
}

AttentionRows DeviceContext::attention_rows(const lmrt_cuda_step &step, int max_span, const float *q, int64_t q_stride) const {
    const RowArrays dev = row_arrays(ints_.get<int32_t>());
    AttentionRows rows;
    rows.q = q;
    rows.q_stride = q_stride;
    rows.out = attn_;
    rows.first = dev.first;
    rows.last = dev.pos;
    rows.tables = tables_.get<int32_t>();
    rows.table_offset = dev.table_offset;
    rows.T = static_cast<int>(step.n_rows);
    rows.max_span = max_span;
    return rows;
}

DeviceContext::RowSet DeviceContext::all_rows(const lmrt_cuda_step &step) const {
    const RowArrays dev = row_arrays(ints_.get<int32_t>());
    return RowSet{n_decode_, static_cast<int>(step.n_rows) - n_decode_, dev.decode_rows, dev.prompt_rows};
}

DeviceContext::RowSet DeviceContext::logit_rows(const lmrt_cuda_step &step) const {
    const RowArrays dev = row_arrays(ints_.get<int32_t>());
    return RowSet{n_decode_logits_, static_cast<int>(step.n_logit_rows) - n_decode_logits_, dev.decode_logits, dev.prompt_logits};
}

int DeviceContext::keep_logit_rows(const lmrt_cuda_step &step, float **x, float **o, int *kept, const Why &why) {
    *kept = static_cast<int>(step.n_logit_rows);
    if (step.n_logit_rows == step.n_rows) return LMRT_OK; // all of them, in order
    const int E = m_.hp.n_embd;
    const int32_t *rows = row_arrays(ints_.get<int32_t>()).logit_rows;
    LMRT_CUDA_TRY(gather_rows(xg_, x_, rows, *kept, E, stream_), why, "gathering the logit rows");
    LMRT_CUDA_TRY(gather_rows(og_, tmp_, rows, *kept, E, stream_), why, "gathering the logit rows");
    *x = xg_;
    *o = og_;
    return LMRT_OK;
}

// In the forward passes: a failed kernel launch or product ends the step.
#define STEP(call, what) LMRT_CUDA_TRY(call, why, what)
#define PROJECT(w, in, in_stride, out, out_stride, rows, what)                                                                           \
    do {                                                                                                                                  \
        const int s_ = project(w, in, in_stride, out, out_stride, rows, what, why);                                                       \
        if (s_ != LMRT_OK) return s_;                                                                                                     \
    } while (0)

int DeviceContext::attend(const lmrt_cuda_step &step, int il, const AttentionRows &rows, const DeviceLayer &L, int q_width, float **x, float **o,
                          int *kept, const Why &why) {
    const lmrt_cuda_model_desc &hp = m_.hp;
    const int T = static_cast<int>(step.n_rows), E = hp.n_embd;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));
    const int dl = il - hp.first_layer;
    if (n_tiles_ > 0) {
        // decode rows one query each over the paged cache; prompt rows in tiles
        const RowArrays dev = row_arrays(ints_.get<int32_t>());
        AttentionRows decode = rows;
        decode.index = dev.decode_rows;
        decode.T = n_decode_;
        STEP(paged_attention(kv_, dl, decode, hp.n_head, scale, partials_.get<float>(), partial_floats_, stream_), "attending");
        const QueryTiles tiles{dev.prompt_rows, dev.tile_start, n_tiles_};
        STEP(flash_attention(kv_, dl, rows, tiles, hp.n_head, scale, stream_), "attending to prompts");
    } else {
        STEP(paged_attention(kv_, dl, rows, hp.n_head, scale, partials_.get<float>(), partial_floats_, stream_), "attending");
    }
    PROJECT(L.wo, attn_, q_width, tmp_, E, all_rows(step), "projecting attention");
    if (L.bo) STEP(add_bias(tmp_, E, L.bo.f32(), T, E, stream_), "adding biases");
    *kept = T;
    if (il + 1 == hp.n_layer) {
        const int status = keep_logit_rows(step, x, o, kept, why);
        if (status != LMRT_OK) return status;
    }
    if (*kept > 0) STEP(add_rows(*x, E, *o, E, *kept, E, stream_), "adding the residual");
    return LMRT_OK;
}

int DeviceContext::layers(const lmrt_cuda_step &step, int max_span, const Why &why) {
    if (m_.hp.arch == LMRT_CUDA_ARCH_GPT2) return layers_gpt2(step, max_span, why);
    const lmrt_cuda_model_desc &hp = m_.hp;
    const int T = static_cast<int>(step.n_rows), E = hp.n_embd, F = hp.n_ff, H = hp.n_head, D = hp.head_dim;
    const int QD = H * D, KD = hp.n_head_kv * D;
    const RowArrays dev = row_arrays(ints_.get<int32_t>());
    const float theta_scale = std::pow(hp.rope_base, -2.0f / static_cast<float>(hp.n_rot));
    if (hp.first_layer == 0) STEP(embedding(m_.tok_embd.type, m_.tok_embd.data, E, dev.tokens, T, x_, E, stream_), "looking up embeddings");
    const AttentionRows rows = attention_rows(step, max_span, q_, QD);
    float *x = x_, *o = tmp_;
    const RowSet all = all_rows(step), logit_set = logit_rows(step);
    for (int il = hp.first_layer; il < hp.n_layer; ++il) {
        const int dl = il - hp.first_layer; // the layer's index on the device
        const DeviceLayer &L = m_.layers[static_cast<size_t>(dl)];
        STEP(rms_norm(x_, L.attn_norm.f32(), cur_, T, E, hp.norm_eps, stream_), "normalising");
        PROJECT(L.wq, cur_, E, q_, QD, all, "computing queries");
        PROJECT(L.wk, cur_, E, k_, KD, all, "computing keys");
        PROJECT(L.wv, cur_, E, v_, KD, all, "computing values");
        if (L.bq) STEP(add_bias(q_, QD, L.bq.f32(), T, QD, stream_), "adding biases");
        if (L.bk) STEP(add_bias(k_, KD, L.bk.f32(), T, KD, stream_), "adding biases");
        if (L.bv) STEP(add_bias(v_, KD, L.bv.f32(), T, KD, stream_), "adding biases");
        if (L.q_norm) {
            STEP(rms_norm(q_, L.q_norm.f32(), q_, T * H, D, hp.norm_eps, stream_), "normalising query heads");
            STEP(rms_norm(k_, L.k_norm.f32(), k_, T * hp.n_head_kv, D, hp.norm_eps, stream_), "normalising key heads");
        }
        STEP(rope(q_, dev.pos, T, H, D, hp.n_rot, theta_scale, hp.rope_freq_scale, hp.rope_neox != 0, stream_), "rotating queries");
        STEP(rope(k_, dev.pos, T, hp.n_head_kv, D, hp.n_rot, theta_scale, hp.rope_freq_scale, hp.rope_neox != 0, stream_), "rotating keys");
        STEP(kv_store(kv_, dl, k_, KD, v_, KD, dev.slots, T, stream_), "storing keys and values");
        int Tf = T;
        const int attended = attend(step, il, rows, L, QD, &x, &o, &Tf, why);
        if (attended != LMRT_OK) return attended;
        if (Tf == 0) break;
        STEP(rms_norm(x, L.ffn_norm.f32(), cur_, Tf, E, hp.norm_eps, stream_), "normalising");
        const RowSet &ffn_rows = Tf == T ? all : logit_set;
        PROJECT(L.w_gate, cur_, E, ffn_a_, F, ffn_rows, "computing the gate");
        PROJECT(L.w_up, cur_, E, ffn_b_, F, ffn_rows, "computing the feed-forward");
        STEP(swiglu(ffn_a_, ffn_b_, ffn_a_, static_cast<int64_t>(Tf) * F, stream_), "applying SwiGLU");
        PROJECT(L.w_down, ffn_a_, F, o, E, ffn_rows, "projecting the feed-forward");
        STEP(add_rows(x, E, o, E, Tf, E, stream_), "adding the residual");
    }
    const int n_logits = static_cast<int>(step.n_logit_rows);
    if (n_logits > 0) STEP(rms_norm(x, m_.output_norm.f32(), cur_, n_logits, E, hp.norm_eps, stream_), "normalising");
    return LMRT_OK;
}

// GPT-2 (as models/gpt2.cpp): learned positions, LayerNorm, one fused QKV
// product with its bias, GELU, biases on every product.
int DeviceContext::layers_gpt2(const lmrt_cuda_step &step, int max_span, const Why &why) {
    const lmrt_cuda_model_desc &hp = m_.hp;
    const int T = static_cast<int>(step.n_rows), E = hp.n_embd, F = hp.n_ff;
    const RowArrays dev = row_arrays(ints_.get<int32_t>());
    if (hp.first_layer == 0) {
        STEP(embedding(m_.tok_embd.type, m_.tok_embd.data, E, dev.tokens, T, x_, E, stream_), "looking up embeddings");
        STEP(embedding(m_.pos_embd.type, m_.pos_embd.data, E, dev.pos, T, tmp_, E, stream_), "looking up position embeddings");
        STEP(add_rows(x_, E, tmp_, E, T, E, stream_), "adding position embeddings");
    }
    float *qkv = q_; // [T, 3E]: q, k, v side by side
    const AttentionRows rows = attention_rows(step, max_span, qkv, 3 * static_cast<int64_t>(E));
    const RowSet all = all_rows(step), logit_set = logit_rows(step);
    float *x = x_, *o = tmp_;
    for (int il = hp.first_layer; il < hp.n_layer; ++il) {
        const int dl = il - hp.first_layer; // the layer's index on the device
        const DeviceLayer &L = m_.layers[static_cast<size_t>(dl)];
        STEP(layer_norm(x_, L.attn_norm.f32(), L.attn_norm_b.f32(), cur_, T, E, hp.norm_eps, stream_), "normalising");
        PROJECT(L.wqkv, cur_, E, qkv, 3 * E, all, "computing queries, keys and values");
        if (L.bqkv) STEP(add_bias(qkv, 3 * E, L.bqkv.f32(), T, 3 * E, stream_), "adding biases");
        STEP(kv_store(kv_, dl, qkv + E, 3 * E, qkv + 2 * E, 3 * E, dev.slots, T, stream_), "storing keys and values");
        int Tf = T;
        const int attended = attend(step, il, rows, L, E, &x, &o, &Tf, why);
        if (attended != LMRT_OK) return attended;
        if (Tf == 0) break;
        const RowSet &ffn_rows = Tf == T ? all : logit_set;
        STEP(layer_norm(x, L.ffn_norm.f32(), L.ffn_norm_b.f32(), cur_, Tf, E, hp.norm_eps, stream_), "normalising");
        PROJECT(L.w_up, cur_, E, ffn_a_, F, ffn_rows, "computing the feed-forward");
        if (L.b_up) STEP(add_bias(ffn_a_, F, L.b_up.f32(), Tf, F, stream_), "adding biases");
        STEP(gelu(ffn_a_, static_cast<int64_t>(Tf) * F, stream_), "applying GELU");
        PROJECT(L.w_down, ffn_a_, F, o, E, ffn_rows, "projecting the feed-forward");
        if (L.b_down) STEP(add_bias(o, E, L.b_down.f32(), Tf, E, stream_), "adding biases");
        STEP(add_rows(x, E, o, E, Tf, E, stream_), "adding the residual");
    }
    const int n_logits = static_cast<int>(step.n_logit_rows);
    if (n_logits > 0) STEP(layer_norm(x, m_.output_norm.f32(), m_.output_norm_b.f32(), cur_, n_logits, E, hp.norm_eps, stream_), "normalising");
    return LMRT_OK;
}

#undef PROJECT
#undef STEP

} // namespace lmrt::cuda
