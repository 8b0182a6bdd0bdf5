// GgufWriter: writes GGUF v3 files from metadata and tensor descriptions
// (lmrt_gguf_kv_in / lmrt_gguf_tensor_in, see lmrt.h). Tensor values are
// produced (or decoded) and encoded chunk by chunk, n_threads chunks at a
// time, so a multi-gigabyte model is written in bounded memory.
#pragma once

#include <functional>
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
    // threads encoding chunks side by side (each holding one chunk's values)
    int n_threads = 1;
    // called with each range of a tensor's source `data` once what it
    // encodes is in the file (the range may then be dropped)
    std::function<void(const void *, uint64_t)> source_written;
};

Status gguf_write(const GgufWriteRequest &request);

} // namespace lmrt
