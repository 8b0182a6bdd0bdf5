// Reads every byte the reader's accessors point at, so that a parse which
// "succeeded" over a corrupt file would trip AddressSanitizer here.
#pragma once

#include "lmrt.h"

namespace lmrt_test {

inline uint64_t walk_value(const lmrt_gguf *g, const lmrt_gguf_value &v, int depth = 0) {
    uint64_t sum = 0;
    if (v.type == LMRT_GGUF_STRING) {
        for (uint64_t i = 0; i < v.as.str.len; ++i) sum += static_cast<uint8_t>(v.as.str.data[i]);
    } else if (v.type == LMRT_GGUF_ARRAY) {
        for (uint64_t i = 0; i < v.as.array.count; ++i) {
            lmrt_gguf_value e;
            if (lmrt_gguf_array_get(g, &v, i, &e) == LMRT_OK && depth < 16) sum += walk_value(g, e, depth + 1);
        }
    } else {
        sum += v.as.u64;
    }
    return sum;
}

inline uint64_t walk_gguf(const lmrt_gguf *g) {
    uint64_t sum = 0;
    for (uint64_t i = 0; i < lmrt_gguf_n_kv(g); ++i) {
        lmrt_string key;
        lmrt_gguf_value v;
        lmrt_gguf_kv_get(g, i, &key, &v);
        for (uint64_t j = 0; j < key.len; ++j) sum += static_cast<uint8_t>(key.data[j]);
        sum += walk_value(g, v);
    }
    for (uint64_t i = 0; i < lmrt_gguf_n_tensors(g); ++i) {
        lmrt_gguf_tensor_info t;
        lmrt_gguf_tensor_get(g, i, &t);
        if (t.n_bytes > 0) {
            const auto *p = static_cast<const uint8_t *>(t.data);
            sum += p[0] + p[t.n_bytes - 1];
        }
    }
    return sum;
}

} // namespace lmrt_test
