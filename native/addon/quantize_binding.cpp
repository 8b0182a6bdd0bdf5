// quantizeModel(in, out, preset, threads, onProgress?): Promise<tensor reports>,
// off the JS thread.
#include <string>
#include <vector>

#include "bindings.h"
#include "progress_worker.h"

namespace lmrt_addon {

namespace {

struct TensorReport {
    std::string name;
    lmrt_quantized_tensor t;
};

class QuantizeWorker : public ProgressWorker {
  public:
    QuantizeWorker(Napi::Env env, std::string in, std::string out, lmrt_quantize_params params, Napi::Function on_progress)
        : ProgressWorker(env, on_progress), in_(std::move(in)), out_(std::move(out)), params_(params) {}

  private:
    lmrt_status run(lmrt_progress_fn progress, void *user, lmrt_error *err) override {
        return lmrt_quantize_model(in_.c_str(), out_.c_str(), &params_, &QuantizeWorker::plan, progress, user, err);
    }

    Napi::Value result(Napi::Env env) override {
        Napi::Array out = Napi::Array::New(env, tensors_.size());
        for (size_t i = 0; i < tensors_.size(); ++i) {
            const lmrt_quantized_tensor &t = tensors_[i].t;
            Napi::Object o = Napi::Object::New(env);
            o.Set("name", tensors_[i].name);
            o.Set("fromType", t.from_type);
            o.Set("toType", t.to_type);
            o.Set("fallback", t.fallback != 0);
            o.Set("requantized", t.requantized != 0);
            o.Set("elements", static_cast<double>(t.n_elements));
            o.Set("bytesIn", static_cast<double>(t.bytes_in));
            o.Set("bytesOut", static_cast<double>(t.bytes_out));
            out.Set(static_cast<uint32_t>(i), o);
        }
        return out;
    }

    // `user` is this worker (ProgressWorker passes `this` to run)
    static void plan(void *user, const lmrt_quantized_tensor *t) {
        auto *self = static_cast<QuantizeWorker *>(static_cast<ProgressWorker *>(user));
        self->tensors_.push_back(TensorReport{std::string(t->name.data, t->name.len), *t});
    }

    std::string in_, out_;
    lmrt_quantize_params params_;
    std::vector<TensorReport> tensors_;
};

Napi::Value quantize_model(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsString() || !info[1].IsString() || !info[2].IsNumber() || !info[3].IsNumber()) {
        throw make_error(env, "E_INVALID_ARGUMENT", "quantizeModel(in, out, preset, threads, onProgress?)");
    }
    lmrt_quantize_params params{};
    params.preset = info[2].ToNumber().Uint32Value();
    params.n_threads = info[3].ToNumber().Uint32Value();
    Napi::Function on_progress;
    if (info.Length() > 4 && info[4].IsFunction()) on_progress = info[4].As<Napi::Function>();
    return (new QuantizeWorker(env, info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value(), params, on_progress))
        ->start();
}

} // namespace

void register_quantize(Napi::Env env, Napi::Object exports) {
    exports.Set("quantizeModel", Napi::Function::New(env, quantize_model, "quantizeModel"));
}

} // namespace lmrt_addon
