// GgufWriter: writes GGUF v3 files from metadata and tensor descriptions
// (lmrt_gguf_kv_in / lmrt_gguf_tensor_in, see lmrt.h). Tensor values are
// produced and encoded chunk by chunk, so a multi-gigabyte synthetic model
// is written in bounded memory.
#pragma once

#include <string>

#include "../core/status.h"

namespace lmrt {

struct GgufWriteRequest {
    std::string path;
    uint32_t alignment = 32;
    const lmrt_gguf_kv_in *kvs = nullptr;
    uint64_t n_kvs = 0;
    const lmrt_gguf_tensor_in *tensors = nullptr;
    uint64_t n_tensors = 0;
    lmrt_progress_fn progress = nullptr;
    void *progress_user = nullptr;
};

Status gguf_write(const GgufWriteRequest &request);

} // namespace lmrt
