#include <string>

#include "../../kernels/cuda/matvec.cuh"
#include "device_model.cuh"

namespace lmrt::cuda {

namespace {

constexpr size_t kAlign = 256;

size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

// A tensor of the description, its name for messages, and where it goes.
struct Upload {
    const lmrt_cuda_tensor *from;
    std::string name;
    DeviceTensor *to;
    bool matrix; // read by matvec (else a vector of f32: norm weights, biases)
};

} // namespace

int DeviceModel::create(const lmrt_cuda_model_desc &desc, const Why &why) {
    hp = desc;
    hp.layers = nullptr;
    if (desc.first_layer < 0 || desc.first_layer >= desc.n_layer) {
        return why.fail(LMRT_E_INVALID_ARGUMENT, "the CUDA backend's first layer %d is not one of the model's %d", desc.first_layer, desc.n_layer);
    }
    layers.resize(static_cast<size_t>(desc.n_layer - desc.first_layer));
    // the embeddings only where the device starts the model; the output matrix
    // may be the embedding table (tied), then uploaded once
    const bool tied = desc.output.data == desc.tok_embd.data;
    std::vector<Upload> uploads = {{&desc.output_norm, "output_norm.weight", &output_norm, false},
                                   {&desc.output_norm_b, "output_norm.bias", &output_norm_b, false}};
    if (desc.first_layer == 0 || tied) uploads.push_back({&desc.tok_embd, "token_embd.weight", &tok_embd, true});
    if (desc.first_layer == 0) uploads.push_back({&desc.pos_embd, "position_embd.weight", &pos_embd, true});
    if (!tied) uploads.push_back({&desc.output, "output.weight", &output, true});
    for (int i = desc.first_layer; i < desc.n_layer; ++i) {
        const lmrt_cuda_layer &from = desc.layers[i - desc.first_layer];
        DeviceLayer &to = layers[static_cast<size_t>(i - desc.first_layer)];
        const std::string b = "blk." + std::to_string(i) + ".";
        uploads.insert(uploads.end(), {{&from.attn_norm, b + "attn_norm.weight", &to.attn_norm, false},
                                       {&from.attn_norm_b, b + "attn_norm.bias", &to.attn_norm_b, false},
                                       {&from.wq, b + "attn_q.weight", &to.wq, true},
                                       {&from.wk, b + "attn_k.weight", &to.wk, true},
                                       {&from.wv, b + "attn_v.weight", &to.wv, true},
                                       {&from.wqkv, b + "attn_qkv.weight", &to.wqkv, true},
                                       {&from.bq, b + "attn_q.bias", &to.bq, false},
                                       {&from.bk, b + "attn_k.bias", &to.bk, false},
                                       {&from.bv, b + "attn_v.bias", &to.bv, false},
                                       {&from.bqkv, b + "attn_qkv.bias", &to.bqkv, false},
                                       {&from.q_norm, b + "attn_q_norm.weight", &to.q_norm, false},
                                       {&from.k_norm, b + "attn_k_norm.weight", &to.k_norm, false},
                                       {&from.wo, b + "attn_output.weight", &to.wo, true},
                                       {&from.bo, b + "attn_output.bias", &to.bo, false},
                                       {&from.ffn_norm, b + "ffn_norm.weight", &to.ffn_norm, false},
                                       {&from.ffn_norm_b, b + "ffn_norm.bias", &to.ffn_norm_b, false},
                                       {&from.w_gate, b + "ffn_gate.weight", &to.w_gate, true},
                                       {&from.w_up, b + "ffn_up.weight", &to.w_up, true},
                                       {&from.w_down, b + "ffn_down.weight", &to.w_down, true},
                                       {&from.b_up, b + "ffn_up.bias", &to.b_up, false},
                                       {&from.b_down, b + "ffn_down.bias", &to.b_down, false}});
    }
    size_t total = 0;
    for (const Upload &u : uploads) {
        if (u.from->data == nullptr) continue;
        if (u.matrix ? !matvec_supports(u.from->type, u.from->ne[0]) : u.from->type != LMRT_TYPE_F32) {
            const char *type = u.from->type_name != nullptr ? u.from->type_name : "unknown";
            return why.fail(LMRT_E_GGUF_UNSUPPORTED, "the CUDA backend cannot run tensor %s: type %s with rows of %lld values%s", u.name.c_str(),
                            type, static_cast<long long>(u.from->ne[0]),
                            u.matrix ? " (it reads F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K and Q6_K)" : " (norm weights and biases must be F32)");
        }
        total += aligned(u.from->bytes);
    }
    LMRT_CUDA_TRY(cudaSetDevice(desc.device), why, "selecting the device");
    LMRT_CUDA_TRY(weights_.allocate(total), why, "allocating the weights");
    size_t offset = 0;
    for (const Upload &u : uploads) {
        if (u.from->data == nullptr) continue;
        uint8_t *dst = weights_.get<uint8_t>() + offset;
        LMRT_CUDA_TRY(cudaMemcpy(dst, u.from->data, u.from->bytes, cudaMemcpyHostToDevice), why, "uploading the weights");
        *u.to = DeviceTensor{dst, u.from->type, u.from->ne[0], u.from->ne[1] * u.from->ne[2] * u.from->ne[3]};
        offset += aligned(u.from->bytes);
    }
    if (tied) output = tok_embd;
    return LMRT_OK;
}

} // namespace lmrt::cuda
