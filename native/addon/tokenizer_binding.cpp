// Tokenizer handles for JS: tokenizerOpen(path) resolves to an object with
// tokenize/detokenize/piece/info/eog/dispose. Methods are synchronous (they
// are fast); loading runs off the JS thread. Using a disposed handle throws.
#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "open_worker.h"

namespace lmrt_addon {

namespace {

class TokenizerHandle : public Napi::ObjectWrap<TokenizerHandle> {
  public:
    static Napi::Function define(Napi::Env env) {
        return DefineClass(env, "NativeTokenizer",
                           {InstanceMethod("tokenize", &TokenizerHandle::tokenize),
                            InstanceMethod("detokenize", &TokenizerHandle::detokenize),
                            InstanceMethod("piece", &TokenizerHandle::piece), InstanceMethod("info", &TokenizerHandle::info),
                            InstanceMethod("eog", &TokenizerHandle::eog), InstanceMethod("dispose", &TokenizerHandle::dispose)});
    }

    explicit TokenizerHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<TokenizerHandle>(info) {
        if (info.Length() < 1 || !info[0].IsExternal()) {
            throw make_error(info.Env(), "E_INVALID_ARGUMENT", "NativeTokenizer is created by tokenizerOpen()");
        }
        tokenizer_ = info[0].As<Napi::External<lmrt_tokenizer>>().Data();
        if (info.Length() > 2 && info[1].IsObject() && info[2].IsExternal()) {
            owner_ = Napi::Persistent(info[1].As<Napi::Object>());
            lender_ = info[2].As<Napi::External<Lender>>().Data();
            lender_->retain();
        }
    }
    ~TokenizerHandle() override { release(); }

    void release() {
        if (lender_ != nullptr) {
            lender_->release();
            lender_ = nullptr;
            owner_.Reset();
        } else {
            lmrt_tokenizer_free(tokenizer_);
        }
        tokenizer_ = nullptr;
    }

  private:
    const lmrt_tokenizer *get(Napi::Env env) const {
        if (tokenizer_ == nullptr) throw make_error(env, "E_INVALID_ARGUMENT", "this tokenizer has been disposed");
        return tokenizer_;
    }

    // tokenize(text: string | Uint8Array, flags: number): Int32Array
    Napi::Value tokenize(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        const lmrt_tokenizer *t = get(env);
        std::string owned;
        const char *data;
        size_t len;
        if (info.Length() > 0 && info[0].IsString()) {
            owned = info[0].As<Napi::String>().Utf8Value();
            data = owned.data();
            len = owned.size();
        } else if (info.Length() > 0 && info[0].IsTypedArray() &&
                   info[0].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
            Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
            data = reinterpret_cast<const char *>(bytes.Data());
            len = bytes.ByteLength();
        } else {
            throw make_error(env, "E_INVALID_ARGUMENT", "tokenize: text must be a string or a Uint8Array");
        }
        const uint32_t flags = info.Length() > 1 ? info[1].ToNumber().Uint32Value() : 0;
        uint64_t n = 0;
        lmrt_error err{};
        std::vector<int32_t> ids(len + 16);
        if (lmrt_tokenize(t, data, len, flags, ids.data(), ids.size(), &n, &err) != LMRT_OK) throw make_error(env, err);
        if (n > ids.size()) {
            ids.resize(n);
            if (lmrt_tokenize(t, data, len, flags, ids.data(), ids.size(), &n, &err) != LMRT_OK) throw make_error(env, err);
        }
        Napi::Int32Array out = Napi::Int32Array::New(env, n);
        std::copy(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), out.Data());
        return out;
    }

    // detokenize(ids: Int32Array, flags: number): Uint8Array
    Napi::Value detokenize(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        const lmrt_tokenizer *t = get(env);
        if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
            throw make_error(env, "E_INVALID_ARGUMENT", "detokenize: ids must be an Int32Array");
        }
        Napi::Int32Array ids = info[0].As<Napi::Int32Array>();
        const uint32_t flags = info.Length() > 1 ? info[1].ToNumber().Uint32Value() : 0;
        std::string text(ids.ElementLength() * 8 + 16, '\0');
        uint64_t n = 0;
        lmrt_error err{};
        if (lmrt_detokenize(t, ids.Data(), ids.ElementLength(), flags, text.data(), text.size(), &n, &err) != LMRT_OK) {
            throw make_error(env, err);
        }
        if (n > text.size()) {
            text.resize(n);
            if (lmrt_detokenize(t, ids.Data(), ids.ElementLength(), flags, text.data(), text.size(), &n, &err) != LMRT_OK) {
                throw make_error(env, err);
            }
        }
        return Napi::Buffer<char>::Copy(env, text.data(), n);
    }

    // piece(id: number, special: boolean): Uint8Array
    Napi::Value piece(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        const lmrt_tokenizer *t = get(env);
        if (info.Length() < 1 || !info[0].IsNumber()) throw make_error(env, "E_INVALID_ARGUMENT", "piece: id must be a number");
        const double id = info[0].As<Napi::Number>().DoubleValue();
        if (!(id >= -2147483648.0 && id <= 2147483647.0) || id != static_cast<double>(static_cast<int32_t>(id))) {
            throw make_error(env, "E_INVALID_ARGUMENT", "piece: token id must be an integer");
        }
        lmrt_string p{};
        lmrt_error err{};
        if (lmrt_token_piece(t, static_cast<int32_t>(id), info.Length() > 1 && info[1].ToBoolean().Value(), &p, &err) != LMRT_OK) {
            throw make_error(env, err);
        }
        return Napi::Buffer<char>::Copy(env, p.data, p.len);
    }

    Napi::Value info(const Napi::CallbackInfo &cb) {
        Napi::Env env = cb.Env();
        lmrt_tokenizer_info i{};
        lmrt_tokenizer_info_get(get(env), &i);
        Napi::Object o = Napi::Object::New(env);
        o.Set("type", i.type == LMRT_VOCAB_SPM ? "spm" : i.type == LMRT_VOCAB_BPE ? "bpe" : "wpm");
        o.Set("model", Napi::String::New(env, i.model.data, i.model.len));
        o.Set("pre", Napi::String::New(env, i.pre.data, i.pre.len));
        o.Set("vocabSize", i.n_vocab);
        const std::pair<const char *, int32_t> ids[] = {
            {"bos", i.bos}, {"eos", i.eos}, {"eot", i.eot}, {"eom", i.eom}, {"unk", i.unk}, {"sep", i.sep}, {"pad", i.pad},
            {"mask", i.mask}, {"fimPre", i.fim_pre}, {"fimSuf", i.fim_suf}, {"fimMid", i.fim_mid}, {"fimPad", i.fim_pad},
            {"fimRep", i.fim_rep}, {"fimSep", i.fim_sep}};
        for (const auto &[key, id] : ids) o.Set(key, id);
        o.Set("addBos", i.add_bos != 0);
        o.Set("addEos", i.add_eos != 0);
        o.Set("addSep", i.add_sep != 0);
        o.Set("addSpacePrefix", i.add_space_prefix != 0);
        o.Set("cleanSpaces", i.clean_spaces != 0);
        return o;
    }

    Napi::Value eog(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        const int32_t *ids = nullptr;
        uint64_t n = 0;
        lmrt_tokenizer_eog(get(env), &ids, &n);
        Napi::Int32Array out = Napi::Int32Array::New(env, n);
        std::copy(ids, ids + n, out.Data());
        return out;
    }

    Napi::Value dispose(const Napi::CallbackInfo &info) {
        release();
        return info.Env().Undefined();
    }

    lmrt_tokenizer *tokenizer_ = nullptr;
    Napi::ObjectReference owner_; // set when the tokenizer belongs to a model
    Lender *lender_ = nullptr;
};

Napi::Value tokenizer_open(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw make_error(env, "E_INVALID_ARGUMENT", "tokenizerOpen: path must be a string");
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    auto open = [path](lmrt_tokenizer **out, lmrt_error *err) { return lmrt_tokenizer_open(path.c_str(), out, err); };
    return OpenWorker<lmrt_tokenizer>::start(
        new OpenWorker<lmrt_tokenizer>(env, open, lmrt_tokenizer_free, addon_data(env).tokenizer_class));
}

} // namespace

Napi::Object borrowed_tokenizer(Napi::Env env, const lmrt_tokenizer *tokenizer, Napi::Object owner, Lender *lender) {
    return addon_data(env).tokenizer_class.New({Napi::External<lmrt_tokenizer>::New(env, const_cast<lmrt_tokenizer *>(tokenizer)),
                                                owner, Napi::External<Lender>::New(env, lender)});
}

void register_tokenizer(Napi::Env env, Napi::Object exports) {
    addon_data(env).tokenizer_class = Napi::Persistent(TokenizerHandle::define(env));
    exports.Set("tokenizerOpen", Napi::Function::New(env, tokenizer_open, "tokenizerOpen"));
}

} // namespace lmrt_addon
