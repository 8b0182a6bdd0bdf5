// Reference element-wise ops and attention, with ggml's numerics (double
// accumulation for norms and softmax sums, f16 rounding where ggml rounds).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "../../core/ggml_types.h"
#include "../../core/half.h"
#include "../../core/quant.h"
#include "ref.h"

namespace lmrt::kernels::ref {

void rms_norm(const float *x, const float *weight, float *y, int64_t n, float eps) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
    const float scale = 1.0f / std::sqrt(static_cast<float>(sum / static_cast<double>(n)) + eps);
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * (weight != nullptr ? weight[i] : 1.0f);
}

void layer_norm(const float *x, const float *weight, const float *bias, float *y, int64_t n, float eps) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += x[i];
    const float mean = static_cast<float>(sum / static_cast<double>(n));
    double var = 0;
    for (int64_t i = 0; i < n; ++i) var += static_cast<double>(x[i] - mean) * (x[i] - mean);
    const float scale = 1.0f / std::sqrt(static_cast<float>(var / static_cast<double>(n)) + eps);
    for (int64_t i = 0; i < n; ++i) {
        const float v = (x[i] - mean) * scale;
        y[i] = v * (weight != nullptr ? weight[i] : 1.0f) + (bias != nullptr ? bias[i] : 0.0f);
    }
}

void rope(float *x, int n_head, int head_dim, int n_rot, int pos, float freq_base, float freq_scale, bool neox) {
    const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(n_rot));
    for (int h = 0; h < n_head; ++h) {
        float *v = x + static_cast<size_t>(h) * head_dim;
        float theta = static_cast<float>(pos) * freq_scale;
        for (int i = 0; i < n_rot / 2; ++i) {
            const float c = std::cos(theta), s = std::sin(theta);
            const int a = neox ? i : 2 * i;
            const int b = neox ? i + n_rot / 2 : 2 * i + 1;
            const float x0 = v[a], x1 = v[b];
            // fused as llama.cpp's build contracts these expressions: one
            // rounding here flips Q8_0 activation roundings later
            v[a] = std::fma(x0, c, -(x1 * s));
            v[b] = std::fma(x0, s, x1 * c);
            theta *= theta_scale;
        }
    }
}

void swiglu(const float *gate, const float *up, float *y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

float gelu_tanh(float f) { return 0.5f * f * (1.0f + std::tanh(0.79788456080286535587989211986876f * f * (1.0f + 0.044715f * f * f))); }

void gelu(float *x, int64_t n) {
    // ggml evaluates GELU (tanh form) through an f16 table: input and output rounded to f16
    for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        if (v <= -10.0f) {
            x[i] = 0.0f;
        } else if (v < 10.0f) {
            x[i] = fp16_to_fp32(fp32_to_fp16(gelu_tanh(fp16_to_fp32(fp32_to_fp16(v)))));
        }
    }
}

void softmax(float *x, int64_t n) {
    float max = -INFINITY;
    for (int64_t i = 0; i < n; ++i) max = std::max(max, x[i]);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - max);
        sum += x[i];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

bool embedding_row(uint32_t type, const void *table, int64_t row_length, int64_t token, float *out) {
    const TypeLayout *layout = find_type_layout(type);
    if (layout == nullptr || !can_encode_type(type)) return false;
    const size_t row_bytes = static_cast<size_t>(row_length / layout->block_size) * layout->block_bytes;
    return dequantize_row(type, static_cast<const uint8_t *>(table) + row_bytes * static_cast<size_t>(token), out, row_length)
        .is_ok();
}

namespace {

// A stored K/V row as floats.
void decode_kv_row(KvType t, const uint8_t *row, float *out, int n) {
    for (int i = 0; i < n; ++i) {
        uint16_t h;
        switch (t) {
        case KvType::kF16: std::memcpy(&h, row + 2 * i, 2); out[i] = fp16_to_fp32(h); break;
        case KvType::kBF16: std::memcpy(&h, row + 2 * i, 2); out[i] = bf16_to_fp32(h); break;
        case KvType::kQ8_0: {
            const auto &b = reinterpret_cast<const BlockQ8_0 *>(row)[i / 32];
            out[i] = fp16_to_fp32(b.d) * static_cast<float>(b.qs[i % 32]);
            break;
        }
        }
    }
}

// The query as the K type's dot product sees it (ggml converts it to K's
// type first): rounded to f16 or bf16, or encoded as q8_0 blocks.
void query_as_k_sees_it(KvType t, const float *q, float *out, int n) {
    uint8_t row[512 * 2]; // the largest row: 512 values of f16 or bf16 (q8_0 takes 544 bytes)
    kv_encode_row(t, q, row, n);
    decode_kv_row(t, row, out, n);
}

// The probability as it multiplies V: converted to V's type for f16 and
// bf16 (ggml's matrix product), kept in f32 against dequantised q8_0 rows.
float probability_as_v_sees_it(KvType t, float p) {
    switch (t) {
    case KvType::kF16: return fp16_to_fp32(fp32_to_fp16(p));
    case KvType::kBF16: return bf16_to_fp32(fp32_to_bf16(p));
    default: return p;
    }
}

} // namespace

void attention(const AttentionArgs &a) {
    const int group = a.n_head / a.n_head_kv;
    const int n = a.last - a.first + 1;
    const int D = a.head_dim;
    float *scores = a.scratch;
    float q[512], kv[512];
    for (int h = a.head_begin; h < a.head_end; ++h) {
        const int kvh = h / group;
        query_as_k_sees_it(a.kv_type, a.q + static_cast<size_t>(h) * D, q, D);
        for (int p = a.first; p <= a.last; ++p) {
            decode_kv_row(a.kv_type, a.row(a.k_blocks, p, kvh), kv, D);
            double s = 0;
            for (int d = 0; d < D; ++d) s += static_cast<double>(q[d]) * kv[d];
            scores[p - a.first] = static_cast<float>(s) * a.scale;
        }
        softmax(scores, n);
        float *out = a.out + static_cast<size_t>(h) * D;
        double acc[512] = {};
        for (int p = a.first; p <= a.last; ++p) {
            decode_kv_row(a.kv_type, a.row(a.v_blocks, p, kvh), kv, D);
            const double w = probability_as_v_sees_it(a.kv_type, scores[p - a.first]);
            for (int d = 0; d < D; ++d) acc[d] += w * kv[d];
        }
        for (int d = 0; d < D; ++d) out[d] = static_cast<float>(acc[d]);
    }
}

} // namespace lmrt::kernels::ref
