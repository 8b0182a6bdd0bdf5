// A native call off the JS thread that reports its progress in bytes to an
// optional JS callback (done, total) and settles a promise: the engine's
// error rejects it, else it resolves with what the subclass builds. Run
// gets the progress function to pass to the engine, and `this` as its user
// pointer (a subclass's own callbacks may share it).
#pragma once

#include <napi.h>

#include "bindings.h"

namespace lmrt_addon {

struct ByteProgress {
    uint64_t done, total;
};

class ProgressWorker : public Napi::AsyncProgressWorker<ByteProgress> {
  public:
    ProgressWorker(Napi::Env env, Napi::Function on_progress)
        : Napi::AsyncProgressWorker<ByteProgress>(env), deferred_(Napi::Promise::Deferred::New(env)) {
        if (!on_progress.IsEmpty()) on_progress_ = Napi::Persistent(on_progress);
    }

    // Queues the worker; the promise settles when it is done.
    Napi::Promise start() {
        Napi::Promise promise = deferred_.Promise();
        Queue();
        return promise;
    }

  protected:
    // The engine call; progress is null when JS asked for none.
    virtual lmrt_status run(lmrt_progress_fn progress, void *user, lmrt_error *err) = 0;
    // The promise's value after a successful run (on the JS thread).
    virtual Napi::Value result(Napi::Env env) { return env.Undefined(); }

  private:
    void Execute(const ExecutionProgress &progress) override {
        progress_ = &progress;
        status_ = run(on_progress_.IsEmpty() ? nullptr : &ProgressWorker::report, this, &err_);
        progress_ = nullptr;
    }

    void OnProgress(const ByteProgress *data, size_t count) override {
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
        deferred_.Resolve(result(env));
    }

    void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

    static int report(void *user, uint64_t done, uint64_t total) {
        auto *self = static_cast<ProgressWorker *>(user);
        ByteProgress p{done, total};
        self->progress_->Send(&p, 1);
        return 0;
    }

    Napi::Promise::Deferred deferred_;
    Napi::FunctionReference on_progress_;
    const ExecutionProgress *progress_ = nullptr;
    lmrt_status status_ = LMRT_OK;
    lmrt_error err_{};
};

} // namespace lmrt_addon
