// Binding registration and the helpers every binding shares.
#pragma once

#include <napi.h>
#include <string>

#include "lmrt.h"

namespace lmrt_addon {

void register_gguf(Napi::Env env, Napi::Object exports);
void register_types(Napi::Env env, Napi::Object exports);
void register_tokenizer(Napi::Env env, Napi::Object exports);
void register_model(Napi::Env env, Napi::Object exports);
void register_system(Napi::Env env, Napi::Object exports);
void register_quantize(Napi::Env env, Napi::Object exports);

// Per-environment state (napi instance data): the wrapped classes.
struct AddonData {
    Napi::FunctionReference tokenizer_class, model_class, context_class;
};

inline AddonData &addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

// Something that lends native memory to other handles (a model to its
// contexts and its tokenizer): it is freed only after its own dispose() and
// the release() of every borrower.
class Lender {
  public:
    virtual void retain() = 0;
    virtual void release() = 0;

  protected:
    ~Lender() = default;
};

// A NativeTokenizer over a tokenizer that `lender` owns; `owner` is the
// lender's JS object, kept alive meanwhile.
Napi::Object borrowed_tokenizer(Napi::Env env, const lmrt_tokenizer *tokenizer, Napi::Object owner, Lender *lender);

// A JS Error carrying the engine's status code in `.code`; ts/native turns
// it into the matching LmrtError subclass.
Napi::Error make_error(Napi::Env env, const char *code, const std::string &message);
Napi::Error make_error(Napi::Env env, const lmrt_error &err);

} // namespace lmrt_addon
