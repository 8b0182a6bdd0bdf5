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

} // namespace

void register_system(Napi::Env env, Napi::Object exports) {
    exports.Set("measureReadBandwidth", Napi::Function::New(env, measure_read_bandwidth, "measureReadBandwidth"));
}

} // namespace lmrt_addon
