// Static tables the TS layer needs: the GGML type list.
#include "bindings.h"

namespace lmrt_addon {

namespace {

Napi::Value type_layouts(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    uint32_t n = 0;
    for (uint32_t id = 0; id < 64; ++id) {
        lmrt_type_layout layout;
        if (!lmrt_type_layout_get(id, &layout)) continue;
        Napi::Object o = Napi::Object::New(env);
        o.Set("id", id);
        o.Set("name", layout.name);
        o.Set("blockSize", layout.block_size);
        o.Set("blockBytes", layout.block_bytes);
        o.Set("canEncode", lmrt_type_can_encode(id) != 0);
        out.Set(n++, o);
    }
    return out;
}

} // namespace

Napi::Error make_error(Napi::Env env, const char *code, const std::string &message) {
    Napi::Error e = Napi::Error::New(env, message);
    e.Set("code", Napi::String::New(env, code));
    return e;
}

Napi::Error make_error(Napi::Env env, const lmrt_error &err) {
    return make_error(env, lmrt_status_code(err.status), err.message);
}

void register_types(Napi::Env env, Napi::Object exports) {
    exports.Set("typeLayouts", Napi::Function::New(env, type_layouts, "typeLayouts"));
}

} // namespace lmrt_addon
