// Opening a native object off the JS thread: the worker runs `open` on the
// libuv pool, then resolves with a new handle of `handle_class` built from
// the object (plus any extra constructor arguments, kept alive meanwhile), or
// rejects with the engine's error. The worker frees the object until a
// handle owns it.
#pragma once

#include <functional>
#include <napi.h>
#include <vector>

#include "bindings.h"

namespace lmrt_addon {

template <typename T>
class OpenWorker : public Napi::AsyncWorker {
  public:
    using OpenFn = std::function<lmrt_status(T **out, lmrt_error *err)>;

    OpenWorker(Napi::Env env, OpenFn open, void (*free_fn)(T *), Napi::FunctionReference &handle_class,
               const std::vector<Napi::Value> &extra_args = {})
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), open_(std::move(open)), free_(free_fn),
          handle_class_(handle_class) {
        for (const Napi::Value &v : extra_args) extra_.push_back(Napi::Persistent(v));
    }
    ~OpenWorker() override { free_(object_); }

    // Queues the worker; the promise settles when it is done.
    static Napi::Promise start(OpenWorker *worker) {
        Napi::Promise promise = worker->deferred_.Promise();
        worker->Queue();
        return promise;
    }

    void Execute() override { status_ = open_(&object_, &err_); }

    void OnOK() override {
        Napi::Env env = Env();
        if (status_ != LMRT_OK) {
            err_.status = status_;
            deferred_.Reject(make_error(env, err_).Value());
            return;
        }
        std::vector<napi_value> args{Napi::External<T>::New(env, object_)};
        for (const Napi::Reference<Napi::Value> &r : extra_) args.push_back(r.Value());
        Napi::Object handle = handle_class_.New(args);
        object_ = nullptr; // owned by the handle now
        deferred_.Resolve(handle);
    }

    void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

  private:
    Napi::Promise::Deferred deferred_;
    OpenFn open_;
    void (*free_)(T *);
    Napi::FunctionReference &handle_class_;
    std::vector<Napi::Reference<Napi::Value>> extra_;
    T *object_ = nullptr;
    lmrt_status status_ = LMRT_OK;
    lmrt_error err_{};
};

} // namespace lmrt_addon
