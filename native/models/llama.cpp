// The Llama family: Llama 2/3, TinyLlama, SmolLM, Mistral (sliding window),
// Qwen2 (attention biases, NeoX RoPE) and Qwen3 (per-head Q/K RMSNorm).
//
//   x = embed(token)
//   per layer: h = rmsnorm(x) * attn_norm
//              q, k, v = Wq h (+bq), Wk h (+bk), Wv h (+bv)   [Qwen3: rmsnorm q, k per head]
//              rope(q, k); attention over the sequence's cache; x += Wo attn
//              h = rmsnorm(x) * ffn_norm; x += Wdown (silu(Wgate h) * Wup h)
//   logits = Woutput (rmsnorm(x) * output_norm)      (Woutput = token embedding when tied)
#include <cstring>

#include "../core/half.h"
#include "../kernels/ref/ref.h"
#include "../kernels/registry.h"
#include "layers.h"
#include "loader.h"

namespace lmrt {

Status load_llama_family(const ModelLoader &l, HParams *hp, ModelWeights *w) {
    LMRT_RETURN_IF_ERROR(l.u32("embedding_length", &hp->n_embd, true));
    LMRT_RETURN_IF_ERROR(l.u32("block_count", &hp->n_layer, true));
    LMRT_RETURN_IF_ERROR(l.u32("feed_forward_length", &hp->n_ff, true));
    LMRT_RETURN_IF_ERROR(l.u32("attention.head_count", &hp->n_head, true));
    hp->n_head_kv = hp->n_head;
    LMRT_RETURN_IF_ERROR(l.u32("attention.head_count_kv", &hp->n_head_kv, false));
    LMRT_RETURN_IF_ERROR(l.u32("context_length", &hp->n_ctx_train, false));
    if (hp->n_embd <= 0 || hp->n_layer <= 0 || hp->n_head <= 0 || hp->n_head_kv <= 0 || hp->n_head % hp->n_head_kv != 0) {
        return Status::error(LMRT_E_GGUF_INVALID, "%s: inconsistent attention heads (%d heads, %d KV heads)", l.name().c_str(),
                             hp->n_head, hp->n_head_kv);
    }
    hp->head_dim = hp->n_embd / hp->n_head;
    LMRT_RETURN_IF_ERROR(l.u32("attention.key_length", &hp->head_dim, false));
    hp->n_rot = hp->head_dim;
    LMRT_RETURN_IF_ERROR(l.u32("rope.dimension_count", &hp->n_rot, false));
    LMRT_RETURN_IF_ERROR(l.f32("rope.freq_base", &hp->rope_base, false));
    LMRT_RETURN_IF_ERROR(l.f32("attention.layer_norm_rms_epsilon", &hp->norm_eps, true));
    LMRT_RETURN_IF_ERROR(l.u32("attention.sliding_window", &hp->sliding_window, false));
    std::string scaling;
    LMRT_RETURN_IF_ERROR(l.str("rope.scaling.type", &scaling));
    if (scaling == "linear") {
        float factor = 1.0f;
        LMRT_RETURN_IF_ERROR(l.f32("rope.scaling.factor", &factor, false));
        if (factor > 0.0f) hp->rope_freq_scale = 1.0f / factor;
    } else if (!scaling.empty() && scaling != "none") {
        return Status::error(LMRT_E_GGUF_UNSUPPORTED, "%s: RoPE scaling '%s' is not supported yet", l.name().c_str(), scaling.c_str());
    }
    if (hp->head_dim <= 0 || hp->head_dim > 512 || hp->n_rot > hp->head_dim || hp->n_rot % 2 != 0) {
        return Status::error(LMRT_E_GGUF_UNSUPPORTED, "%s: head size %d (rotary %d) is not supported", l.name().c_str(),
                             hp->head_dim, hp->n_rot);
    }
    hp->rope_neox = hp->arch != Arch::kLlama;

    const int64_t E = hp->n_embd, V = hp->n_vocab, F = hp->n_ff;
    const int64_t QD = static_cast<int64_t>(hp->n_head) * hp->head_dim, KD = static_cast<int64_t>(hp->n_head_kv) * hp->head_dim;
    LMRT_RETURN_IF_ERROR(l.tensor("token_embd.weight", {E, V}, &w->tok_embd));
    LMRT_RETURN_IF_ERROR(l.tensor("output_norm.weight", {E}, &w->output_norm));
    LMRT_RETURN_IF_ERROR(l.tensor("output.weight", {E, V}, &w->output, false));
    if (!w->output) w->output = w->tok_embd; // tied embeddings
    w->layers.resize(static_cast<size_t>(hp->n_layer));
    for (int i = 0; i < hp->n_layer; ++i) {
        LayerWeights &L = w->layers[static_cast<size_t>(i)];
        const std::string b = "blk." + std::to_string(i) + ".";
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_norm.weight", {E}, &L.attn_norm));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_q.weight", {E, QD}, &L.wq));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_k.weight", {E, KD}, &L.wk));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_v.weight", {E, KD}, &L.wv));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_output.weight", {QD, E}, &L.wo));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_q.bias", {QD}, &L.bq, false));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_k.bias", {KD}, &L.bk, false));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_v.bias", {KD}, &L.bv, false));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_output.bias", {E}, &L.bo, false));
        if (hp->arch == Arch::kQwen3) {
            LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_q_norm.weight", {hp->head_dim}, &L.q_norm));
            LMRT_RETURN_IF_ERROR(l.tensor(b + "attn_k_norm.weight", {hp->head_dim}, &L.k_norm));
        }
        LMRT_RETURN_IF_ERROR(l.tensor(b + "ffn_norm.weight", {E}, &L.ffn_norm));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "ffn_gate.weight", {E, F}, &L.w_gate));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "ffn_up.weight", {E, F}, &L.w_up));
        LMRT_RETURN_IF_ERROR(l.tensor(b + "ffn_down.weight", {F, E}, &L.w_down));
    }
    return Status::ok();
}

namespace {

// RMS-norms each head of a row in place with a per-dimension weight.
void head_norm(float *row, int n_head, int head_dim, const Tensor &weight, float eps) {
    for (int h = 0; h < n_head; ++h) {
        float *v = row + static_cast<size_t>(h) * head_dim;
        kernels::ref::rms_norm(v, weight.f32(), v, head_dim, eps);
    }
}


} // namespace

void forward_llama(StepArgs &a, int ith, int nth) {
    const HParams &hp = a.hp;
    const ModelWeights &w = a.w;
    StepScratch &s = a.s;
    const int T = a.n_rows, E = hp.n_embd, F = hp.n_ff;
    const int QD = hp.n_head * hp.head_dim, KD = hp.n_head_kv * hp.head_dim;
    float *x = s.x.data(), *cur = s.cur.data(), *q = s.q.data(), *k = s.k.data(), *v = s.v.data();

    for (int t = ith; t < T; t += nth) {
        layers::embedding_row(w.tok_embd, a.rows[t].token, x + static_cast<size_t>(t) * E);
    }
    const int layer_end = a.layer_end >= 0 ? a.layer_end : hp.n_layer;
    for (int il = 0; il < layer_end; ++il) {
        const LayerWeights &L = w.layers[static_cast<size_t>(il)];
        for (int t = ith; t < T; t += nth) {
            kernels::ref::rms_norm(x + static_cast<size_t>(t) * E, L.attn_norm.f32(), cur + static_cast<size_t>(t) * E, E, hp.norm_eps);
        }
        layers::matmul(a, ith, nth, L.wq, cur, E, T, q, QD);
        layers::matmul(a, ith, nth, L.wk, cur, E, T, k, KD, StepProfile::Op::kMatmul, true);
        layers::matmul(a, ith, nth, L.wv, cur, E, T, v, KD, StepProfile::Op::kMatmul, true);
        layers::add_bias(L.bq, q, QD, T, ith, nth);
        layers::add_bias(L.bk, k, KD, T, ith, nth);
        layers::add_bias(L.bv, v, KD, T, ith, nth);
        for (int t = ith; t < T; t += nth) {
            float *qt = q + static_cast<size_t>(t) * QD, *kt = k + static_cast<size_t>(t) * KD;
            if (L.q_norm) {
                head_norm(qt, hp.n_head, hp.head_dim, L.q_norm, hp.norm_eps);
                head_norm(kt, hp.n_head_kv, hp.head_dim, L.k_norm, hp.norm_eps);
            }
            const BatchRow &row = a.rows[t];
            kernels::ref::rope(qt, hp.n_head, hp.head_dim, hp.n_rot, row.pos, hp.rope_base, hp.rope_freq_scale, hp.rope_neox);
            kernels::ref::rope(kt, hp.n_head_kv, hp.head_dim, hp.n_rot, row.pos, hp.rope_base, hp.rope_freq_scale, hp.rope_neox);
            layers::store_kv_rows(a.kv, a.kv.k_row(row.seq, il, row.pos), kt, hp.n_head_kv, hp.head_dim);
            layers::store_kv_rows(a.kv, a.kv.v_row(row.seq, il, row.pos), v + static_cast<size_t>(t) * KD, hp.n_head_kv, hp.head_dim);
        }
        a.pool.barrier();
        layers::attention(a, ith, nth, il, q, s.attn.data());
        layers::matmul(a, ith, nth, L.wo, s.attn.data(), QD, T, s.tmp.data(), E);
        layers::add_bias(L.bo, s.tmp.data(), E, T, ith, nth);
        const int Tf = il + 1 < hp.n_layer ? T : layers::keep_logit_rows(a, ith, x, s.tmp.data(), E);
        for (int t = ith; t < Tf; t += nth) {
            float *xt = x + static_cast<size_t>(t) * E;
            const float *o = s.tmp.data() + static_cast<size_t>(t) * E;
            for (int i = 0; i < E; ++i) xt[i] += o[i];
            kernels::ref::rms_norm(xt, L.ffn_norm.f32(), cur + static_cast<size_t>(t) * E, E, hp.norm_eps);
        }
        layers::matmul(a, ith, nth, L.w_gate, cur, E, Tf, s.ffn_a.data(), F);
        layers::matmul(a, ith, nth, L.w_up, cur, E, Tf, s.ffn_b.data(), F, StepProfile::Op::kMatmul, true);
        const kernels::SwigluFn swiglu = kernels::best_swiglu();
        for (int t = ith; t < Tf; t += nth) {
            float *g = s.ffn_a.data() + static_cast<size_t>(t) * F;
            swiglu(g, s.ffn_b.data() + static_cast<size_t>(t) * F, g, F);
        }
        layers::matmul(a, ith, nth, L.w_down, s.ffn_a.data(), F, Tf, s.tmp.data(), E);
        for (int t = ith; t < Tf; t += nth) {
            float *xt = x + static_cast<size_t>(t) * E;
            const float *o = s.tmp.data() + static_cast<size_t>(t) * E;
            for (int i = 0; i < E; ++i) xt[i] += o[i];
        }
    }
    if (layer_end < hp.n_layer) return; // the CUDA backend takes the rows' hidden states from here
    layers::logits(a, ith, nth, w.output_norm, Tensor{}, false, w.output);
}

} // namespace lmrt
