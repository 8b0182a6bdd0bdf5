// Measurements of the machine itself: memory read bandwidth, off the JS thread.
#include "bindings.h"

namespace lmrt_addon {

namespace {

class BandwidthWorker : public Napi::AsyncWorker {
  public:
    BandwidthWorker(Napi::Env env, uint64_t bytes, uint32_t threads, uint32_t passes)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), bytes_(bytes), threads_(threads),
          passes_(passes) {}
    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override { status_ = lmrt_measure_read_bandwidth(bytes_, threads_, passes_, &rate_, &err_); }
    void OnOK() override {
        if (status_ != LMRT_OK) {
            err_.status = status_;
            deferred_.Reject(make_error(Env(), err_).Value());
            return;
        }
        deferred_.Resolve(Napi::Number::New(Env(), rate_));
    }
    void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

  private:
    Napi::Promise::Deferred deferred_;
    uint64_t bytes_;
    uint32_t threads_, passes_;
    double rate_ = 0;
    lmrt_status status_ = LMRT_OK;
    lmrt_error err_{};
};

// measureReadBandwidth(bytes, threads, passes): Promise<bytes per second>
Napi::Value measure_read_bandwidth(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
        throw make_error(env, "E_INVALID_ARGUMENT", "measureReadBandwidth(bytes, threads, passes) takes three numbers");
    }
    const double bytes = info[0].ToNumber().DoubleValue();
    const double threads = info[1].ToNumber().DoubleValue(), passes = info[2].ToNumber().DoubleValue();
    if (!(bytes >= 1 && bytes <= 9.0e15) || !(threads >= 1 && threads <= 64) || !(passes >= 1 && passes <= 1000)) {
        throw make_error(env, "E_INVALID_ARGUMENT", "measureReadBandwidth: bytes >= 1, threads 1 to 64, passes 1 to 1000");
    }
    auto *worker = new BandwidthWorker(env, static_cast<uint64_t>(bytes), static_cast<uint32_t>(threads),
                                       static_cast<uint32_t>(passes));
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
}

// systemInfo(): how this binary was built and what the CPU kernels run.
Napi::Value system_info(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("build", lmrt_build_info());
    out.Set("kernelVariant", lmrt_kernel_variant_name(lmrt_kernel_variant_chosen()));
    Napi::Array available = Napi::Array::New(env);
    uint32_t n = 0;
    for (lmrt_kernel_variant v : {LMRT_KERNEL_REF, LMRT_KERNEL_AVX2, LMRT_KERNEL_AVX512, LMRT_KERNEL_NEON, LMRT_KERNEL_NEON_DOTPROD}) {
        if (lmrt_kernel_variant_available(v)) available.Set(n++, lmrt_kernel_variant_name(v));
    }
    out.Set("kernelVariants", available);
    return out;
}

// cudaStatus(library?): the CUDA backend's library, opened (or not) from
// here; a blocking dlopen, which the CLI's doctor may afford.
Napi::Value cuda_status(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    const std::string library = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string();
    lmrt_cuda_status status;
    lmrt_cuda_status_get(library.empty() ? nullptr : library.c_str(), &status);
    Napi::Object out = Napi::Object::New(env);
    out.Set("loaded", status.loaded != 0);
    out.Set("devices", status.devices);
    out.Set("library", status.library);
    out.Set("message", status.message);
    out.Set("device", status.device);
    return out;
}

} // namespace

void register_system(Napi::Env env, Napi::Object exports) {
    exports.Set("measureReadBandwidth", Napi::Function::New(env, measure_read_bandwidth, "measureReadBandwidth"));
    exports.Set("systemInfo", Napi::Function::New(env, system_info, "systemInfo"));
    exports.Set("cudaStatus", Napi::Function::New(env, cuda_status, "cudaStatus"));
}

} // namespace lmrt_addon
