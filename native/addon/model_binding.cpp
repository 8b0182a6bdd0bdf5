// Models and contexts for JS. modelOpen(path) and model.createContext(...)
// resolve off the JS thread; context.step(rows) runs the forward pass on the
// context's own threads and resolves to the logits. One step at a time per
// context; disposing during a step frees the context when the step ends.
#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "open_worker.h"

namespace lmrt_addon {

namespace {

class ContextHandle;

class ModelHandle : public Napi::ObjectWrap<ModelHandle>, public Lender {
  public:
    static Napi::Function define(Napi::Env env) {
        return DefineClass(env, "NativeModel",
                           {InstanceMethod("info", &ModelHandle::info), InstanceMethod("tokenizer", &ModelHandle::tokenizer),
                            InstanceMethod("metaString", &ModelHandle::meta_string),
                            InstanceMethod("createContext", &ModelHandle::create_context),
                            InstanceMethod("dispose", &ModelHandle::dispose)});
    }

    explicit ModelHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<ModelHandle>(info) {
        if (info.Length() != 1 || !info[0].IsExternal()) {
            throw make_error(info.Env(), "E_INVALID_ARGUMENT", "NativeModel is created by modelOpen()");
        }
        model_ = info[0].As<Napi::External<lmrt_model>>().Data();
    }
    ~ModelHandle() override { lmrt_model_free(model_); }

    lmrt_model *get(Napi::Env env) const {
        if (model_ == nullptr || disposed_) throw make_error(env, "E_INVALID_ARGUMENT", "this model has been disposed");
        return model_;
    }

    void retain() override { ++borrowers_; }
    void release() override {
        if (--borrowers_ == 0 && disposed_) free_model();
    }

  private:
    // metaString(key): the string value, or undefined when absent or not a string.
    Napi::Value meta_string(const Napi::CallbackInfo &cb) {
        Napi::Env env = cb.Env();
        if (cb.Length() != 1 || !cb[0].IsString()) throw make_error(env, "E_INVALID_ARGUMENT", "metaString(key): key must be a string");
        lmrt_string s{};
        if (!lmrt_model_meta_string(get(env), cb[0].As<Napi::String>().Utf8Value().c_str(), &s)) return env.Undefined();
        return Napi::String::New(env, s.data, s.len);
    }

    Napi::Value info(const Napi::CallbackInfo &cb) {
        Napi::Env env = cb.Env();
        lmrt_model_info i{};
        lmrt_model_info_get(get(env), &i);
        Napi::Object o = Napi::Object::New(env);
        o.Set("architecture", Napi::String::New(env, i.arch.data, i.arch.len));
        o.Set("vocabSize", i.n_vocab);
        o.Set("trainContextLength", i.n_ctx_train);
        o.Set("embeddingLength", i.n_embd);
        o.Set("layers", i.n_layer);
        o.Set("heads", i.n_head);
        o.Set("kvHeads", i.n_head_kv);
        o.Set("headDim", i.head_dim);
        o.Set("feedForwardLength", i.n_ff);
        o.Set("parameterCount", static_cast<double>(i.n_params));
        o.Set("fileSize", static_cast<double>(i.file_size));
        o.Set("slidingWindow", i.sliding_window);
        o.Set("interleavedBytes", static_cast<double>(i.interleaved_bytes));
        o.Set("backend", Napi::String::New(env, i.backend == LMRT_BACKEND_CUDA ? "cuda" : "cpu"));
        o.Set("device", Napi::String::New(env, i.device.data, i.device.len));
        o.Set("deviceBytes", static_cast<double>(i.device_bytes));
        o.Set("gpuLayers", i.gpu_layers);
        return o;
    }

    // The model's tokenizer as a NativeTokenizer that does not own it.
    Napi::Value tokenizer(const Napi::CallbackInfo &cb);
    Napi::Value create_context(const Napi::CallbackInfo &cb);

    Napi::Value dispose(const Napi::CallbackInfo &cb) {
        disposed_ = true;
        if (borrowers_ == 0) free_model();
        return cb.Env().Undefined();
    }

    void free_model() {
        lmrt_model_free(model_);
        model_ = nullptr;
    }

    lmrt_model *model_ = nullptr;
    int borrowers_ = 0; // contexts and tokenizer handles using model_
    bool disposed_ = false;
};

class ContextHandle : public Napi::ObjectWrap<ContextHandle> {
  public:
    static Napi::Function define(Napi::Env env) {
        return DefineClass(env, "NativeContext",
                           {InstanceMethod("seqCreate", &ContextHandle::seq_create), InstanceMethod("seqFork", &ContextHandle::seq_fork),
                            InstanceMethod("seqTruncate", &ContextHandle::seq_truncate),
                            InstanceMethod("seqRelease", &ContextHandle::seq_release),
                            InstanceMethod("seqLength", &ContextHandle::seq_length), InstanceMethod("step", &ContextHandle::step),
                            InstanceMethod("seqReusePrefix", &ContextHandle::seq_reuse_prefix),
                            InstanceMethod("kvStats", &ContextHandle::kv_stats), InstanceMethod("dispose", &ContextHandle::dispose)});
    }

    explicit ContextHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<ContextHandle>(info) {
        if (info.Length() != 2 || !info[0].IsExternal() || !info[1].IsObject()) {
            throw make_error(info.Env(), "E_INVALID_ARGUMENT", "NativeContext is created by model.createContext()");
        }
        ctx_ = info[0].As<Napi::External<lmrt_context>>().Data();
        model_ref_ = Napi::Persistent(info[1].As<Napi::Object>()); // the model outlives its contexts
        model_ = ModelHandle::Unwrap(info[1].As<Napi::Object>());
        lmrt_model_info i{};
        lmrt_model_info_get(model_->get(info.Env()), &i);
        n_vocab_ = i.n_vocab;
        model_->retain();
    }
    ~ContextHandle() override { free_context(); }

    void step_finished() {
        busy_ = false;
        if (dispose_pending_) free_context();
    }

    void free_context() {
        if (ctx_ == nullptr) return;
        lmrt_context_free(ctx_);
        ctx_ = nullptr;
        model_->release();
        model_ref_.Reset();
    }

  private:
    lmrt_context *get(Napi::Env env) const {
        if (ctx_ == nullptr || dispose_pending_) throw make_error(env, "E_INVALID_ARGUMENT", "this context has been disposed");
        return ctx_;
    }
    lmrt_context *idle(Napi::Env env) const {
        lmrt_context *c = get(env);
        if (busy_) throw make_error(env, "E_INVALID_ARGUMENT", "a step is running on this context; wait for it first");
        return c;
    }
    static int32_t int_arg(const Napi::CallbackInfo &info, size_t i, const char *what) {
        if (info.Length() <= i || !info[i].IsNumber()) throw make_error(info.Env(), "E_INVALID_ARGUMENT", std::string(what) + " must be a number");
        return info[i].As<Napi::Number>().Int32Value();
    }

    Napi::Value seq_create(const Napi::CallbackInfo &info) {
        int32_t seq;
        lmrt_error err{};
        if (lmrt_seq_create(idle(info.Env()), &seq, &err) != LMRT_OK) throw make_error(info.Env(), err);
        return Napi::Number::New(info.Env(), seq);
    }
    Napi::Value seq_fork(const Napi::CallbackInfo &info) {
        int32_t dst;
        lmrt_error err{};
        if (lmrt_seq_fork(idle(info.Env()), int_arg(info, 0, "seq"), &dst, &err) != LMRT_OK) throw make_error(info.Env(), err);
        return Napi::Number::New(info.Env(), dst);
    }
    Napi::Value seq_truncate(const Napi::CallbackInfo &info) {
        lmrt_error err{};
        if (lmrt_seq_truncate(idle(info.Env()), int_arg(info, 0, "seq"), int_arg(info, 1, "length"), &err) != LMRT_OK) {
            throw make_error(info.Env(), err);
        }
        return info.Env().Undefined();
    }
    Napi::Value seq_release(const Napi::CallbackInfo &info) {
        lmrt_error err{};
        if (lmrt_seq_release(idle(info.Env()), int_arg(info, 0, "seq"), &err) != LMRT_OK) throw make_error(info.Env(), err);
        return info.Env().Undefined();
    }
    Napi::Value seq_length(const Napi::CallbackInfo &info) {
        return Napi::Number::New(info.Env(), lmrt_seq_length(get(info.Env()), int_arg(info, 0, "seq")));
    }
    // seqReusePrefix(seq, tokens: Int32Array, nPrompt): positions reused from the prefix cache
    Napi::Value seq_reuse_prefix(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        if (info.Length() != 3 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
            throw make_error(env, "E_INVALID_ARGUMENT", "seqReusePrefix(seq, tokens: Int32Array, nPrompt)");
        }
        Napi::Int32Array tokens = info[1].As<Napi::Int32Array>();
        uint32_t reused = 0;
        lmrt_error err{};
        if (lmrt_seq_reuse_prefix(idle(env), int_arg(info, 0, "seq"), tokens.Data(), static_cast<uint32_t>(tokens.ElementLength()),
                                  static_cast<uint32_t>(int_arg(info, 2, "nPrompt")), &reused, &err) != LMRT_OK) {
            throw make_error(env, err);
        }
        return Napi::Number::New(env, reused);
    }

    Napi::Value kv_stats(const Napi::CallbackInfo &info) {
        lmrt_kv_stats s{};
        lmrt_kv_stats_get(get(info.Env()), &s);
        Napi::Object o = Napi::Object::New(info.Env());
        o.Set("blocksTotal", s.blocks_total);
        o.Set("blocksUsed", s.blocks_used);
        o.Set("blocksFree", s.blocks_free);
        o.Set("blockSize", s.block_size);
        o.Set("sequences", s.sequences);
        o.Set("bytes", static_cast<double>(s.bytes));
        o.Set("blocksCached", s.blocks_cached);
        o.Set("prefixHits", static_cast<double>(s.prefix_hits));
        return o;
    }

    // step(rows: Int32Array of [seq, token, pos, flags] quadruples, out?): Promise<Float32Array> of the logit
    // rows' logits; rows with LMRT_ROW_ARGMAX put their greedy token in out.tokens instead, rows with
    // LMRT_ROW_TOPK their out.topK largest logits in out.topIds / out.topLogits, each kind in row order
    Napi::Value step(const Napi::CallbackInfo &info);

    Napi::Value dispose(const Napi::CallbackInfo &info) {
        if (busy_) {
            dispose_pending_ = true;
        } else {
            free_context();
        }
        return info.Env().Undefined();
    }

    lmrt_context *ctx_ = nullptr;
    Napi::ObjectReference model_ref_;
    ModelHandle *model_ = nullptr; // alive while model_ref_ holds it
    uint32_t n_vocab_ = 0;
    bool busy_ = false, dispose_pending_ = false;
};


class StepWorker : public Napi::AsyncWorker {
  public:
    // out: the step's second argument, checked by step(): where the greedy
    // tokens and top-k entries go
    StepWorker(Napi::Env env, ContextHandle *owner, Napi::Object self, lmrt_context *ctx, std::vector<lmrt_batch_row> rows,
               uint32_t n_vocab, size_t n_greedy, size_t n_top, uint32_t top_k, Napi::Value out)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), owner_(owner), ctx_(ctx), rows_(std::move(rows)), top_k_(top_k) {
        self_ = Napi::Persistent(self);
        if (out.IsObject()) out_ref_ = Napi::Persistent(out.As<Napi::Object>());
        size_t wanted = 0;
        for (const lmrt_batch_row &r : rows_) wanted += (r.flags & LMRT_ROW_LOGITS) != 0;
        logits_.resize((wanted - n_greedy - n_top) * n_vocab);
        tokens_.resize(n_greedy);
        top_ids_.resize(n_top * top_k);
        top_logits_.resize(n_top * top_k);
    }
    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        lmrt_step_output out{logits_.data(), logits_.size(), tokens_.data(), tokens_.size(), top_k_, top_ids_.data(), top_logits_.data(),
                             top_ids_.size()};
        status_ = lmrt_context_step_ex(ctx_, rows_.data(), static_cast<uint32_t>(rows_.size()), &out, &err_);
    }

    void OnOK() override {
        Napi::Env env = Env();
        owner_->step_finished();
        if (status_ != LMRT_OK) {
            err_.status = status_;
            deferred_.Reject(make_error(env, err_).Value());
            return;
        }
        Napi::Float32Array out = Napi::Float32Array::New(env, logits_.size());
        std::copy(logits_.begin(), logits_.end(), out.Data());
        if (!tokens_.empty()) std::copy(tokens_.begin(), tokens_.end(), out_ref_.Value().Get("tokens").As<Napi::Int32Array>().Data());
        if (!top_ids_.empty()) {
            std::copy(top_ids_.begin(), top_ids_.end(), out_ref_.Value().Get("topIds").As<Napi::Int32Array>().Data());
            std::copy(top_logits_.begin(), top_logits_.end(), out_ref_.Value().Get("topLogits").As<Napi::Float32Array>().Data());
        }
        deferred_.Resolve(out);
    }
    void OnError(const Napi::Error &e) override {
        owner_->step_finished();
        deferred_.Reject(e.Value());
    }

  private:
    Napi::Promise::Deferred deferred_;
    ContextHandle *owner_;
    Napi::ObjectReference self_; // keeps the context object alive during the step
    lmrt_context *ctx_;
    std::vector<lmrt_batch_row> rows_;
    std::vector<float> logits_;
    uint32_t top_k_;
    std::vector<int32_t> tokens_, top_ids_;
    std::vector<float> top_logits_;
    Napi::ObjectReference out_ref_;
    lmrt_status status_ = LMRT_OK;
    lmrt_error err_{};
};

Napi::Value ContextHandle::step(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    lmrt_context *ctx = idle(env);
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw make_error(env, "E_INVALID_ARGUMENT", "step: rows must be an Int32Array of [seq, token, pos, logits] quadruples");
    }
    Napi::Int32Array flat = info[0].As<Napi::Int32Array>();
    if (flat.ElementLength() % 4 != 0) throw make_error(env, "E_INVALID_ARGUMENT", "step: rows length must be a multiple of 4");
    std::vector<lmrt_batch_row> rows(flat.ElementLength() / 4);
    size_t n_greedy = 0, n_top = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        rows[i] = {flat[4 * i], flat[4 * i + 1], flat[4 * i + 2], flat[4 * i + 3]};
        if (!(rows[i].flags & LMRT_ROW_LOGITS)) continue;
        n_greedy += (rows[i].flags & LMRT_ROW_ARGMAX) != 0;
        n_top += (rows[i].flags & LMRT_ROW_TOPK) != 0;
    }
    // out: {tokens: Int32Array, topK: number, topIds: Int32Array, topLogits: Float32Array}, as many as the rows ask for
    const Napi::Value out = info.Length() > 1 ? info[1] : env.Undefined();
    auto typed = [&](const char *key, napi_typedarray_type type, size_t at_least) {
        if (!out.IsObject()) return false;
        const Napi::Value v = out.As<Napi::Object>().Get(key);
        return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type && v.As<Napi::TypedArray>().ElementLength() >= at_least;
    };
    uint32_t top_k = 0;
    if (n_top > 0 && out.IsObject() && out.As<Napi::Object>().Get("topK").IsNumber()) {
        const double k = out.As<Napi::Object>().Get("topK").ToNumber().DoubleValue();
        if (k >= 1 && k <= LMRT_MAX_TOP_K && k == static_cast<double>(static_cast<uint32_t>(k))) top_k = static_cast<uint32_t>(k);
    }
    if (n_greedy > 0 && !typed("tokens", napi_int32_array, n_greedy)) {
        throw make_error(env, "E_INVALID_ARGUMENT", "step: rows asking for their greedy token need out.tokens, an Int32Array of as many");
    }
    if (n_top > 0 && (top_k == 0 || !typed("topIds", napi_int32_array, n_top * top_k) || !typed("topLogits", napi_float32_array, n_top * top_k))) {
        throw make_error(env, "E_INVALID_ARGUMENT",
                         "step: rows asking for their top-k logits need out.topK (1 to 256) and out.topIds / out.topLogits of topK per row");
    }
    busy_ = true;
    auto *worker = new StepWorker(env, this, Value(), ctx, std::move(rows), n_vocab_, n_greedy, n_top, top_k, out);
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
}

Napi::Value ModelHandle::create_context(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    lmrt_model *model = get(env);
    lmrt_context_params p{};
    if (info.Length() > 0 && info[0].IsObject()) {
        Napi::Object o = info[0].As<Napi::Object>();
        if (o.Get("contextSize").IsNumber()) p.n_ctx = o.Get("contextSize").ToNumber().Uint32Value();
        if (o.Get("batchSize").IsNumber()) p.n_batch = o.Get("batchSize").ToNumber().Uint32Value();
        if (o.Get("threads").IsNumber()) p.n_threads = o.Get("threads").ToNumber().Uint32Value();
        if (o.Get("kvType").IsNumber()) p.kv_type = o.Get("kvType").ToNumber().Uint32Value();
    }
    auto open = [model, p](lmrt_context **out, lmrt_error *err) { return lmrt_context_create(model, &p, out, err); };
    return OpenWorker<lmrt_context>::start(
        new OpenWorker<lmrt_context>(env, open, lmrt_context_free, addon_data(env).context_class, {Value()}));
}

Napi::Value ModelHandle::tokenizer(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    return borrowed_tokenizer(env, lmrt_model_tokenizer(get(env)), Value(), this);
}

Napi::Value model_open(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw make_error(env, "E_INVALID_ARGUMENT", "modelOpen: path must be a string");
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    lmrt_model_params p{};
    std::string cuda_library;
    if (info.Length() > 1 && info[1].IsObject()) {
        const Napi::Object o = info[1].As<Napi::Object>();
        p.mapped_only = o.Get("mappedOnly").ToBoolean().Value() ? 1 : 0;
        // the TS layer has validated these: a backend id, gpu layers >= -1, a device index >= 0
        const Napi::Value backend = o.Get("backend"), gpu_layers = o.Get("gpuLayers"), device = o.Get("device");
        if (backend.IsNumber()) p.backend = backend.As<Napi::Number>().Uint32Value();
        p.gpu_layers = gpu_layers.IsNumber() ? gpu_layers.As<Napi::Number>().Int32Value() : -1;
        if (device.IsNumber()) p.device = device.As<Napi::Number>().Int32Value();
        const Napi::Value library = o.Get("cudaLibrary");
        if (library.IsString()) cuda_library = library.As<Napi::String>().Utf8Value();
    }
    auto open = [path, p, cuda_library](lmrt_model **out, lmrt_error *err) {
        lmrt_model_params params = p;
        params.cuda_library = cuda_library.empty() ? nullptr : cuda_library.c_str();
        return lmrt_model_open_with(path.c_str(), &params, out, err);
    };
    return OpenWorker<lmrt_model>::start(new OpenWorker<lmrt_model>(env, open, lmrt_model_free, addon_data(env).model_class));
}

} // namespace

void register_model(Napi::Env env, Napi::Object exports) {
    addon_data(env).model_class = Napi::Persistent(ModelHandle::define(env));
    addon_data(env).context_class = Napi::Persistent(ContextHandle::define(env));
    exports.Set("modelOpen", Napi::Function::New(env, model_open, "modelOpen"));
}

} // namespace lmrt_addon
