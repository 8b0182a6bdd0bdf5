#include "presets.h"

#include <cstdio>

#include "../core/ggml_types.h"

namespace lmrt {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// The layer of a "blk.N.…" tensor, -1 for others.
int layer_of(std::string_view name) {
    int layer = -1;
    if (name.substr(0, 4) != "blk.") return -1;
    const std::string head(name.substr(0, std::min<size_t>(name.size(), 16)));
    return std::sscanf(head.c_str(), "blk.%d.", &layer) == 1 ? layer : -1;
}

// llama.cpp's layers that get more bits: the first and last eighth, and
// every third layer between.
bool use_more_bits(int i_layer, int n_layers) {
    return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

uint32_t block_of(uint32_t type) {
    const TypeLayout *layout = find_type_layout(type);
    return layout != nullptr ? layout->block_size : 1;
}

uint32_t base_type(QuantPreset p) {
    switch (p) {
    case QuantPreset::kQ4_0: return LMRT_TYPE_Q4_0;
    case QuantPreset::kQ8_0: return LMRT_TYPE_Q8_0;
    case QuantPreset::kQ4_K_M: return LMRT_TYPE_Q4_K;
    case QuantPreset::kQ5_K_M: return LMRT_TYPE_Q5_K;
    case QuantPreset::kQ6_K: return LMRT_TYPE_Q6_K;
    }
    return LMRT_TYPE_F16;
}

// Whether llama.cpp quantises a tensor at all: 2-D and larger weights,
// except norms and learned positions (and token types).
bool quantised_at_all(std::string_view name, uint32_t n_dims) {
    return ends_with(name, "weight") && n_dims >= 2 && !contains(name, "_norm.weight") && name != "position_embd.weight" &&
           name != "token_types.weight";
}

} // namespace

bool known_preset(uint32_t file_type) {
    switch (static_cast<QuantPreset>(file_type)) {
    case QuantPreset::kQ4_0:
    case QuantPreset::kQ8_0:
    case QuantPreset::kQ4_K_M:
    case QuantPreset::kQ5_K_M:
    case QuantPreset::kQ6_K: return true;
    }
    return false;
}

const char *preset_name(QuantPreset preset) {
    switch (preset) {
    case QuantPreset::kQ4_0: return "Q4_0";
    case QuantPreset::kQ8_0: return "Q8_0";
    case QuantPreset::kQ4_K_M: return "Q4_K_M";
    case QuantPreset::kQ5_K_M: return "Q5_K_M";
    case QuantPreset::kQ6_K: return "Q6_K";
    }
    return "?";
}

TensorChoice choose_tensor_type(QuantPreset preset, const PresetModel &model, std::string_view name, uint64_t row_length,
                                uint32_t n_dims, uint32_t type) {
    TensorChoice c;
    c.type = type;
    if (!quantised_at_all(name, n_dims)) return c;
    c.quantize = true;
    const uint32_t base = base_type(preset);
    uint32_t t = base;
    const bool k_mixed = preset == QuantPreset::kQ4_K_M || preset == QuantPreset::kQ5_K_M;
    if (name == "output.weight" || (!model.has_output && name == "token_embd.weight")) {
        // the output product (or the embedding tied to it): Q6_K, or Q8_0
        // where rows are not whole blocks of the preset's type
        if (model.falcon || row_length % block_of(base) != 0) t = LMRT_TYPE_Q8_0;
        else if (base != LMRT_TYPE_Q8_0) t = LMRT_TYPE_Q6_K;
    } else if (contains(name, "attn_v.weight")) {
        if (k_mixed && use_more_bits(layer_of(name), model.n_attention_v)) t = LMRT_TYPE_Q6_K;
    } else if (contains(name, "ffn_down")) {
        const int i = layer_of(name), n = model.n_layer;
        if (preset == QuantPreset::kQ4_K_M) {
            if (model.falcon) t = i < n / 16 ? LMRT_TYPE_Q6_K : use_more_bits(i, n) ? LMRT_TYPE_Q5_K : LMRT_TYPE_Q4_K;
            else if (use_more_bits(i, n)) t = LMRT_TYPE_Q6_K;
        } else if (preset == QuantPreset::kQ5_K_M && use_more_bits(i, n)) {
            t = LMRT_TYPE_Q6_K;
        }
    } else if (contains(name, "attn_qkv.weight")) {
        if (preset == QuantPreset::kQ4_K_M) t = LMRT_TYPE_Q5_K;
        else if (preset == QuantPreset::kQ5_K_M) t = LMRT_TYPE_Q6_K;
    }
    if (row_length % block_of(t) != 0) {
        // as llama.cpp: the K-quants fall back to a 32-element type of about
        // their size; where llama.cpp has none (Q4_0, Q8_0) and where that
        // does not fit either, F16
        c.fallback = true;
        switch (t) {
        case LMRT_TYPE_Q4_K: t = LMRT_TYPE_Q5_0; break;
        case LMRT_TYPE_Q5_K: t = LMRT_TYPE_Q5_1; break;
        case LMRT_TYPE_Q6_K: t = LMRT_TYPE_Q8_0; break;
        default: t = LMRT_TYPE_F16; break;
        }
        if (row_length % block_of(t) != 0) t = LMRT_TYPE_F16;
    }
    c.type = t;
    return c;
}

} // namespace lmrt
