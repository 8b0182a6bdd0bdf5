#include "layers.h"

#include <cstring>

#include <algorithm>
#include <cmath>

#include "../core/ggml_types.h"
#include "../core/quant.h"
#include "../kernels/interleave.h"
#include "../kernels/ref/ref.h"
#include "../kernels/registry.h"

namespace lmrt {

void StepScratch::allocate(const HParams &hp, int rows, int n_threads, int max_positions, int max_blocks) {
    max_rows = rows;
    const size_t R = static_cast<size_t>(rows);
    const size_t q_dim = static_cast<size_t>(hp.n_head) * static_cast<size_t>(hp.head_dim);
    const size_t kv_dim = static_cast<size_t>(hp.n_head_kv) * static_cast<size_t>(hp.head_dim);
    const size_t widest = std::max({static_cast<size_t>(hp.n_embd), q_dim, static_cast<size_t>(hp.n_ff)});
    x.assign(R * static_cast<size_t>(hp.n_embd), 0.0f);
    cur.assign(R * widest, 0.0f);
    q.assign(R * std::max(q_dim, 3 * static_cast<size_t>(hp.n_embd)), 0.0f);
    k.assign(R * kv_dim, 0.0f);
    v.assign(R * kv_dim, 0.0f);
    attn.assign(R * q_dim, 0.0f);
    tmp.assign(R * static_cast<size_t>(hp.n_embd), 0.0f);
    ffn_a.assign(R * static_cast<size_t>(hp.n_ff), 0.0f);
    ffn_b.assign(R * static_cast<size_t>(hp.n_ff), 0.0f);
    // the largest encoded row is F32 of the widest input
    act.assign(R * widest * 4 + 64, 0);
    packed.resize(static_cast<size_t>(kernels::row_groups(rows)) * (widest / 32));
    act_info.resize(R * (widest / 32));
    scores.assign(static_cast<size_t>(n_threads), std::vector<float>(static_cast<size_t>(max_positions)));
    k_blocks.assign(static_cast<size_t>(n_threads), std::vector<const uint8_t *>(static_cast<size_t>(max_blocks)));
    v_blocks.assign(static_cast<size_t>(n_threads), std::vector<const uint8_t *>(static_cast<size_t>(max_blocks)));
    logit_rows.reserve(R);
    batch.resize(R);
    row_orders.resize(R);
    logit_orders.resize(R);
}

namespace layers {

namespace {

// Below this many values, a row is encoded by one thread: splitting it
// would cost a barrier more than it saves.
constexpr int64_t kSplitEncodeValues = 4096;

// Encodes the T rows of x for k (and, with `info`, their Q8_0 block
// descriptions): whole rows per thread (the thread that wrote them), or,
// with fewer rows than threads and long ones (decoding), runs of blocks of
// each row after a barrier.
void encode_rows(StepArgs &a, int ith, int nth, const kernels::MatKernels &k, const float *x, int64_t x_stride, int T, int64_t n_in,
                 bool info) {
    const size_t act_bytes = kernels::act_row_bytes(k.act, n_in);
    uint8_t *act = a.s.act.data();
    const int64_t nb = n_in / 32;
    if (T >= nth || n_in * T < kSplitEncodeValues) {
        for (int t = ith; t < T; t += nth) {
            k.quantize(x + t * x_stride, act + static_cast<size_t>(t) * act_bytes, n_in);
            if (info) kernels::q8_0_block_info(act + static_cast<size_t>(t) * act_bytes, nb, a.s.act_info.data() + t * nb);
        }
        return;
    }
    a.pool.barrier(); // the rows were written by their own threads
    const int64_t per = kernels::act_block_values(k.act), blocks = n_in / per;
    const int64_t b0 = blocks * ith / nth, b1 = blocks * (ith + 1) / nth;
    if (b0 == b1) return;
    for (int t = 0; t < T; ++t) {
        uint8_t *row = act + static_cast<size_t>(t) * act_bytes + kernels::act_row_bytes(k.act, b0 * per);
        k.quantize(x + t * x_stride + b0 * per, row, (b1 - b0) * per);
        if (info) kernels::q8_0_block_info(row, (b1 - b0) * per / 32, a.s.act_info.data() + t * nb + b0 * per / 32);
    }
}

} // namespace

void matmul(StepArgs &a, int ith, int nth, const Tensor &w, const float *x, int64_t x_stride, int T, float *y, int64_t y_stride,
            StepProfile::Op op, bool same_input) {
    ProfileScope timed(a.profile, ith, op, w.type);
    const kernels::MatKernels *k = w.kernels;
    const int64_t n_in = w.ne[0], n_out = w.rows();
    const size_t act_bytes = kernels::act_row_bytes(k->act, n_in);
    uint8_t *act = a.s.act.data();
    kernels::Q8BlockInfo *info = a.s.act_info.data();
    const int64_t nb = n_in / 32;
    const bool need_info = w.interleaved && k->act == kernels::ActType::kQ8_0;
    // every thread reads what thread 0 wrote before the last barrier of the previous product
    const StepScratch::Encoded &e = a.s.encoded;
    const bool reuse = same_input && e.x == x && e.x_stride == x_stride && e.n == n_in && e.T == T && e.type == k->act && (e.info || !need_info);
    if (!reuse) {
        encode_rows(a, ith, nth, *k, x, x_stride, T, n_in, need_info);
        a.pool.barrier();
        if (ith == 0) a.s.encoded = {x, x_stride, n_in, T, k->act, need_info};
    }
    const TypeLayout *layout = find_type_layout(w.type);
    const size_t row_bytes = static_cast<size_t>(n_in / layout->block_size) * layout->block_bytes;
    const auto *base = static_cast<const uint8_t *>(w.data);
    if (w.interleaved) {
        // whole groups of 8 rows per thread; the last thread also takes the plain rows after them
        const int64_t groups = n_out / kernels::kInterleaveRows;
        kernels::matmul_interleaved(*k, w.type, n_in, base, row_bytes, n_out, groups * ith / nth, groups * (ith + 1) / nth, ith + 1 == nth, act,
                                    act_bytes, info, T, a.s.orders, y, y_stride);
        a.pool.barrier();
        return;
    }
    const int64_t o0 = n_out * ith / nth, o1 = n_out * (ith + 1) / nth;
    if (kernels::use_gemm(*k, T)) {
        kernels::PackedQ8Group *packed = a.s.packed.data();
        kernels::pack_q8_0_rows(act, act_bytes, T, nb, nb * ith / nth, nb * (ith + 1) / nth, packed);
        a.pool.barrier();
        k->gemm(n_in, base + static_cast<size_t>(o0) * row_bytes, row_bytes, o1 - o0, packed, T, y + o0, y_stride);
    } else {
        kernels::matmul_rows(*k, n_in, base + static_cast<size_t>(o0) * row_bytes, row_bytes, o0, o1, act, act_bytes, T, a.s.orders, y,
                             y_stride);
    }
    a.pool.barrier();
}

void embedding_row(const Tensor &table, int64_t token, float *out) {
    if (!table.interleaved) {
        kernels::ref::embedding_row(table.type, table.data, table.ne[0], token, out);
        return;
    }
    // a few blocks at a time through a plain copy
    const TypeLayout *layout = find_type_layout(table.type);
    const int64_t nb = table.ne[0] / layout->block_size;
    alignas(16) uint8_t blocks[4096];
    const int64_t chunk = static_cast<int64_t>(sizeof blocks / layout->block_bytes); // 19 blocks of the largest type, Q6_K
    for (int64_t k0 = 0; k0 < nb; k0 += chunk) {
        const int64_t k1 = std::min(nb, k0 + chunk);
        kernels::plain_blocks(table.type, static_cast<const uint8_t *>(table.data), table.ne[0], table.rows(), token, k0, k1, blocks);
        (void)dequantize_row(table.type, blocks, out + k0 * layout->block_size, static_cast<uint64_t>((k1 - k0) * layout->block_size));
    }
}

void store_kv_rows(const KvCache &kv, uint8_t *dst, const float *src, int n_head_kv, int head_dim) {
    const size_t row_bytes = kv_row_bytes(kv.type(), head_dim);
    for (int h = 0; h < n_head_kv; ++h) {
        kv_encode_row(kv.type(), src + static_cast<size_t>(h) * head_dim, dst + static_cast<size_t>(h) * row_bytes, head_dim);
    }
}

void add_bias(const Tensor &b, float *y, int64_t stride, int T, int ith, int nth) {
    if (!b) return;
    const float *bias = b.f32();
    for (int t = ith; t < T; t += nth) {
        for (int64_t i = 0; i < b.ne[0]; ++i) y[t * stride + i] += bias[i];
    }
}

void attention(StepArgs &a, int ith, int nth, int layer, const float *q, float *out) {
    ProfileScope timed(a.profile, ith, StepProfile::Op::kAttention);
    const HParams &hp = a.hp;
    const int H = hp.n_head, D = hp.head_dim;
    const kernels::AttentionFn kernel = kernels::best_attention();
    std::vector<float> &scores = a.s.scores[static_cast<size_t>(ith)];
    std::vector<const uint8_t *> &kb = a.s.k_blocks[static_cast<size_t>(ith)];
    std::vector<const uint8_t *> &vb = a.s.v_blocks[static_cast<size_t>(ith)];
    // items are (row, head), spread over threads, taken KV head by KV head:
    // one KV head's keys and values stay in cache over the batch's rows,
    // where a row's every head would sweep the layer's whole cache
    const int groups = H;
    const int per_kv = H / hp.n_head_kv;
    const int items = a.n_rows * groups;
    const int bs = a.kv.block_size();
    int last_row = -1, first = 0, block0 = 0;
    for (int item = ith; item < items; item += nth) {
        const int kv_head = item / (a.n_rows * per_kv), in_kv = item % (a.n_rows * per_kv);
        const int r = in_kv / per_kv, g = kv_head * per_kv + in_kv % per_kv;
        const BatchRow &row = a.rows[r];
        if (r != last_row) {
            // the blocks the attended positions lie in: a sliding window's
            // sequence can be longer than the whole pool (released blocks
            // stay in its table as -1), its window never is
            first = hp.sliding_window > 0 ? std::max(0, row.pos - hp.sliding_window + 1) : 0;
            block0 = first / bs;
            const std::vector<int> &table = a.kv.block_table(row.seq);
            for (int b = block0; b <= row.pos / bs; ++b) {
                kb[static_cast<size_t>(b - block0)] = a.kv.block_k(table[static_cast<size_t>(b)], layer);
                vb[static_cast<size_t>(b - block0)] = a.kv.block_v(table[static_cast<size_t>(b)], layer);
            }
            last_row = r;
        }
        kernels::AttentionArgs args;
        args.q = q + static_cast<size_t>(r) * H * D;
        args.k_blocks = kb.data();
        args.v_blocks = vb.data();
        args.kv_type = a.kv.type();
        args.block_size = bs;
        // positions counted from the first listed block: a shift by whole
        // blocks (multiples of 8) leaves the kernels' 8-position lanes and
        // softmax chunks, and so every rounding, as they were
        args.last = row.pos - block0 * bs;
        args.first = first - block0 * bs;
        args.head_begin = g;
        args.head_end = g + 1;
        args.n_head = H;
        args.n_head_kv = hp.n_head_kv;
        args.head_dim = D;
        args.scale = 1.0f / std::sqrt(static_cast<float>(D));
        args.out = out + static_cast<size_t>(r) * H * D;
        args.scratch = scores.data();
        kernel(args);
    }
    a.pool.barrier();
}

int keep_logit_rows(StepArgs &a, int ith, float *x, float *o, int E) {
    const std::vector<int> &rows = a.s.logit_rows;
    const int n = static_cast<int>(rows.size());
    a.pool.barrier(); // x and o rows were last written by their own threads
    if (ith == 0) {
        a.s.orders = a.s.logit_orders.data(); // the products from here on see the logit rows
        // rows ascend, so each source is at or after its destination
        for (int j = 0; j < n; ++j) {
            const size_t from = static_cast<size_t>(rows[static_cast<size_t>(j)]) * E, to = static_cast<size_t>(j) * E;
            if (from == to) continue;
            std::memmove(x + to, x + from, sizeof(float) * E);
            std::memmove(o + to, o + from, sizeof(float) * E);
        }
    }
    a.pool.barrier();
    return n;
}

void logits(StepArgs &a, int ith, int nth, const Tensor &norm, const Tensor &norm_b, bool layer_norm, const Tensor &output) {
    const int E = a.hp.n_embd;
    const std::vector<int> &rows = a.s.logit_rows;
    const int n = static_cast<int>(rows.size());
    if (n == 0) return;
    a.pool.barrier(); // the rows were last written by their own threads
    float *cur = a.s.cur.data();
    for (int j = ith; j < n; j += nth) {
        const float *x = a.s.x.data() + static_cast<size_t>(j) * E;
        if (layer_norm) {
            kernels::ref::layer_norm(x, norm.f32(), norm_b ? norm_b.f32() : nullptr, cur + static_cast<size_t>(j) * E, E, a.hp.norm_eps);
        } else {
            kernels::ref::rms_norm(x, norm.f32(), cur + static_cast<size_t>(j) * E, E, a.hp.norm_eps);
        }
    }
    matmul(a, ith, nth, output, cur, E, n, a.logits, a.hp.n_vocab, StepProfile::Op::kOutput);
}

} // namespace layers
} // namespace lmrt
