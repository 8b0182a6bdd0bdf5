// GGUF bindings: ggufInspect (parse off the JS thread, convert on it) and
// ggufWrite (convert on the JS thread, write off it, report progress).
#include <cmath>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "progress_worker.h"

namespace lmrt_addon {

namespace {

struct GgufDeleter {
    void operator()(lmrt_gguf *g) const { lmrt_gguf_free(g); }
};
using GgufPtr = std::unique_ptr<lmrt_gguf, GgufDeleter>;

// ----------------------------------------------------------------- inspect

template <typename TypedArray, typename Elem>
Napi::Value packed_to_typed(Napi::Env env, const void *data, uint64_t count) {
    TypedArray arr = TypedArray::New(env, static_cast<size_t>(count));
    if (count != 0) std::memcpy(arr.Data(), data, static_cast<size_t>(count) * sizeof(Elem));
    return arr;
}

Napi::Value scalar_to_js(Napi::Env env, const lmrt_gguf_value &v) {
    switch (v.type) {
    case LMRT_GGUF_UINT64: return Napi::BigInt::New(env, v.as.u64);
    case LMRT_GGUF_INT64: return Napi::BigInt::New(env, v.as.i64);
    case LMRT_GGUF_INT8:
    case LMRT_GGUF_INT16:
    case LMRT_GGUF_INT32: return Napi::Number::New(env, static_cast<double>(v.as.i64));
    case LMRT_GGUF_FLOAT32:
    case LMRT_GGUF_FLOAT64: return Napi::Number::New(env, v.as.f64);
    case LMRT_GGUF_BOOL: return Napi::Boolean::New(env, v.as.u64 != 0);
    case LMRT_GGUF_STRING:
        return Napi::String::New(env, v.as.str.data, static_cast<size_t>(v.as.str.len));
    default: return Napi::Number::New(env, static_cast<double>(v.as.u64));
    }
}

Napi::Value value_to_js(Napi::Env env, const lmrt_gguf *g, const lmrt_gguf_value &v);

// An array becomes {elemType, items}: a typed array for numbers, an Array
// of booleans, strings or nested {elemType, items}.
Napi::Value array_to_js(Napi::Env env, const lmrt_gguf *g, const lmrt_gguf_value &v) {
    const auto &a = v.as.array;
    Napi::Value items;
    switch (a.elem_type) {
    case LMRT_GGUF_UINT8: items = packed_to_typed<Napi::Uint8Array, uint8_t>(env, a.data, a.count); break;
    case LMRT_GGUF_INT8: items = packed_to_typed<Napi::Int8Array, int8_t>(env, a.data, a.count); break;
    case LMRT_GGUF_UINT16: items = packed_to_typed<Napi::Uint16Array, uint16_t>(env, a.data, a.count); break;
    case LMRT_GGUF_INT16: items = packed_to_typed<Napi::Int16Array, int16_t>(env, a.data, a.count); break;
    case LMRT_GGUF_UINT32: items = packed_to_typed<Napi::Uint32Array, uint32_t>(env, a.data, a.count); break;
    case LMRT_GGUF_INT32: items = packed_to_typed<Napi::Int32Array, int32_t>(env, a.data, a.count); break;
    case LMRT_GGUF_FLOAT32: items = packed_to_typed<Napi::Float32Array, float>(env, a.data, a.count); break;
    case LMRT_GGUF_FLOAT64: items = packed_to_typed<Napi::Float64Array, double>(env, a.data, a.count); break;
    case LMRT_GGUF_UINT64: items = packed_to_typed<Napi::BigUint64Array, uint64_t>(env, a.data, a.count); break;
    case LMRT_GGUF_INT64: items = packed_to_typed<Napi::BigInt64Array, int64_t>(env, a.data, a.count); break;
    default: {
        Napi::Array arr = Napi::Array::New(env, static_cast<size_t>(a.count));
        for (uint64_t i = 0; i < a.count; ++i) {
            lmrt_gguf_value elem;
            if (lmrt_gguf_array_get(g, &v, i, &elem) != LMRT_OK) break;
            arr.Set(static_cast<uint32_t>(i), value_to_js(env, g, elem));
        }
        items = arr;
    }
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("elemType", static_cast<double>(a.elem_type));
    o.Set("items", items);
    return o;
}

Napi::Value value_to_js(Napi::Env env, const lmrt_gguf *g, const lmrt_gguf_value &v) {
    return v.type == LMRT_GGUF_ARRAY ? array_to_js(env, g, v) : scalar_to_js(env, v);
}

Napi::Object gguf_to_js(Napi::Env env, const lmrt_gguf *g) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("version", lmrt_gguf_version(g));
    o.Set("alignment", lmrt_gguf_alignment(g));
    o.Set("dataOffset", static_cast<double>(lmrt_gguf_data_offset(g)));
    o.Set("fileSize", static_cast<double>(lmrt_gguf_file_size(g)));

    const uint64_t n_kv = lmrt_gguf_n_kv(g);
    Napi::Array kvs = Napi::Array::New(env, static_cast<size_t>(n_kv));
    for (uint64_t i = 0; i < n_kv; ++i) {
        lmrt_string key;
        lmrt_gguf_value value;
        lmrt_gguf_kv_get(g, i, &key, &value);
        Napi::Array kv = Napi::Array::New(env, 3);
        kv.Set(0u, Napi::String::New(env, key.data, static_cast<size_t>(key.len)));
        kv.Set(1u, static_cast<double>(value.type));
        kv.Set(2u, value_to_js(env, g, value));
        kvs.Set(static_cast<uint32_t>(i), kv);
    }
    o.Set("metadata", kvs);

    const uint64_t n_tensors = lmrt_gguf_n_tensors(g);
    Napi::Array tensors = Napi::Array::New(env, static_cast<size_t>(n_tensors));
    for (uint64_t i = 0; i < n_tensors; ++i) {
        lmrt_gguf_tensor_info t;
        lmrt_gguf_tensor_get(g, i, &t);
        Napi::Object to = Napi::Object::New(env);
        to.Set("name", Napi::String::New(env, t.name.data, static_cast<size_t>(t.name.len)));
        to.Set("type", t.type);
        Napi::Array shape = Napi::Array::New(env, t.n_dims);
        for (uint32_t d = 0; d < t.n_dims; ++d) shape.Set(d, static_cast<double>(t.ne[d]));
        to.Set("shape", shape);
        to.Set("offset", static_cast<double>(t.offset));
        to.Set("byteLength", static_cast<double>(t.n_bytes));
        tensors.Set(static_cast<uint32_t>(i), to);
    }
    o.Set("tensors", tensors);
    return o;
}

class InspectWorker : public Napi::AsyncWorker {
  public:
    InspectWorker(Napi::Env env, std::string path, Napi::Uint8Array buffer)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)) {
        if (!buffer.IsEmpty()) {
            buffer_ref_ = Napi::Persistent(buffer.As<Napi::Object>());
            data_ = buffer.Data();
            size_ = buffer.ByteLength();
        }
    }

    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        lmrt_gguf *g = nullptr;
        const lmrt_status s = buffer_ref_.IsEmpty() ? lmrt_gguf_open(path_.c_str(), &g, &err_)
                                                    : lmrt_gguf_open_memory(data_, size_, path_.c_str(), &g, &err_);
        if (s != LMRT_OK) {
            err_.status = s;
            failed_ = true;
            return;
        }
        gguf_.reset(g);
    }

    void OnOK() override {
        Napi::Env env = Env();
        if (failed_) {
            deferred_.Reject(make_error(env, err_).Value());
            return;
        }
        deferred_.Resolve(gguf_to_js(env, gguf_.get()));
        gguf_.reset();
    }

    void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

  private:
    Napi::Promise::Deferred deferred_;
    std::string path_;
    Napi::ObjectReference buffer_ref_;
    const void *data_ = nullptr;
    uint64_t size_ = 0;
    GgufPtr gguf_;
    lmrt_error err_{};
    bool failed_ = false;
};

// ggufInspect(path: string, buffer?: Uint8Array): Promise<RawGguf>.
// With a buffer, `path` only names it in error messages.
Napi::Value gguf_inspect(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
        throw make_error(env, "E_INVALID_ARGUMENT", "ggufInspect: path must be a string");
    }
    Napi::Uint8Array buffer;
    if (info.Length() > 1 && !info[1].IsUndefined()) {
        if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
            throw make_error(env, "E_INVALID_ARGUMENT", "ggufInspect: buffer must be a Uint8Array");
        }
        buffer = info[1].As<Napi::Uint8Array>();
    }
    auto *worker = new InspectWorker(env, info[0].As<Napi::String>().Utf8Value(), buffer);
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
}

// ------------------------------------------------------------------- write

// Owns every byte the C structures point at while the worker runs.
struct WriteStorage {
    std::deque<std::string> strings;
    std::deque<std::vector<lmrt_string>> string_lists;
    std::deque<std::vector<lmrt_gguf_value_in>> value_lists;
    std::deque<std::vector<uint8_t>> byte_lists;
    std::vector<lmrt_gguf_kv_in> kvs;
    std::vector<lmrt_gguf_tensor_in> tensors;
    std::vector<Napi::ObjectReference> buffers; // JS typed arrays kept alive

    lmrt_string keep(std::string s) {
        strings.push_back(std::move(s));
        return lmrt_string{strings.back().data(), strings.back().size()};
    }
};

uint64_t to_u64(Napi::Env env, Napi::Value v, const std::string &key) {
    if (v.IsBigInt()) {
        bool lossless;
        const uint64_t u = v.As<Napi::BigInt>().Uint64Value(&lossless);
        if (!lossless) throw make_error(env, "E_INVALID_ARGUMENT", "metadata '" + key + "': value out of range");
        return u;
    }
    if (!v.IsNumber()) throw make_error(env, "E_INVALID_ARGUMENT", "metadata '" + key + "': expected a number");
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 0 && d < 18446744073709551616.0) || std::floor(d) != d) {
        throw make_error(env, "E_INVALID_ARGUMENT", "metadata '" + key + "': expected a non-negative integer");
    }
    return static_cast<uint64_t>(d);
}

int64_t to_i64(Napi::Env env, Napi::Value v, const std::string &key) {
    if (v.IsBigInt()) {
        bool lossless;
        const int64_t i = v.As<Napi::BigInt>().Int64Value(&lossless);
        if (!lossless) throw make_error(env, "E_INVALID_ARGUMENT", "metadata '" + key + "': value out of range");
        return i;
    }
    if (!v.IsNumber()) throw make_error(env, "E_INVALID_ARGUMENT", "metadata '" + key + "': expected a number");
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || std::floor(d) != d) {
        throw make_error(env, "E_INVALID_ARGUMENT", "metadata '" + key + "': expected an integer");
    }
    return static_cast<int64_t>(d);
}

lmrt_gguf_value_in value_from_js(Napi::Env env, WriteStorage &st, uint32_t type, Napi::Value v, const std::string &key);

void array_from_js(Napi::Env env, WriteStorage &st, Napi::Value v, const std::string &key, lmrt_gguf_value_in *out) {
    if (!v.IsObject()) throw make_error(env, "E_INVALID_ARGUMENT", "metadata '" + key + "': array must be {elemType, items}");
    Napi::Object o = v.As<Napi::Object>();
    const uint32_t et = o.Get("elemType").ToNumber().Uint32Value();
    Napi::Value items = o.Get("items");
    out->type = LMRT_GGUF_ARRAY;
    out->as.array.elem_type = static_cast<lmrt_gguf_value_type>(et);
    if (items.IsTypedArray()) {
        Napi::TypedArray ta = items.As<Napi::TypedArray>();
        st.buffers.push_back(Napi::Persistent(items.As<Napi::Object>()));
        out->as.array.count = ta.ElementLength();
        out->as.array.data = static_cast<const uint8_t *>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
        return;
    }
    if (!items.IsArray()) throw make_error(env, "E_INVALID_ARGUMENT", "metadata '" + key + "': items must be an array");
    Napi::Array arr = items.As<Napi::Array>();
    const uint32_t n = arr.Length();
    out->as.array.count = n;
    if (et == LMRT_GGUF_STRING) {
        st.string_lists.emplace_back(n);
        auto &list = st.string_lists.back();
        for (uint32_t i = 0; i < n; ++i) {
            Napi::Value s = arr.Get(i);
            if (!s.IsString()) throw make_error(env, "E_INVALID_ARGUMENT", "metadata '" + key + "': expected strings");
            list[i] = st.keep(s.As<Napi::String>().Utf8Value());
        }
        out->as.array.data = list.data();
    } else if (et == LMRT_GGUF_ARRAY) {
        st.value_lists.emplace_back(n);
        auto &list = st.value_lists.back();
        for (uint32_t i = 0; i < n; ++i) array_from_js(env, st, arr.Get(i), key, &list[i]);
        out->as.array.data = list.data();
    } else {
        // plain JS numbers/booleans: pack them through a scalar conversion each
        const uint64_t size = et == LMRT_GGUF_BOOL || et <= LMRT_GGUF_INT8 ? 1
                              : et <= LMRT_GGUF_INT16                    ? 2
                              : et <= LMRT_GGUF_FLOAT32                  ? 4
                                                                         : 8;
        st.byte_lists.emplace_back(n * size);
        auto &bytes = st.byte_lists.back();
        for (uint32_t i = 0; i < n; ++i) {
            lmrt_gguf_value_in e = value_from_js(env, st, et, arr.Get(i), key);
            uint8_t *dst = bytes.data() + i * size;
            if (et == LMRT_GGUF_FLOAT32) {
                const float f = static_cast<float>(e.as.f64);
                std::memcpy(dst, &f, 4);
            } else {
                std::memcpy(dst, &e.as.u64, size); // little-endian: low bytes first
            }
        }
        out->as.array.data = bytes.data();
    }
}

lmrt_gguf_value_in value_from_js(Napi::Env env, WriteStorage &st, uint32_t type, Napi::Value v, const std::string &key) {
    lmrt_gguf_value_in out;
    std::memset(&out, 0, sizeof out);
    out.type = static_cast<lmrt_gguf_value_type>(type);
    switch (type) {
    case LMRT_GGUF_UINT8:
    case LMRT_GGUF_UINT16:
    case LMRT_GGUF_UINT32:
    case LMRT_GGUF_UINT64: out.as.u64 = to_u64(env, v, key); break;
    case LMRT_GGUF_INT8:
    case LMRT_GGUF_INT16:
    case LMRT_GGUF_INT32:
    case LMRT_GGUF_INT64: out.as.i64 = to_i64(env, v, key); break;
    case LMRT_GGUF_FLOAT32:
    case LMRT_GGUF_FLOAT64:
        if (!v.IsNumber()) throw make_error(env, "E_INVALID_ARGUMENT", "metadata '" + key + "': expected a number");
        out.as.f64 = v.As<Napi::Number>().DoubleValue();
        break;
    case LMRT_GGUF_BOOL:
        if (!v.IsBoolean()) throw make_error(env, "E_INVALID_ARGUMENT", "metadata '" + key + "': expected a boolean");
        out.as.u64 = v.As<Napi::Boolean>().Value() ? 1 : 0;
        break;
    case LMRT_GGUF_STRING:
        if (!v.IsString()) throw make_error(env, "E_INVALID_ARGUMENT", "metadata '" + key + "': expected a string");
        out.as.str = st.keep(v.As<Napi::String>().Utf8Value());
        break;
    case LMRT_GGUF_ARRAY: array_from_js(env, st, v, key, &out); break;
    default: throw make_error(env, "E_INVALID_ARGUMENT", "metadata '" + key + "': unknown value type");
    }
    return out;
}

void tensor_from_js(Napi::Env env, WriteStorage &st, Napi::Object o, lmrt_gguf_tensor_in *t) {
    std::memset(t, 0, sizeof *t);
    t->name = st.keep(o.Get("name").ToString().Utf8Value());
    t->type = o.Get("type").ToNumber().Uint32Value();
    Napi::Value shape_v = o.Get("shape");
    if (!shape_v.IsArray()) throw make_error(env, "E_INVALID_ARGUMENT", "tensor shape must be an array");
    Napi::Array shape = shape_v.As<Napi::Array>();
    t->n_dims = shape.Length();
    for (uint32_t d = 0; d < 4; ++d) t->ne[d] = 1;
    for (uint32_t d = 0; d < shape.Length() && d < 4; ++d) {
        const double v = shape.Get(d).ToNumber().DoubleValue();
        t->ne[d] = v >= 0 && v < 9.007199254740992e15 ? static_cast<uint64_t>(v) : 0;
    }
    t->source = static_cast<lmrt_tensor_source>(o.Get("source").ToNumber().Int32Value());
    t->scale = o.Get("scale").IsNumber() ? o.Get("scale").ToNumber().FloatValue() : 0.0f;
    Napi::Value seed = o.Get("seed");
    if (seed.IsBigInt()) {
        bool lossless;
        t->seed = seed.As<Napi::BigInt>().Uint64Value(&lossless);
    } else if (seed.IsNumber()) {
        t->seed = static_cast<uint64_t>(seed.ToNumber().Int64Value());
    }
    Napi::Value data = o.Get("data");
    if (data.IsTypedArray()) {
        Napi::TypedArray ta = data.As<Napi::TypedArray>();
        st.buffers.push_back(Napi::Persistent(data.As<Napi::Object>()));
        t->data = static_cast<const uint8_t *>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
        t->data_bytes = ta.ByteLength();
    }
}

class WriteWorker : public ProgressWorker {
  public:
    WriteWorker(Napi::Env env, std::string path, uint32_t alignment, std::unique_ptr<WriteStorage> storage, Napi::Function on_progress)
        : ProgressWorker(env, on_progress), path_(std::move(path)), alignment_(alignment), storage_(std::move(storage)) {}

  private:
    lmrt_status run(lmrt_progress_fn progress, void *user, lmrt_error *err) override {
        return lmrt_gguf_write(path_.c_str(), alignment_, storage_->kvs.data(), storage_->kvs.size(), storage_->tensors.data(),
                               storage_->tensors.size(), progress, user, err);
    }
    Napi::Value result(Napi::Env env) override {
        storage_.reset();
        return env.Undefined();
    }

    std::string path_;
    uint32_t alignment_;
    std::unique_ptr<WriteStorage> storage_;
};

// ggufWrite(path, alignment, kvs: [key, type, value][], tensors: RawTensorIn[],
//           onProgress?: (done, total) => void): Promise<void>
Napi::Value gguf_write(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsArray() || !info[3].IsArray()) {
        throw make_error(env, "E_INVALID_ARGUMENT", "ggufWrite(path, alignment, kvs, tensors, onProgress?)");
    }
    auto storage = std::make_unique<WriteStorage>();
    Napi::Array kvs = info[2].As<Napi::Array>();
    storage->kvs.resize(kvs.Length());
    for (uint32_t i = 0; i < kvs.Length(); ++i) {
        Napi::Value e = kvs.Get(i);
        if (!e.IsArray() || e.As<Napi::Array>().Length() != 3) {
            throw make_error(env, "E_INVALID_ARGUMENT", "ggufWrite: each metadata entry must be [key, type, value]");
        }
        Napi::Array kv = e.As<Napi::Array>();
        std::string key = kv.Get(0u).ToString().Utf8Value();
        storage->kvs[i].key = storage->keep(key);
        storage->kvs[i].value = value_from_js(env, *storage, kv.Get(1u).ToNumber().Uint32Value(), kv.Get(2u), key);
    }
    Napi::Array tensors = info[3].As<Napi::Array>();
    storage->tensors.resize(tensors.Length());
    for (uint32_t i = 0; i < tensors.Length(); ++i) {
        Napi::Value t = tensors.Get(i);
        if (!t.IsObject()) throw make_error(env, "E_INVALID_ARGUMENT", "ggufWrite: each tensor must be an object");
        tensor_from_js(env, *storage, t.As<Napi::Object>(), &storage->tensors[i]);
    }
    Napi::Function on_progress;
    if (info.Length() > 4 && info[4].IsFunction()) on_progress = info[4].As<Napi::Function>();
    return (new WriteWorker(env, info[0].As<Napi::String>().Utf8Value(), info[1].ToNumber().Uint32Value(), std::move(storage), on_progress))
        ->start();
}

} // namespace

void register_gguf(Napi::Env env, Napi::Object exports) {
    exports.Set("ggufInspect", Napi::Function::New(env, gguf_inspect, "ggufInspect"));
    exports.Set("ggufWrite", Napi::Function::New(env, gguf_write, "ggufWrite"));
}

} // namespace lmrt_addon
