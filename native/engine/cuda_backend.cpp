#include "cuda_backend.h"

#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include "../core/ggml_types.h"

namespace lmrt {

namespace {

constexpr int kWhy = 512;

#if defined(__APPLE__)
constexpr const char *kLibraryName = "liblmrt_cuda.dylib";
#else
constexpr const char *kLibraryName = "liblmrt_cuda.so";
#endif

// The folder of the binary this code is linked into.
std::string own_folder() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void *>(&own_folder), &info) == 0 || info.dli_fname == nullptr) return ".";
    const std::string file = info.dli_fname;
    const size_t slash = file.rfind('/');
    return slash == std::string::npos ? "." : file.substr(0, slash);
}

template <typename Fn> bool find(void *handle, const char *name, Fn *out) {
    *out = reinterpret_cast<Fn>(dlsym(handle, name));
    return *out != nullptr;
}

lmrt_cuda_tensor describe(const Tensor &t) {
    lmrt_cuda_tensor d{};
    if (!t) return d;
    const TypeLayout *layout = find_type_layout(t.type);
    const uint64_t count = static_cast<uint64_t>(t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3]);
    d.data = t.data;
    d.bytes = count / layout->block_size * layout->block_bytes;
    d.type = t.type;
    d.type_name = layout->name;
    for (int i = 0; i < 4; ++i) d.ne[i] = t.ne[i];
    return d;
}

} // namespace

Status CudaLibrary::load(const char *library, CudaLibrary *out) {
    const char *env = std::getenv("LMRT_CUDA_LIBRARY");
    if (env != nullptr && *env != '\0') out->path = env;
    else if (library != nullptr && *library != '\0') out->path = library;
    else out->path = own_folder() + "/" + kLibraryName;
    void *handle = dlopen(out->path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (handle == nullptr) {
        const char *e = dlerror();
        return Status::error(LMRT_E_BACKEND_UNAVAILABLE,
                             "the CUDA backend is not available: %s (install the CUDA package, @lmrt/cuda-<platform>-<arch>, or build it with "
                             "LMRT_CUDA=ON, or set LMRT_CUDA_LIBRARY to its path)",
                             e != nullptr ? e : out->path.c_str());
    }
    lmrt_cuda_api_version_fn version = nullptr;
    if (!find(handle, "lmrt_cuda_api_version", &version) || version() != LMRT_CUDA_ABI_VERSION) {
        return Status::error(LMRT_E_BACKEND_UNAVAILABLE, "%s is not a CUDA backend of this lmrt version (entry points version %d, expected %d)",
                             out->path.c_str(), version != nullptr ? version() : -1, LMRT_CUDA_ABI_VERSION);
    }
    if (!find(handle, "lmrt_cuda_device_count", &out->device_count) || !find(handle, "lmrt_cuda_device_info", &out->device_info) ||
        !find(handle, "lmrt_cuda_model_create", &out->model_create) || !find(handle, "lmrt_cuda_model_free", &out->model_free) ||
        !find(handle, "lmrt_cuda_context_create", &out->context_create) || !find(handle, "lmrt_cuda_context_free", &out->context_free) ||
        !find(handle, "lmrt_cuda_context_step", &out->context_step)) {
        return Status::error(LMRT_E_BACKEND_UNAVAILABLE, "%s lacks an entry point of its version", out->path.c_str());
    }
    return Status::ok();
}

Status CudaLibrary::open(const char *library, CudaLibrary *out, std::string *device_name) {
    LMRT_RETURN_IF_ERROR(load(library, out));
    char why[kWhy] = "";
    if (out->device_count(why, kWhy) <= 0) {
        return Status::error(LMRT_E_BACKEND_UNAVAILABLE, "the CUDA backend found no usable device: %s", why);
    }
    if (device_name != nullptr) {
        char name[256] = "";
        size_t total = 0;
        if (out->device_info(0, name, sizeof name, &total) != 0) *device_name = name;
    }
    return Status::ok();
}

CudaModel::~CudaModel() {
    if (handle_ != nullptr) lib_.model_free(handle_);
}

Status CudaModel::create(const HParams &hp, const ModelWeights &w, const char *library, int device, int first_layer,
                         std::unique_ptr<CudaModel> *out) {
    if (w.interleaved.bytes != 0) {
        return Status::error(LMRT_E_INTERNAL, "the CUDA backend needs the file's own weight layout, not the CPU's interleaved copies");
    }
    auto m = std::make_unique<CudaModel>();
    LMRT_RETURN_IF_ERROR(CudaLibrary::open(library, &m->lib_, &m->device_name_));
    std::vector<lmrt_cuda_layer> layers(w.layers.size() - static_cast<size_t>(first_layer));
    for (size_t i = 0; i < layers.size(); ++i) {
        const LayerWeights &L = w.layers[i + static_cast<size_t>(first_layer)];
        layers[i] = lmrt_cuda_layer{describe(L.attn_norm), describe(L.attn_norm_b), describe(L.wq), describe(L.wk), describe(L.wv),
                                    describe(L.wqkv), describe(L.bq), describe(L.bk), describe(L.bv), describe(L.bqkv),
                                    describe(L.q_norm), describe(L.k_norm), describe(L.wo), describe(L.bo), describe(L.ffn_norm),
                                    describe(L.ffn_norm_b), describe(L.w_gate), describe(L.w_up), describe(L.w_down),
                                    describe(L.b_up), describe(L.b_down)};
    }
    lmrt_cuda_model_desc desc{};
    desc.device = device;
    desc.arch = hp.arch == Arch::kGpt2 ? LMRT_CUDA_ARCH_GPT2 : LMRT_CUDA_ARCH_LLAMA;
    desc.n_vocab = hp.n_vocab;
    desc.n_embd = hp.n_embd;
    desc.n_layer = hp.n_layer;
    desc.n_head = hp.n_head;
    desc.n_head_kv = hp.n_head_kv;
    desc.head_dim = hp.head_dim;
    desc.n_ff = hp.n_ff;
    desc.n_rot = hp.n_rot;
    desc.rope_base = hp.rope_base;
    desc.rope_freq_scale = hp.rope_freq_scale;
    desc.norm_eps = hp.norm_eps;
    desc.rope_neox = hp.rope_neox ? 1 : 0;
    desc.tok_embd = describe(w.tok_embd);
    desc.pos_embd = describe(w.pos_embd);
    desc.output_norm = describe(w.output_norm);
    desc.output_norm_b = describe(w.output_norm_b);
    desc.output = describe(w.output);
    desc.first_layer = first_layer;
    desc.layers = layers.data();
    m->first_layer_ = first_layer;
    char why[kWhy] = "";
    const int status = m->lib_.model_create(&desc, &m->handle_, &m->bytes_, why, kWhy);
    if (status != LMRT_OK) return Status::error(static_cast<lmrt_status>(status), "%s", why);
    *out = std::move(m);
    return Status::ok();
}

CudaContext::~CudaContext() {
    if (handle_ != nullptr) lib_->context_free(handle_);
}

Status CudaContext::create(const CudaModel &model, const lmrt_cuda_context_desc &desc, std::unique_ptr<CudaContext> *out) {
    auto c = std::make_unique<CudaContext>();
    c->lib_ = &model.library();
    char why[kWhy] = "";
    const int status = c->lib_->context_create(model.handle(), &desc, &c->handle_, &c->bytes_, why, kWhy);
    if (status != LMRT_OK) return Status::error(static_cast<lmrt_status>(status), "%s", why);
    *out = std::move(c);
    return Status::ok();
}

Status CudaContext::step(const lmrt_cuda_step &step) {
    char why[kWhy] = "";
    const int status = lib_->context_step(handle_, &step, why, kWhy);
    if (status != LMRT_OK) return Status::error(static_cast<lmrt_status>(status), "%s", why);
    return Status::ok();
}

} // namespace lmrt
