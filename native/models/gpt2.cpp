// GPT-2: learned positions, LayerNorm with biases, fused QKV with bias,
// GELU, output tied to the token embedding when output.weight is absent.
//
//   x = embed(token) + position(pos)
//   per layer: h = layernorm(x); q|k|v = Wqkv h + bqkv; x += Wo attention(q, k, v) + bo
//              h = layernorm(x); x += Wdown gelu(Wup h + bup) + bdown
//   logits = Woutput layernorm(x)
#include "../core/half.h"
#include "../kernels/gelu_table.h"
#include "../kernels/ref/ref.h"
#include "layers.h"
#include "loader.h"

namespace lmrt {

Status load_gpt2(const ModelLoader &l, HParams *hp, ModelWeights *w) {
    LMRT_RETURN_IF_ERROR(l.u32("embedding_length", &hp->n_embd, true));
    LMRT_RETURN_IF_ERROR(l.u32("block_count", &hp->n_layer, true));
    LMRT_RETURN_IF_ERROR(l.u32("feed_forward_length", &hp->n_ff, true));
    LMRT_RETURN_IF_ERROR(l.u32("attention.head_count", &hp->n_head, true));
    LMRT_RETURN_IF_ERROR(l.u32("context_length", &hp->n_ctx_train, true));
    LMRT_RETURN_IF_ERROR(l.f32("attention.layer_norm_epsilon", &hp->norm_eps, true));
    if (hp->n_embd <= 0 || hp->n_layer <= 0 || hp->n_head <= 0 || hp->n_embd % hp->n_head != 0 || hp->n_ctx_train <= 0) {
        return Status::error(LMRT_E_GGUF_INVALID, "%s: inconsistent GPT-2 hyper-parameters", l.name().c_str());
    }
    hp->n_head_kv = hp->n_head;
    hp->head_dim = hp->n_embd / hp->n_head;
    hp->n_rot = 0;
    if (hp->head_dim > 512) return Status::error(LMRT_E_GGUF_UNSUPPORTED, "%s: head size %d is not supported", l.name().c_str(), hp->head_dim);

    const int64_t E = hp->n_embd, V = hp->n_vocab, F = hp->n_ff;
    LMRT_RETURN_IF_ERROR(l.tensor("token_embd.weight", {E, V}, &w->tok_embd));
    LMRT_RETURN_IF_ERROR(l.tensor("position_embd.weight", {E, hp->n_ctx_train}, &w->pos_embd));
    LMRT_RETURN_IF_ERROR(l.tensor("output_norm.weight", {E}, &w->output_norm));
    LMRT_RETURN_IF_ERROR(l.tensor("output_norm.bias", {E}, &w->output_norm_b));
    LMRT_RETURN_IF_ERROR(l.tensor("output.weight", {E, V}, &w->output, false));
    if (!w->output) w->output = w->tok_embd;
    w->layers.resize(static_cast<size_t>(hp->n_layer));
    for (int i = 0; i < hp->n_layer; ++i) {
        LayerWeights &L = w->layers[static_cast<size_t>(i)];
        const std::string b = "blk." + std::to_string(i) + ".";
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_norm.weight", {E}, &L.attn_norm));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_norm.bias", {E}, &L.attn_norm_b));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_qkv.weight", {E, 3 * E}, &L.wqkv));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_qkv.bias", {3 * E}, &L.bqkv));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_output.weight", {E, E}, &L.wo));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_output.bias", {E}, &L.bo));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "ffn_norm.weight", {E}, &L.ffn_norm));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "ffn_norm.bias", {E}, &L.ffn_norm_b));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "ffn_up.weight", {E, F}, &L.w_up));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "ffn_up.bias", {F}, &L.b_up));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "ffn_down.weight", {F, E}, &L.w_down));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "ffn_down.bias", {E}, &L.b_down));
    }
    return Status::ok();
}

void forward_gpt2(StepArgs &a, int ith, int nth) {
    const HParams &hp = a.hp;
    const ModelWeights &w = a.w;
    StepScratch &s = a.s;
    const int T = a.n_rows, E = hp.n_embd, F = hp.n_ff;
    float *x = s.x.data(), *cur = s.cur.data(), *qkv = s.q.data();
    std::vector<float> &pos_row = s.scores[static_cast<size_t>(ith)]; // free until attention

    for (int t = ith; t < T; t += nth) {
        float *xt = x + static_cast<size_t>(t) * E;
        layers::embedding_row(w.tok_embd, a.rows[t].token, xt);
        kernels::ref::embedding_row(w.pos_embd.type, w.pos_embd.data, E, a.rows[t].pos, pos_row.data());
        for (int i = 0; i < E; ++i) xt[i] += pos_row[static_cast<size_t>(i)];
    }
    const int layer_end = a.layer_end >= 0 ? a.layer_end : hp.n_layer;
    for (int il = 0; il < layer_end; ++il) {
        const LayerWeights &L = w.layers[static_cast<size_t>(il)];
        for (int t = ith; t < T; t += nth) {
            kernels::ref::layer_norm(x + static_cast<size_t>(t) * E, L.attn_norm.f32(), L.attn_norm_b.f32(),
                                     cur + static_cast<size_t>(t) * E, E, hp.norm_eps);
        }
        layers::matmul(a, ith, nth, L.wqkv, cur, E, T, qkv, 3 * E);
        layers::add_bias(L.bqkv, qkv, 3 * E, T, ith, nth);
        float *q = s.attn.data(); // queries compacted to [T, E] for the attention kernel
        for (int t = ith; t < T; t += nth) {
            const float *row = qkv + static_cast<size_t>(t) * 3 * E;
            for (int i = 0; i < E; ++i) q[static_cast<size_t>(t) * E + i] = row[i];
            const BatchRow &r = a.rows[t];
            layers::store_kv_rows(a.kv, a.kv.k_row(r.seq, il, r.pos), row + E, hp.n_head_kv, hp.head_dim);
            layers::store_kv_rows(a.kv, a.kv.v_row(r.seq, il, r.pos), row + 2 * E, hp.n_head_kv, hp.head_dim);
        }
        a.pool.barrier();
        layers::attention(a, ith, nth, il, q, cur);
        layers::matmul(a, ith, nth, L.wo, cur, E, T, s.tmp.data(), E);
        layers::add_bias(L.bo, s.tmp.data(), E, T, ith, nth);
        const int Tf = il + 1 < hp.n_layer ? T : layers::keep_logit_rows(a, ith, x, s.tmp.data(), E);
        for (int t = ith; t < Tf; t += nth) {
            float *xt = x + static_cast<size_t>(t) * E;
            const float *o = s.tmp.data() + static_cast<size_t>(t) * E;
            for (int i = 0; i < E; ++i) xt[i] += o[i];
            kernels::ref::layer_norm(xt, L.ffn_norm.f32(), L.ffn_norm_b.f32(), cur + static_cast<size_t>(t) * E, E, hp.norm_eps);
        }
        layers::matmul(a, ith, nth, L.w_up, cur, E, Tf, s.ffn_a.data(), F);
        for (int t = ith; t < Tf; t += nth) {
            float *h = s.ffn_a.data() + static_cast<size_t>(t) * F;
            const float *b = L.b_up.f32();
            for (int i = 0; i < F; ++i) h[i] += b[i];
            kernels::gelu_by_table(h, F);
        }
        layers::matmul(a, ith, nth, L.w_down, s.ffn_a.data(), F, Tf, s.tmp.data(), E);
        layers::add_bias(L.b_down, s.tmp.data(), E, Tf, ith, nth);
        for (int t = ith; t < Tf; t += nth) {
            float *xt = x + static_cast<size_t>(t) * E;
            const float *o = s.tmp.data() + static_cast<size_t>(t) * E;
            for (int i = 0; i < E; ++i) xt[i] += o[i];
        }
    }
    if (layer_end < hp.n_layer) return; // the CUDA backend takes the rows' hidden states from here
    layers::logits(a, ith, nth, w.output_norm, w.output_norm_b, true, w.output);
}

} // namespace lmrt
