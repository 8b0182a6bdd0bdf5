// The per-tensor types of llama.cpp's quantisation presets (llama-quantize's
// Q8_0, Q4_0, Q4_K_M, Q5_K_M and Q6_K): which tensors are quantised, the
// layers whose attn_v and ffn_down get more bits, the output tensor's type,
// and the fallbacks for rows that are not whole blocks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lmrt {

// A preset by llama.cpp's general.file_type id.
enum class QuantPreset : uint32_t { kQ4_0 = 2, kQ8_0 = 7, kQ4_K_M = 15, kQ5_K_M = 17, kQ6_K = 18 };

bool known_preset(uint32_t file_type);
const char *preset_name(QuantPreset preset);

// What the model says that the choices depend on.
struct PresetModel {
    int n_layer = 0;             // {arch}.block_count
    int n_attention_v = 0;       // attn_v (or attn_qkv) tensors
    bool has_output = false;     // an output.weight of its own (else the embedding is tied to it)
    bool falcon = false;         // llama.cpp's Falcon rules
};

struct TensorChoice {
    bool quantize = false; // false: copied in its own type
    uint32_t type = 0;     // the type written
    bool fallback = false; // the preset's type did not fit the rows; `type` is the fallback
};

// The choice for one tensor (name, ne[0] its row length, n_dims its dimensions).
TensorChoice choose_tensor_type(QuantPreset preset, const PresetModel &model, std::string_view name, uint64_t row_length,
                                uint32_t n_dims, uint32_t type);

} // namespace lmrt
