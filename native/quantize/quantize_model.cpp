#include "quantize_model.h"

#include <deque>
#include <vector>

#include "../core/ggml_types.h"
#include "../core/quant.h"
#include "../gguf/gguf_reader.h"
#include "../gguf/gguf_writer.h"

namespace lmrt {

namespace {

lmrt_string as_string(std::string_view s) { return lmrt_string{s.data(), s.size()}; }

// Metadata values as the writer takes them: arrays of strings and of arrays
// need lists of their own, which `lists` keeps alive.
class ValueCopier {
  public:
    lmrt_gguf_value_in copy(const GgufValue &v) {
        lmrt_gguf_value_in out{};
        out.type = static_cast<lmrt_gguf_value_type>(v.type);
        switch (v.type) {
        case LMRT_GGUF_INT8:
        case LMRT_GGUF_INT16:
        case LMRT_GGUF_INT32:
        case LMRT_GGUF_INT64: out.as.i64 = v.scalar.i64; break;
        case LMRT_GGUF_FLOAT32:
        case LMRT_GGUF_FLOAT64: out.as.f64 = v.scalar.f64; break;
        case LMRT_GGUF_STRING: out.as.str = as_string(v.str); break;
        case LMRT_GGUF_ARRAY: copy_array(*v.array, &out); break;
        default: out.as.u64 = v.scalar.u64; break; // unsigned and bool
        }
        return out;
    }

  private:
    void copy_array(const GgufArray &a, lmrt_gguf_value_in *out) {
        out->as.array.elem_type = static_cast<lmrt_gguf_value_type>(a.elem_type);
        out->as.array.count = a.count;
        if (a.elem_type == LMRT_GGUF_STRING) {
            std::vector<lmrt_string> &list = strings_.emplace_back();
            list.reserve(a.strings.size());
            for (std::string_view s : a.strings) list.push_back(as_string(s));
            out->as.array.data = list.data();
        } else if (a.elem_type == LMRT_GGUF_ARRAY) {
            std::vector<lmrt_gguf_value_in> &list = arrays_.emplace_back();
            list.reserve(a.nested.size());
            for (const GgufValue &n : a.nested) list.push_back(copy(n));
            out->as.array.data = list.data();
        } else {
            out->as.array.data = a.packed;
        }
    }

    std::deque<std::vector<lmrt_string>> strings_;
    std::deque<std::vector<lmrt_gguf_value_in>> arrays_;
};

lmrt_gguf_value_in u32_value(uint32_t v) {
    lmrt_gguf_value_in out{};
    out.type = LMRT_GGUF_UINT32;
    out.as.u64 = v;
    return out;
}

bool is_quantised(uint32_t type) { return type != LMRT_TYPE_F32 && type != LMRT_TYPE_F16 && type != LMRT_TYPE_BF16; }

// The gguf "split" keys of a multi-file model do not describe the one file written.
bool dropped_key(std::string_view key) { return key == "split.no" || key == "split.count" || key == "split.tensors.count"; }

} // namespace

Status quantize_model(const QuantizeRequest &rq) {
    GgufReader in;
    LMRT_RETURN_IF_ERROR(in.open_file(rq.in_path));
    const int64_t arch_kv = in.find_kv("general.architecture");
    if (arch_kv < 0 || in.kvs()[static_cast<size_t>(arch_kv)].value.type != LMRT_GGUF_STRING) {
        return Status::error(LMRT_E_GGUF_INVALID, "%s: general.architecture is missing", rq.in_path.c_str());
    }
    const std::string arch(in.kvs()[static_cast<size_t>(arch_kv)].value.str);
    PresetModel model;
    model.falcon = arch == "falcon";
    const int64_t layers_kv = in.find_kv(arch + ".block_count");
    if (layers_kv < 0) return Status::error(LMRT_E_GGUF_INVALID, "%s: %s.block_count is missing", rq.in_path.c_str(), arch.c_str());
    model.n_layer = static_cast<int>(in.kvs()[static_cast<size_t>(layers_kv)].value.scalar.u64);
    for (const GgufTensor &t : in.tensors()) {
        if (t.name == "output.weight") model.has_output = true;
        if (t.name.find("attn_v.weight") != std::string_view::npos || t.name.find("attn_qkv.weight") != std::string_view::npos) {
            ++model.n_attention_v;
        }
    }

    // metadata: the input's, with the file type and quantisation version set in place (or appended)
    ValueCopier copier;
    std::vector<lmrt_gguf_kv_in> kvs;
    bool have_file_type = false, have_version = false;
    for (const GgufKv &kv : in.kvs()) {
        if (dropped_key(kv.key)) continue;
        lmrt_gguf_kv_in out{as_string(kv.key), copier.copy(kv.value)};
        if (kv.key == "general.file_type") out.value = u32_value(static_cast<uint32_t>(rq.preset)), have_file_type = true;
        if (kv.key == "general.quantization_version") out.value = u32_value(2), have_version = true;
        kvs.push_back(out);
    }
    if (!have_version) kvs.push_back({as_string("general.quantization_version"), u32_value(2)});
    if (!have_file_type) kvs.push_back({as_string("general.file_type"), u32_value(static_cast<uint32_t>(rq.preset))});

    // tensors: copied as they are, or decoded and encoded into their chosen type
    std::vector<lmrt_gguf_tensor_in> tensors;
    tensors.reserve(in.tensors().size());
    for (const GgufTensor &t : in.tensors()) {
        const TypeLayout *from = find_type_layout(t.type);
        if (from == nullptr) return Status::error(LMRT_E_GGUF_UNSUPPORTED, "tensor '%.*s': unknown type %u", static_cast<int>(t.name.size()), t.name.data(), t.type);
        const TensorChoice choice = choose_tensor_type(rq.preset, model, t.name, t.ne[0], t.n_dims, t.type);
        lmrt_gguf_tensor_in out{};
        out.name = as_string(t.name);
        out.n_dims = t.n_dims;
        for (uint32_t d = 0; d < 4; ++d) out.ne[d] = t.ne[d];
        out.data = in.bytes() + in.data_offset() + t.offset;
        out.data_bytes = t.n_bytes;
        const bool convert = choice.quantize && choice.type != t.type;
        if (convert && !can_encode_type(t.type)) {
            return Status::error(LMRT_E_GGUF_UNSUPPORTED, "tensor '%.*s' is %s, which lmrt cannot decode to requantise", static_cast<int>(t.name.size()),
                                 t.name.data(), from->name);
        }
        out.type = convert ? choice.type : t.type;
        out.source = convert ? LMRT_SOURCE_CONVERT : LMRT_SOURCE_RAW;
        out.source_type = t.type;
        tensors.push_back(out);
        if (rq.plan != nullptr) {
            const TypeLayout *to = find_type_layout(out.type);
            const uint64_t n = t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3];
            lmrt_quantized_tensor report{};
            report.name = out.name;
            report.from_type = t.type;
            report.to_type = out.type;
            report.fallback = choice.fallback ? 1 : 0;
            report.requantized = convert && is_quantised(t.type) ? 1 : 0;
            report.n_elements = n;
            report.bytes_in = t.n_bytes;
            report.bytes_out = n / to->block_size * to->block_bytes;
            rq.plan(rq.user, &report);
        }
    }

    GgufWriteRequest w;
    w.path = rq.out_path;
    w.alignment = in.alignment();
    w.kvs = kvs.data();
    w.n_kvs = kvs.size();
    w.tensors = tensors.data();
    w.n_tensors = tensors.size();
    w.progress = rq.progress;
    w.progress_user = rq.user;
    w.n_threads = rq.n_threads;
    // input pages leave memory once what they encode is written: the mapped input does not pile up
    w.source_written = [&](const void *p, uint64_t n) { in.release_pages(p, n); };
    return gguf_write(w);
}

} // namespace lmrt
