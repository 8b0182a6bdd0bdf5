// Direct access to kernel variants for the kernel tests and benchmarks.
#include <cinttypes>
#include <vector>

#include "../kernels/gelu_table.h"
#include "../kernels/interleave.h"
#include "../kernels/ref/ref.h"
#include "../kernels/registry.h"
#include "handles.h"

namespace {

lmrt::kernels::Variant to_variant(lmrt_kernel_variant v) {
    switch (v) {
    case LMRT_KERNEL_AVX2: return lmrt::kernels::Variant::kAvx2;
    case LMRT_KERNEL_AVX512: return lmrt::kernels::Variant::kAvx512;
    case LMRT_KERNEL_NEON: return lmrt::kernels::Variant::kNeon;
    case LMRT_KERNEL_NEON_DOTPROD: return lmrt::kernels::Variant::kNeonDotprod;
    default: return lmrt::kernels::Variant::kRef;
    }
}

} // namespace

extern "C" {

lmrt_kernel_variant lmrt_kernel_variant_chosen(void) { return static_cast<lmrt_kernel_variant>(lmrt::kernels::best_variant()); }

const char *lmrt_kernel_variant_name(lmrt_kernel_variant variant) { return lmrt::kernels::variant_name(to_variant(variant)); }

const char *lmrt_build_info(void) {
#if defined(__x86_64__)
#define LMRT_TARGET "x86_64"
#elif defined(__aarch64__)
#define LMRT_TARGET "aarch64"
#else
#define LMRT_TARGET "other"
#endif
#if defined(__clang__)
    return "clang " __clang_version__ ", " LMRT_TARGET;
#elif defined(__GNUC__)
    return "g++ " __VERSION__ ", " LMRT_TARGET;
#else
    return "unknown compiler, " LMRT_TARGET;
#endif
#undef LMRT_TARGET
}

int lmrt_kernel_variant_available(lmrt_kernel_variant variant) {
    return (variant == LMRT_KERNEL_REF || variant == LMRT_KERNEL_AVX2 || variant == LMRT_KERNEL_AVX512 || variant == LMRT_KERNEL_NEON ||
            variant == LMRT_KERNEL_NEON_DOTPROD) &&
           lmrt::kernels::variant_available(to_variant(variant));
}

lmrt_status lmrt_kernel_matmul(lmrt_kernel_variant variant, uint32_t weight_type, const void *w, uint64_t n_in, uint64_t n_out,
                               const float *x, uint64_t n_tokens, float *y, lmrt_error *err) {
    const lmrt::kernels::MatKernels *k = lmrt::kernels::mat_kernels(weight_type, to_variant(variant));
    if (k == nullptr) return lmrt::Status::error(LMRT_E_GGUF_UNSUPPORTED, "no kernels for type %u in this variant", weight_type).to_c(err);
    lmrt_type_layout layout;
    lmrt_type_layout_get(weight_type, &layout);
    if (w == nullptr || x == nullptr || y == nullptr || n_in % layout.block_size != 0) {
        return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "lmrt_kernel_matmul: bad arguments").to_c(err);
    }
    const size_t act_bytes = lmrt::kernels::act_row_bytes(k->act, static_cast<int64_t>(n_in));
    std::vector<uint8_t> act(act_bytes * n_tokens + 1);
    const size_t row_bytes = n_in / layout.block_size * layout.block_bytes;
    for (uint64_t t = 0; t < n_tokens; ++t) k->quantize(x + t * n_in, act.data() + t * act_bytes, static_cast<int64_t>(n_in));
    // the rows of one prompt, as llama.cpp sums a batch of them (one row alone: a decoded row)
    const std::vector<lmrt::kernels::RowOrder> orders(
        n_tokens, n_tokens >= 2 ? lmrt::kernels::RowOrder::kBatched : lmrt::kernels::RowOrder::kSingle);
    if (lmrt::kernels::use_gemm(*k, static_cast<int64_t>(n_tokens))) {
        std::vector<lmrt::kernels::PackedQ8Group> packed(lmrt::kernels::packed_q8_bytes(static_cast<int64_t>(n_in), static_cast<int64_t>(n_tokens)) /
                                                         sizeof(lmrt::kernels::PackedQ8Group));
        lmrt::kernels::pack_q8_0_rows(act.data(), act_bytes, static_cast<int64_t>(n_tokens), static_cast<int64_t>(n_in / 32), 0, static_cast<int64_t>(n_in / 32), packed.data());
        k->gemm(static_cast<int64_t>(n_in), static_cast<const uint8_t *>(w), row_bytes, static_cast<int64_t>(n_out), packed.data(),
                static_cast<int64_t>(n_tokens), y, static_cast<int64_t>(n_out));
        return LMRT_OK;
    }
    lmrt::kernels::matmul_rows(*k, static_cast<int64_t>(n_in), static_cast<const uint8_t *>(w), row_bytes, 0, static_cast<int64_t>(n_out),
                               act.data(), act_bytes, static_cast<int64_t>(n_tokens), orders.data(), y, static_cast<int64_t>(n_out));
    return LMRT_OK;
}

lmrt_status lmrt_kernel_matmul_interleaved(lmrt_kernel_variant variant, uint32_t weight_type, const void *w, uint64_t n_in,
                                           uint64_t n_out, const float *x, uint64_t n_tokens, float *y, lmrt_error *err) {
    const lmrt::kernels::MatKernels *k = lmrt::kernels::mat_kernels(weight_type, to_variant(variant));
    if (k == nullptr || k->gemm_interleaved == nullptr || !lmrt::kernels::can_interleave(weight_type)) {
        return lmrt::Status::error(LMRT_E_GGUF_UNSUPPORTED, "no interleaved product for type %u in this variant", weight_type).to_c(err);
    }
    lmrt_type_layout layout;
    lmrt_type_layout_get(weight_type, &layout);
    if (w == nullptr || x == nullptr || y == nullptr || n_in % layout.block_size != 0) {
        return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "lmrt_kernel_matmul_interleaved: bad arguments").to_c(err);
    }
    const auto n = static_cast<int64_t>(n_in), O = static_cast<int64_t>(n_out), T = static_cast<int64_t>(n_tokens), nb = n / 32;
    const size_t row_bytes = n_in / layout.block_size * layout.block_bytes, act_bytes = lmrt::kernels::act_row_bytes(k->act, n);
    std::vector<uint8_t> interleaved(lmrt::kernels::interleaved_bytes(weight_type, n, O)), act(act_bytes * n_tokens + 1);
    lmrt::kernels::interleave_rows(weight_type, static_cast<const uint8_t *>(w), n, O, interleaved.data());
    std::vector<lmrt::kernels::Q8BlockInfo> info(static_cast<size_t>(nb * T));
    for (int64_t t = 0; t < T; ++t) {
        k->quantize(x + t * n, act.data() + t * act_bytes, n);
        if (k->act == lmrt::kernels::ActType::kQ8_0) lmrt::kernels::q8_0_block_info(act.data() + t * act_bytes, nb, info.data() + t * nb);
    }
    // as lmrt_kernel_matmul: the rows of one prompt (one row alone: a decoded row)
    const std::vector<lmrt::kernels::RowOrder> orders(n_tokens, T >= 2 ? lmrt::kernels::RowOrder::kBatched : lmrt::kernels::RowOrder::kSingle);
    lmrt::kernels::matmul_interleaved(*k, weight_type, n, interleaved.data(), row_bytes, O, 0, O / lmrt::kernels::kInterleaveRows, true,
                                      act.data(), act_bytes, info.data(), T, orders.data(), y, O);
    return LMRT_OK;
}

lmrt_status lmrt_kernel_encode_activations(lmrt_kernel_variant variant, uint32_t weight_type, const float *x, uint64_t n, void *dst,
                                           uint64_t dst_bytes, uint64_t *written, lmrt_error *err) {
    const lmrt::kernels::MatKernels *k = lmrt::kernels::mat_kernels(weight_type, to_variant(variant));
    if (k == nullptr) return lmrt::Status::error(LMRT_E_GGUF_UNSUPPORTED, "no kernels for type %u in this variant", weight_type).to_c(err);
    lmrt_type_layout layout;
    lmrt_type_layout_get(weight_type, &layout);
    const size_t bytes = lmrt::kernels::act_row_bytes(k->act, static_cast<int64_t>(n));
    if (x == nullptr || dst == nullptr || written == nullptr || n % layout.block_size != 0 || n > (uint64_t{1} << 40) || dst_bytes < bytes) {
        return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "lmrt_kernel_encode_activations: bad arguments").to_c(err);
    }
    k->quantize(x, dst, static_cast<int64_t>(n));
    *written = bytes;
    return LMRT_OK;
}

lmrt_status lmrt_kernel_attention(lmrt_kernel_variant variant, uint32_t kv_type, const float *q, const void *k, const void *v,
                                  uint32_t block_size, uint32_t first, uint32_t last, uint32_t n_head, uint32_t n_head_kv,
                                  uint32_t head_dim, float scale, float *out, lmrt_error *err) {
    const lmrt::kernels::AttentionFn fn = lmrt::kernels::attention_kernel(to_variant(variant));
    if (fn == nullptr) return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "kernel variant unavailable").to_c(err);
    lmrt::KvType type;
    if (!lmrt::kv_type_from_id(kv_type, &type) || (type == lmrt::KvType::kQ8_0 && head_dim % 32 != 0)) {
        return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "lmrt_kernel_attention: KV type %u unsupported for head_dim %u", kv_type, head_dim)
            .to_c(err);
    }
    if (q == nullptr || k == nullptr || v == nullptr || out == nullptr || block_size == 0 || first > last || n_head_kv == 0 ||
        n_head % n_head_kv != 0 || head_dim == 0 || head_dim > 512) {
        return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "lmrt_kernel_attention: bad arguments").to_c(err);
    }
    const size_t block_bytes = static_cast<size_t>(block_size) * n_head_kv * lmrt::kv_row_bytes(type, static_cast<int>(head_dim));
    const uint32_t blocks = last / block_size + 1;
    std::vector<const uint8_t *> kb(blocks), vb(blocks);
    for (uint32_t b = 0; b < blocks; ++b) {
        kb[b] = static_cast<const uint8_t *>(k) + b * block_bytes;
        vb[b] = static_cast<const uint8_t *>(v) + b * block_bytes;
    }
    std::vector<float> scratch(last - first + 1);
    lmrt::kernels::AttentionArgs a;
    a.q = q;
    a.k_blocks = kb.data();
    a.v_blocks = vb.data();
    a.kv_type = type;
    a.block_size = static_cast<int>(block_size);
    a.first = static_cast<int>(first);
    a.last = static_cast<int>(last);
    a.head_begin = 0;
    a.head_end = static_cast<int>(n_head);
    a.n_head = static_cast<int>(n_head);
    a.n_head_kv = static_cast<int>(n_head_kv);
    a.head_dim = static_cast<int>(head_dim);
    a.scale = scale;
    a.out = out;
    a.scratch = scratch.data();
    fn(a);
    return LMRT_OK;
}

lmrt_status lmrt_kernel_swiglu(lmrt_kernel_variant variant, const float *gate, const float *up, float *y, uint64_t n,
                               lmrt_error *err) {
    const lmrt::kernels::SwigluFn fn = lmrt::kernels::swiglu_kernel(to_variant(variant));
    if (fn == nullptr) return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "kernel variant unavailable").to_c(err);
    if ((n > 0 && (gate == nullptr || up == nullptr || y == nullptr)) || n > static_cast<uint64_t>(INT64_MAX)) {
        return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "lmrt_kernel_swiglu: bad arguments").to_c(err);
    }
    fn(gate, up, y, static_cast<int64_t>(n));
    return LMRT_OK;
}

lmrt_status lmrt_kernel_gelu(lmrt_kernel_variant variant, float *x, uint64_t n, lmrt_error *err) {
    if ((n > 0 && x == nullptr) || n > static_cast<uint64_t>(INT64_MAX)) {
        return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "lmrt_kernel_gelu: bad arguments").to_c(err);
    }
    if (variant == LMRT_KERNEL_REF) lmrt::kernels::ref::gelu(x, static_cast<int64_t>(n));
    else lmrt::kernels::gelu_by_table(x, static_cast<int64_t>(n));
    return LMRT_OK;
}

} // extern "C"
