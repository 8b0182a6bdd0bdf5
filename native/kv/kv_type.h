// How the KV cache stores each head's key and value rows: f16 (default),
// bf16, or q8_0 blocks of 32 (a scale and 32 signed bytes: about half the
// memory of f16, for a little precision).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lmrt {

enum class KvType : uint8_t { kF16, kBF16, kQ8_0 };

// The ggml type id of a KV type (LMRT_TYPE_F16, ...), and back: false when
// the id is not one the cache can store.
uint32_t kv_type_id(KvType t);
bool kv_type_from_id(uint32_t id, KvType *out);
const char *kv_type_name(KvType t);

// Bytes of a row of n values (q8_0: n a multiple of 32). Inline: attention
// asks for every position it reads.
inline size_t kv_row_bytes(KvType t, int n) {
    const size_t count = static_cast<size_t>(n);
    return t == KvType::kQ8_0 ? count / 32 * 34 : count * 2;
}

// Encodes n floats into a row of the type: f16 and bf16 round to nearest
// even; q8_0 as llama.cpp copies activations into a q8_0 cache.
void kv_encode_row(KvType t, const float *src, uint8_t *dst, int n);

} // namespace lmrt
