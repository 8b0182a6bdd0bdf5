// The N-API module: registers the bindings. The only code that sees napi.h
// lives in this folder; it talks to the engine through lmrt.h alone.
#include <napi.h>

#include "bindings.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
    env.SetInstanceData(new lmrt_addon::AddonData());
    lmrt_addon::register_gguf(env, exports);
    lmrt_addon::register_types(env, exports);
    lmrt_addon::register_tokenizer(env, exports);
    lmrt_addon::register_model(env, exports);
    lmrt_addon::register_system(env, exports);
    lmrt_addon::register_quantize(env, exports);
    return exports;
}

} // namespace

NODE_API_MODULE(lmrt, init)
