// Binding registration and the helpers every binding shares.
#pragma once

#include <napi.h>
#include <string>

#include "lmrt.h"

namespace lmrt_addon {

void register_gguf(Napi::Env env, Napi::Object exports);
void register_types(Napi::Env env, Napi::Object exports);
void register_tokenizer(Napi::Env env, Napi::Object exports);

// A JS Error carrying the engine's status code in `.code`; ts/native turns
// it into the matching LmrtError subclass.
Napi::Error make_error(Napi::Env env, const char *code, const std::string &message);
Napi::Error make_error(Napi::Env env, const lmrt_error &err);

} // namespace lmrt_addon
