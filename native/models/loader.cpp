#include "loader.h"

#include <cinttypes>
#include <cstring>

#include "../core/ggml_types.h"
#include "../kernels/registry.h"

namespace lmrt {

const GgufValue *ModelLoader::find(const std::string &key) const {
    const int64_t i = gguf_.find_kv(key);
    return i < 0 ? nullptr : &gguf_.kvs()[static_cast<size_t>(i)].value;
}

Status ModelLoader::u32(const char *key, int *out, bool required) const {
    const std::string full = arch_ + "." + key;
    const GgufValue *v = find(full);
    if (v == nullptr) {
        if (required) return Status::error(LMRT_E_GGUF_INVALID, "%s: metadata %s is missing", name_.c_str(), full.c_str());
        return Status::ok();
    }
    int64_t value;
    switch (v->type) {
    case LMRT_GGUF_UINT8:
    case LMRT_GGUF_UINT16:
    case LMRT_GGUF_UINT32:
    case LMRT_GGUF_UINT64: value = v->scalar.u64 > INT32_MAX ? -1 : static_cast<int64_t>(v->scalar.u64); break;
    case LMRT_GGUF_INT8:
    case LMRT_GGUF_INT16:
    case LMRT_GGUF_INT32:
    case LMRT_GGUF_INT64: value = v->scalar.i64; break;
    default: return Status::error(LMRT_E_GGUF_INVALID, "%s: metadata %s must be an integer", name_.c_str(), full.c_str());
    }
    if (value < 0 || value > (1 << 30)) {
        return Status::error(LMRT_E_GGUF_INVALID, "%s: metadata %s = %" PRId64 " is out of range", name_.c_str(), full.c_str(), value);
    }
    *out = static_cast<int>(value);
    return Status::ok();
}

Status ModelLoader::f32(const char *key, float *out, bool required) const {
    const std::string full = arch_ + "." + key;
    const GgufValue *v = find(full);
    if (v == nullptr) {
        if (required) return Status::error(LMRT_E_GGUF_INVALID, "%s: metadata %s is missing", name_.c_str(), full.c_str());
        return Status::ok();
    }
    if (v->type != LMRT_GGUF_FLOAT32 && v->type != LMRT_GGUF_FLOAT64) {
        return Status::error(LMRT_E_GGUF_INVALID, "%s: metadata %s must be a float", name_.c_str(), full.c_str());
    }
    *out = static_cast<float>(v->scalar.f64);
    return Status::ok();
}

Status ModelLoader::str(const char *key, std::string *out) const {
    const GgufValue *v = find(arch_ + "." + key);
    if (v != nullptr && v->type == LMRT_GGUF_STRING) out->assign(v->str);
    return Status::ok();
}

Status ModelLoader::tensor(const std::string &tensor_name, std::initializer_list<int64_t> shape, Tensor *out, bool required) const {
    *out = Tensor{};
    for (size_t i = 0; i < gguf_.tensors().size(); ++i) {
        const GgufTensor &t = gguf_.tensors()[i];
        if (t.name != tensor_name) continue;
        std::string want, found;
        size_t d = 0;
        bool same = true;
        for (int64_t n : shape) {
            want += (d ? ", " : "") + std::to_string(n);
            if (d >= 4 || static_cast<int64_t>(t.ne[d]) != n) same = false;
            ++d;
        }
        for (uint32_t k = 0; k < t.n_dims; ++k) found += (k ? ", " : "") + std::to_string(t.ne[k]);
        for (size_t k = d; k < 4; ++k) {
            if (t.ne[k] != 1) same = false;
        }
        if (!same) {
            return Status::error(LMRT_E_GGUF_INVALID, "%s: tensor '%s' has shape [%s], expected [%s]", name_.c_str(),
                                 tensor_name.c_str(), found.c_str(), want.c_str());
        }
        const bool vector = shape.size() == 1;
        if (vector && t.type != LMRT_TYPE_F32) {
            const TypeLayout *layout = find_type_layout(t.type);
            return Status::error(LMRT_E_GGUF_UNSUPPORTED, "%s: tensor '%s' is %s; lmrt needs 1-D tensors in F32", name_.c_str(),
                                 tensor_name.c_str(), layout ? layout->name : "?");
        }
        out->data = gguf_.bytes() + gguf_.data_offset() + t.offset;
        out->type = t.type;
        for (int k = 0; k < 4; ++k) out->ne[k] = static_cast<int64_t>(t.ne[k]);
        out->kernels = kernels::best_mat_kernels(t.type);
        if (!vector && out->kernels == nullptr) {
            const TypeLayout *layout = find_type_layout(t.type);
            return Status::error(LMRT_E_GGUF_UNSUPPORTED,
                                 "%s: tensor '%s' has type %s, which lmrt cannot compute with yet (supported: F32, F16, BF16, "
                                 "Q8_0, Q5_0, Q5_1, Q4_0, Q4_K, Q5_K, Q6_K)",
                                 name_.c_str(), tensor_name.c_str(), layout ? layout->name : "?");
        }
        return Status::ok();
    }
    if (required) return Status::error(LMRT_E_GGUF_INVALID, "%s: tensor '%s' is missing", name_.c_str(), tensor_name.c_str());
    return Status::ok();
}

Status load_model(const GgufReader &gguf, const std::string &name, int n_vocab, HParams *hp, ModelWeights *w) {
    std::string arch;
    const int64_t i = gguf.find_kv("general.architecture");
    if (i < 0 || gguf.kvs()[static_cast<size_t>(i)].value.type != LMRT_GGUF_STRING) {
        return Status::error(LMRT_E_GGUF_INVALID, "%s: general.architecture is missing", name.c_str());
    }
    arch.assign(gguf.kvs()[static_cast<size_t>(i)].value.str);
    *hp = HParams{};
    hp->arch_name = arch;
    hp->n_vocab = n_vocab;
    const ModelLoader loader(gguf, name, arch);
    if (arch == "llama" || arch == "qwen2" || arch == "qwen3") {
        hp->arch = arch == "llama" ? Arch::kLlama : arch == "qwen2" ? Arch::kQwen2 : Arch::kQwen3;
        return load_llama_family(loader, hp, w);
    }
    if (arch == "gpt2") {
        hp->arch = Arch::kGpt2;
        return load_gpt2(loader, hp, w);
    }
    return Status::error(LMRT_E_ARCH_UNSUPPORTED,
                         "%s: architecture '%s' is not supported (lmrt runs llama, qwen2, qwen3 and gpt2)", name.c_str(),
                         arch.c_str());
}

} // namespace lmrt
