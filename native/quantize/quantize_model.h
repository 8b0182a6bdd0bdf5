// Quantises a GGUF model file into another with a llama.cpp preset
// (presets.h): metadata copied (general.file_type and
// general.quantization_version set), each tensor copied or decoded and
// encoded into its chosen type, streamed chunk by chunk from the mapped
// input, whose pages are dropped as each chunk is written: memory stays
// near a few chunks, not a tensor or the model.
#pragma once

#include <string>

#include "../core/status.h"
#include "lmrt.h"
#include "presets.h"

namespace lmrt {

struct QuantizeRequest {
    std::string in_path, out_path;
    QuantPreset preset = QuantPreset::kQ8_0;
    int n_threads = 1;
    lmrt_quantize_plan_fn plan = nullptr; // each tensor's choice, before any data is written
    lmrt_progress_fn progress = nullptr;
    void *user = nullptr;
};

Status quantize_model(const QuantizeRequest &rq);

} // namespace lmrt
