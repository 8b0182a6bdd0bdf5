// The C API's status, type-table, quantisation and machine-measurement entry points: thin
// wrappers that validate arguments and convert Status into lmrt_error.
#include "lmrt.h"

#include <exception>
#include <new>

#include "../core/ggml_types.h"
#include "../core/memory_bandwidth.h"
#include "../core/quant.h"
#include "../core/status.h"

extern "C" const char *lmrt_status_code(lmrt_status status) {
    switch (status) {
    case LMRT_OK: return "OK";
    case LMRT_E_INVALID_ARGUMENT: return "E_INVALID_ARGUMENT";
    case LMRT_E_IO: return "E_IO";
    case LMRT_E_GGUF_INVALID: return "E_GGUF_INVALID";
    case LMRT_E_GGUF_UNSUPPORTED: return "E_GGUF_UNSUPPORTED";
    case LMRT_E_OUT_OF_MEMORY: return "E_OUT_OF_MEMORY";
    case LMRT_E_INTERNAL: return "E_INTERNAL";
    case LMRT_E_CANCELLED: return "E_CANCELLED";
    case LMRT_E_KV_FULL: return "E_KV_FULL";
    case LMRT_E_ARCH_UNSUPPORTED: return "E_ARCH_UNSUPPORTED";
    case LMRT_E_BACKEND_UNAVAILABLE: return "E_BACKEND_UNAVAILABLE";
    case LMRT_E_DEVICE: return "E_DEVICE";
    }
    return "E_INTERNAL";
}

extern "C" int lmrt_type_layout_get(uint32_t type, lmrt_type_layout *out) {
    const lmrt::TypeLayout *t = lmrt::find_type_layout(type);
    if (t == nullptr) return 0;
    if (out != nullptr) *out = lmrt_type_layout{t->name, t->block_size, t->block_bytes};
    return 1;
}

extern "C" int lmrt_type_can_encode(uint32_t type) { return lmrt::can_encode_type(type) ? 1 : 0; }

extern "C" lmrt_status lmrt_quantize_row(uint32_t type, const float *src, void *dst, uint64_t n,
                                         lmrt_error *err) {
    if ((src == nullptr || dst == nullptr) && n != 0) {
        return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "quantize_row: null buffer").to_c(err);
    }
    return lmrt::quantize_row(type, src, dst, n).to_c(err);
}

extern "C" lmrt_status lmrt_dequantize_row(uint32_t type, const void *src, float *dst, uint64_t n,
                                           lmrt_error *err) {
    if ((src == nullptr || dst == nullptr) && n != 0) {
        return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "dequantize_row: null buffer").to_c(err);
    }
    return lmrt::dequantize_row(type, src, dst, n).to_c(err);
}

extern "C" lmrt_status lmrt_measure_read_bandwidth(uint64_t bytes, uint32_t n_threads, uint32_t passes,
                                                   double *bytes_per_second, lmrt_error *err) {
    if (bytes_per_second == nullptr || bytes == 0 || n_threads == 0 || n_threads > 64 || passes == 0) {
        return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT,
                                   "measure_read_bandwidth: needs bytes > 0, 1 to 64 threads, passes > 0 and an output")
            .to_c(err);
    }
    try {
        *bytes_per_second = lmrt::measure_read_bandwidth(bytes, static_cast<int>(n_threads), static_cast<int>(passes));
    } catch (const std::bad_alloc &) {
        return lmrt::Status::error(LMRT_E_OUT_OF_MEMORY, "measure_read_bandwidth: cannot allocate %llu bytes",
                                   static_cast<unsigned long long>(bytes))
            .to_c(err);
    } catch (const std::exception &e) {
        return lmrt::Status::error(LMRT_E_INTERNAL, "measure_read_bandwidth: %s", e.what()).to_c(err);
    }
    return LMRT_OK;
}
