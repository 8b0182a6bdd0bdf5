// quantizeModel(in, out, preset, threads, onProgress?): Promise<tensor reports>,
// off the JS thread.
#include <string>
#include <vector>

#include "bindings.h"

namespace lmrt_addon {

namespace {

struct TensorReport {
    std::string name;
    lmrt_quantized_tensor t;
};

struct QuantizeProgress {
    uint64_t done, total;
};

class QuantizeWorker : public Napi::AsyncProgressWorker<QuantizeProgress> {
  public:
    QuantizeWorker(Napi::Env env, std::string in, std::string out, lmrt_quantize_params params, Napi::Function on_progress)
        : Napi::AsyncProgressWorker<QuantizeProgress>(env), deferred_(Napi::Promise::Deferred::New(env)), in_(std::move(in)),
          out_(std::move(out)), params_(params) {
        if (!on_progress.IsEmpty()) on_progress_ = Napi::Persistent(on_progress);
    }
    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute(const ExecutionProgress &progress) override {
        progress_ = &progress;
        status_ = lmrt_quantize_model(in_.c_str(), out_.c_str(), &params_, &QuantizeWorker::plan,
                                      on_progress_.IsEmpty() ? nullptr : &QuantizeWorker::report, this, &err_);
        progress_ = nullptr;
    }

    void OnProgress(const QuantizeProgress *data, size_t count) override {
        if (count == 0 || on_progress_.IsEmpty()) return;
        Napi::Env env = Env();
        on_progress_.Call({Napi::Number::New(env, static_cast<double>(data[count - 1].done)),
                           Napi::Number::New(env, static_cast<double>(data[count - 1].total))});
    }

    void OnOK() override {
        Napi::Env env = Env();
        if (status_ != LMRT_OK) {
            err_.status = status_;
            deferred_.Reject(make_error(env, err_).Value());
            return;
        }
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
        deferred_.Resolve(out);
    }
    void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

  private:
    static void plan(void *user, const lmrt_quantized_tensor *t) {
        auto *self = static_cast<QuantizeWorker *>(user);
        self->tensors_.push_back(TensorReport{std::string(t->name.data, t->name.len), *t});
    }
    static int report(void *user, uint64_t done, uint64_t total) {
        auto *self = static_cast<QuantizeWorker *>(user);
        QuantizeProgress p{done, total};
        self->progress_->Send(&p, 1);
        return 0;
    }

    Napi::Promise::Deferred deferred_;
    std::string in_, out_;
    lmrt_quantize_params params_;
    Napi::FunctionReference on_progress_;
    const ExecutionProgress *progress_ = nullptr;
    std::vector<TensorReport> tensors_;
    lmrt_status status_ = LMRT_OK;
    lmrt_error err_{};
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
    auto *worker = new QuantizeWorker(env, info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value(), params, on_progress);
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
}

} // namespace

void register_quantize(Napi::Env env, Napi::Object exports) {
    exports.Set("quantizeModel", Napi::Function::New(env, quantize_model, "quantizeModel"));
}

} // namespace lmrt_addon
