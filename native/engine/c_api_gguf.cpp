// The C API over GgufReader and gguf_write. Handles are heap objects owned
// by the caller; nothing here throws (allocation failure becomes
// LMRT_E_OUT_OF_MEMORY).
#include "lmrt.h"

#include <cstring>
#include <new>

#include "../gguf/gguf_writer.h"
#include "handles.h"


namespace {

lmrt_status out_of_memory(lmrt_error *err, const char *what) {
    return lmrt::Status::error(LMRT_E_OUT_OF_MEMORY, "out of memory while %s", what).to_c(err);
}

lmrt_status invalid(lmrt_error *err, const char *what) {
    return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "%s", what).to_c(err);
}

void fill_value(const lmrt::GgufValue &v, lmrt_gguf_value *out) {
    std::memset(out, 0, sizeof *out);
    out->type = static_cast<lmrt_gguf_value_type>(v.type);
    switch (v.type) {
    case LMRT_GGUF_STRING: out->as.str = lmrt_string{v.str.data(), v.str.size()}; break;
    case LMRT_GGUF_ARRAY:
        out->as.array.elem_type = static_cast<lmrt_gguf_value_type>(v.array->elem_type);
        out->as.array.count = v.array->count;
        out->as.array.data = v.array->packed;
        out->as.array.internal = v.array.get();
        break;
    case LMRT_GGUF_INT8:
    case LMRT_GGUF_INT16:
    case LMRT_GGUF_INT32:
    case LMRT_GGUF_INT64: out->as.i64 = v.scalar.i64; break;
    case LMRT_GGUF_FLOAT32:
    case LMRT_GGUF_FLOAT64: out->as.f64 = v.scalar.f64; break;
    default: out->as.u64 = v.scalar.u64; break;
    }
}

template <typename Open> lmrt_status open_with(lmrt_gguf **out, lmrt_error *err, Open open) {
    if (out == nullptr) return invalid(err, "lmrt_gguf_open: out is null");
    *out = nullptr;
    try {
        auto *g = new lmrt_gguf();
        lmrt::Status s = open(g->reader);
        if (!s.is_ok()) {
            delete g;
            return s.to_c(err);
        }
        *out = g;
        return LMRT_OK;
    } catch (const std::bad_alloc &) {
        return out_of_memory(err, "reading a GGUF file");
    } catch (...) {
        return lmrt::Status::error(LMRT_E_INTERNAL, "unexpected exception while reading a GGUF file").to_c(err);
    }
}

} // namespace

extern "C" {

lmrt_status lmrt_gguf_open(const char *path, lmrt_gguf **out, lmrt_error *err) {
    if (path == nullptr) return invalid(err, "lmrt_gguf_open: path is null");
    return open_with(out, err, [&](lmrt::GgufReader &r) { return r.open_file(path); });
}

lmrt_status lmrt_gguf_open_memory(const void *data, uint64_t size, const char *name, lmrt_gguf **out,
                                  lmrt_error *err) {
    if (data == nullptr && size != 0) return invalid(err, "lmrt_gguf_open_memory: data is null");
    return open_with(out, err, [&](lmrt::GgufReader &r) {
        return r.open_memory(static_cast<const uint8_t *>(data), size, name != nullptr ? name : "<memory>");
    });
}

void lmrt_gguf_free(lmrt_gguf *gguf) { delete gguf; }

uint32_t lmrt_gguf_version(const lmrt_gguf *g) { return g ? g->reader.version() : 0; }
uint32_t lmrt_gguf_alignment(const lmrt_gguf *g) { return g ? g->reader.alignment() : 0; }
uint64_t lmrt_gguf_data_offset(const lmrt_gguf *g) { return g ? g->reader.data_offset() : 0; }
uint64_t lmrt_gguf_file_size(const lmrt_gguf *g) { return g ? g->reader.size() : 0; }
uint64_t lmrt_gguf_n_kv(const lmrt_gguf *g) { return g ? g->reader.kvs().size() : 0; }
uint64_t lmrt_gguf_n_tensors(const lmrt_gguf *g) { return g ? g->reader.tensors().size() : 0; }

int64_t lmrt_gguf_find_kv(const lmrt_gguf *g, const char *key, uint64_t key_len) {
    if (g == nullptr || (key == nullptr && key_len != 0)) return -1;
    return g->reader.find_kv(std::string_view(key == nullptr ? "" : key, key_len));
}

lmrt_status lmrt_gguf_kv_get(const lmrt_gguf *g, uint64_t index, lmrt_string *key, lmrt_gguf_value *value) {
    if (g == nullptr || index >= g->reader.kvs().size()) return invalid(nullptr, "");
    const lmrt::GgufKv &kv = g->reader.kvs()[index];
    if (key != nullptr) *key = lmrt_string{kv.key.data(), kv.key.size()};
    if (value != nullptr) fill_value(kv.value, value);
    return LMRT_OK;
}

lmrt_status lmrt_gguf_array_get(const lmrt_gguf *g, const lmrt_gguf_value *array, uint64_t index,
                                lmrt_gguf_value *element) {
    if (g == nullptr || array == nullptr || element == nullptr || array->type != LMRT_GGUF_ARRAY ||
        array->as.array.internal == nullptr) {
        return LMRT_E_INVALID_ARGUMENT;
    }
    const auto *a = static_cast<const lmrt::GgufArray *>(array->as.array.internal);
    if (index >= a->count) return LMRT_E_INVALID_ARGUMENT;
    if (a->elem_type == LMRT_GGUF_STRING) {
        std::memset(element, 0, sizeof *element);
        element->type = LMRT_GGUF_STRING;
        element->as.str = lmrt_string{a->strings[index].data(), a->strings[index].size()};
        return LMRT_OK;
    }
    if (a->elem_type == LMRT_GGUF_ARRAY) {
        fill_value(a->nested[index], element);
        return LMRT_OK;
    }
    // numeric/bool: decode from the packed bytes
    const uint64_t size = lmrt::gguf_scalar_size(a->elem_type);
    lmrt::GgufValue v;
    v.type = a->elem_type;
    const uint8_t *p = a->packed + index * size;
    uint64_t raw = 0;
    std::memcpy(&raw, p, size);
    switch (a->elem_type) {
    case LMRT_GGUF_INT8: v.scalar.i64 = static_cast<int8_t>(raw); break;
    case LMRT_GGUF_INT16: v.scalar.i64 = static_cast<int16_t>(raw); break;
    case LMRT_GGUF_INT32: v.scalar.i64 = static_cast<int32_t>(raw); break;
    case LMRT_GGUF_INT64: v.scalar.i64 = static_cast<int64_t>(raw); break;
    case LMRT_GGUF_FLOAT32: {
        float f;
        std::memcpy(&f, p, 4);
        v.scalar.f64 = f;
        break;
    }
    case LMRT_GGUF_FLOAT64: std::memcpy(&v.scalar.f64, p, 8); break;
    case LMRT_GGUF_BOOL: v.scalar.u64 = raw != 0; break;
    default: v.scalar.u64 = raw; break;
    }
    fill_value(v, element);
    return LMRT_OK;
}

lmrt_status lmrt_gguf_tensor_get(const lmrt_gguf *g, uint64_t index, lmrt_gguf_tensor_info *info) {
    if (g == nullptr || info == nullptr || index >= g->reader.tensors().size()) return LMRT_E_INVALID_ARGUMENT;
    const lmrt::GgufTensor &t = g->reader.tensors()[index];
    info->name = lmrt_string{t.name.data(), t.name.size()};
    info->type = t.type;
    info->n_dims = t.n_dims;
    for (int d = 0; d < 4; ++d) info->ne[d] = t.ne[d];
    info->offset = t.offset;
    info->n_bytes = t.n_bytes;
    info->data = g->reader.bytes() + g->reader.data_offset() + t.offset;
    return LMRT_OK;
}

lmrt_status lmrt_gguf_write(const char *path, uint32_t alignment, const lmrt_gguf_kv_in *kvs, uint64_t n_kvs,
                            const lmrt_gguf_tensor_in *tensors, uint64_t n_tensors, lmrt_progress_fn progress,
                            void *progress_user, lmrt_error *err) {
    if (path == nullptr) return invalid(err, "lmrt_gguf_write: path is null");
    try {
        lmrt::GgufWriteRequest rq;
        rq.path = path;
        rq.alignment = alignment;
        rq.kvs = kvs;
        rq.n_kvs = n_kvs;
        rq.tensors = tensors;
        rq.n_tensors = n_tensors;
        rq.progress = progress;
        rq.progress_user = progress_user;
        return lmrt::gguf_write(rq).to_c(err);
    } catch (const std::bad_alloc &) {
        return out_of_memory(err, "writing a GGUF file");
    } catch (...) {
        return lmrt::Status::error(LMRT_E_INTERNAL, "unexpected exception while writing a GGUF file").to_c(err);
    }
}

} // extern "C"
