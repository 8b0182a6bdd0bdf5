#include <cstdlib>
#include <cstring>
#include <sys/mman.h>

#include <map>

#include "../core/ggml_types.h"
#include "../kernels/interleave.h"
#include "model.h"

namespace lmrt {

void InterleavedStorage::Free::operator()(uint8_t *p) const { std::free(p); }

namespace {

// Matrices are read whole every step: on 2 MiB pages (where the kernel
// offers them for the asking) the stream takes a TLB miss per 2 MiB instead
// of per 4 KiB; measured 3-7% faster decoding of a 1B Q4_0 model.
uint8_t *allocate_streamed(size_t bytes) {
    constexpr size_t kHugePage = size_t(2) << 20;
    const size_t alignment = bytes >= kHugePage ? kHugePage : 64;
    void *p = nullptr;
    if (posix_memalign(&p, alignment, bytes) != 0) return nullptr;
#if defined(MADV_HUGEPAGE)
    if (alignment == kHugePage) madvise(p, bytes / kHugePage * kHugePage, MADV_HUGEPAGE); // advice only: failure changes nothing
#endif
    return static_cast<uint8_t *>(p);
}

template <typename Fn>
void for_each_matrix(ModelWeights *w, Fn fn) {
    fn(w->output);
    for (LayerWeights &L : w->layers) {
        for (Tensor *t : {&L.wq, &L.wk, &L.wv, &L.wqkv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) fn(*t);
    }
}

} // namespace

Status interleave_weights(const GgufReader &gguf, ModelWeights *w) {
    // a matrix shared by several tensors (tied embeddings) is copied once
    std::map<const void *, const void *> copies;
    Status status = Status::ok();
    for_each_matrix(w, [&](Tensor &t) {
        if (!status.is_ok() || !t || t.interleaved || t.kernels == nullptr || t.kernels->gemm_interleaved == nullptr ||
            !kernels::can_interleave(t.type) || t.rows() < kernels::kInterleaveRows) {
            return;
        }
        auto found = copies.find(t.data);
        if (found == copies.end()) {
            const TypeLayout *layout = find_type_layout(t.type);
            const size_t plain = static_cast<size_t>(t.ne[0] / layout->block_size) * layout->block_bytes * static_cast<size_t>(t.rows());
            const size_t bytes = kernels::interleaved_bytes(t.type, t.ne[0], t.rows());
            uint8_t *copy = allocate_streamed(bytes);
            if (copy == nullptr) {
                status = Status::error(LMRT_E_OUT_OF_MEMORY, "out of memory interleaving a %zu-byte weight matrix", bytes);
                return;
            }
            kernels::interleave_rows(t.type, static_cast<const uint8_t *>(t.data), t.ne[0], t.rows(), copy);
            gguf.release_pages(t.data, plain);
            w->interleaved.buffers.emplace_back(copy);
            w->interleaved.bytes += bytes;
            found = copies.emplace(t.data, copy).first;
        }
        t.data = found->second;
        t.interleaved = true;
    });
    if (!status.is_ok()) return status;
    // the embedding table read through the output's copy
    const auto tied = copies.find(w->tok_embd.data);
    if (tied != copies.end()) {
        w->tok_embd.data = tied->second;
        w->tok_embd.interleaved = true;
    }
    return Status::ok();
}

} // namespace lmrt
