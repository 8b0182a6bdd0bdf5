#include "gguf_reader.h"

#include <cinttypes>
#include <cstring>
#include <unordered_set>

#include "../core/checked_math.h"
#include "../core/ggml_types.h"

namespace lmrt {

uint64_t gguf_scalar_size(uint32_t value_type) {
    switch (value_type) {
    case LMRT_GGUF_UINT8:
    case LMRT_GGUF_INT8:
    case LMRT_GGUF_BOOL: return 1;
    case LMRT_GGUF_UINT16:
    case LMRT_GGUF_INT16: return 2;
    case LMRT_GGUF_UINT32:
    case LMRT_GGUF_INT32:
    case LMRT_GGUF_FLOAT32: return 4;
    case LMRT_GGUF_UINT64:
    case LMRT_GGUF_INT64:
    case LMRT_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

namespace {

constexpr uint32_t kMaxValueType = LMRT_GGUF_FLOAT64;
// The fewest bytes a metadata entry and a tensor info can occupy; used to
// reject absurd counts before reserving anything.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;

// Bounds-checked little-endian reads over [base, base + size).
class Cursor {
  public:
    Cursor(const uint8_t *base, uint64_t size, const std::string &name)
        : base_(base), size_(size), name_(name) {}

    uint64_t pos() const { return pos_; }
    uint64_t remaining() const { return size_ - pos_; }

    Status read_u32(uint32_t *out, const char *what) {
        return read_raw(out, sizeof *out, what);
    }
    Status read_u64(uint64_t *out, const char *what) {
        return read_raw(out, sizeof *out, what);
    }
    Status read_string(std::string_view *out, const char *what) {
        uint64_t len = 0;
        LMRT_RETURN_IF_ERROR(read_u64(&len, what));
        if (len > remaining()) {
            return Status::error(LMRT_E_GGUF_INVALID,
                                 "%s: %s at offset %" PRIu64 " claims %" PRIu64
                                 " bytes but only %" PRIu64 " remain in the file",
                                 name_.c_str(), what, pos_ - 8, len, remaining());
        }
        *out = std::string_view(reinterpret_cast<const char *>(base_ + pos_), static_cast<size_t>(len));
        pos_ += len;
        return Status::ok();
    }
    // Claims `n` bytes, returning a pointer to them.
    Status take(uint64_t n, const uint8_t **out, const char *what) {
        if (n > remaining()) return truncated(what, n);
        *out = base_ + pos_;
        pos_ += n;
        return Status::ok();
    }

  private:
    Status read_raw(void *out, uint64_t n, const char *what) {
        if (n > remaining()) return truncated(what, n);
        std::memcpy(out, base_ + pos_, n);
        pos_ += n;
        return Status::ok();
    }
    Status truncated(const char *what, uint64_t n) const {
        return Status::error(LMRT_E_GGUF_INVALID,
                             "%s: truncated: %s needs %" PRIu64 " bytes at offset %" PRIu64
                             " but the file has %" PRIu64 " bytes",
                             name_.c_str(), what, n, pos_, size_);
    }

    const uint8_t *base_;
    uint64_t size_;
    uint64_t pos_ = 0;
    const std::string &name_;
};

class Parser {
  public:
    Parser(Cursor &cur, const std::string &name) : cur_(cur), name_(name) {}

    Status value(uint32_t type, int depth, GgufValue *out) {
        out->type = type;
        switch (type) {
        case LMRT_GGUF_STRING: return cur_.read_string(&out->str, "string value");
        case LMRT_GGUF_ARRAY: {
            out->array = std::make_unique<GgufArray>();
            return array(depth, out->array.get());
        }
        default: break;
        }
        const uint64_t n = gguf_scalar_size(type);
        const uint8_t *p = nullptr;
        LMRT_RETURN_IF_ERROR(cur_.take(n, &p, "metadata value"));
        switch (type) {
        case LMRT_GGUF_UINT8: out->scalar.u64 = p[0]; break;
        case LMRT_GGUF_BOOL: out->scalar.u64 = p[0] != 0; break;
        case LMRT_GGUF_INT8: out->scalar.i64 = static_cast<int8_t>(p[0]); break;
        case LMRT_GGUF_UINT16: out->scalar.u64 = load<uint16_t>(p); break;
        case LMRT_GGUF_INT16: out->scalar.i64 = load<int16_t>(p); break;
        case LMRT_GGUF_UINT32: out->scalar.u64 = load<uint32_t>(p); break;
        case LMRT_GGUF_INT32: out->scalar.i64 = load<int32_t>(p); break;
        case LMRT_GGUF_UINT64: out->scalar.u64 = load<uint64_t>(p); break;
        case LMRT_GGUF_INT64: out->scalar.i64 = load<int64_t>(p); break;
        case LMRT_GGUF_FLOAT32: out->scalar.f64 = load<float>(p); break;
        case LMRT_GGUF_FLOAT64: out->scalar.f64 = load<double>(p); break;
        default: return Status::error(LMRT_E_INTERNAL, "unhandled value type %u", type);
        }
        return Status::ok();
    }

    Status value_type(uint32_t *type, const char *what) {
        const uint64_t at = cur_.pos();
        LMRT_RETURN_IF_ERROR(cur_.read_u32(type, what));
        if (*type > kMaxValueType) {
            return Status::error(LMRT_E_GGUF_INVALID, "%s: unknown metadata value type %u at offset %" PRIu64,
                                 name_.c_str(), *type, at);
        }
        return Status::ok();
    }

  private:
    template <typename T> static T load(const uint8_t *p) {
        T v;
        std::memcpy(&v, p, sizeof v);
        return v;
    }

    Status array(int depth, GgufArray *out) {
        if (depth >= kGgufMaxArrayDepth) {
            return Status::error(LMRT_E_GGUF_UNSUPPORTED, "%s: arrays nested deeper than %d levels at offset %" PRIu64,
                                 name_.c_str(), kGgufMaxArrayDepth, cur_.pos());
        }
        LMRT_RETURN_IF_ERROR(value_type(&out->elem_type, "array element type"));
        const uint64_t count_at = cur_.pos();
        LMRT_RETURN_IF_ERROR(cur_.read_u64(&out->count, "array length"));
        const uint64_t elem = gguf_scalar_size(out->elem_type);
        if (elem != 0) {
            uint64_t bytes;
            if (!checked_mul(out->count, elem, &bytes) || bytes > cur_.remaining()) {
                return too_long(count_at, out->count);
            }
            return cur_.take(bytes, &out->packed, "array");
        }
        // strings need >= 8 bytes each, nested arrays >= 12: bound the count
        // by the bytes left before reserving for it
        const uint64_t min_elem = out->elem_type == LMRT_GGUF_STRING ? 8 : 12;
        if (out->count > cur_.remaining() / min_elem) return too_long(count_at, out->count);
        if (out->elem_type == LMRT_GGUF_STRING) {
            out->strings.resize(out->count);
            for (uint64_t i = 0; i < out->count; ++i) {
                LMRT_RETURN_IF_ERROR(cur_.read_string(&out->strings[i], "array string"));
            }
        } else {
            out->nested.resize(out->count);
            for (uint64_t i = 0; i < out->count; ++i) {
                out->nested[i].type = LMRT_GGUF_ARRAY;
                out->nested[i].array = std::make_unique<GgufArray>();
                LMRT_RETURN_IF_ERROR(array(depth + 1, out->nested[i].array.get()));
            }
        }
        return Status::ok();
    }

    Status too_long(uint64_t at, uint64_t count) const {
        return Status::error(LMRT_E_GGUF_INVALID,
                             "%s: array at offset %" PRIu64 " claims %" PRIu64
                             " elements, more than the %" PRIu64 " bytes left in the file can hold",
                             name_.c_str(), at, count, cur_.remaining());
    }

    Cursor &cur_;
    const std::string &name_;
};

} // namespace

Status GgufReader::open_file(const std::string &path) {
    name_ = path;
    LMRT_RETURN_IF_ERROR(file_.open(path));
    bytes_ = file_.data();
    size_ = file_.size();
    return parse();
}

Status GgufReader::open_memory(const uint8_t *bytes, uint64_t size, const std::string &name) {
    name_ = name;
    bytes_ = bytes;
    size_ = bytes == nullptr ? 0 : size;
    return parse();
}

int64_t GgufReader::find_kv(std::string_view key) const {
    auto it = kv_index_.find(key);
    return it == kv_index_.end() ? -1 : static_cast<int64_t>(it->second);
}

Status GgufReader::parse() {
    const char *name = name_.c_str();
    Cursor cur(bytes_, size_, name_);
    Parser parser(cur, name_);

    const uint8_t *magic = nullptr;
    if (size_ < 4 || std::memcmp(bytes_, "GGUF", 4) != 0) {
        if (size_ < 4) {
            return Status::error(LMRT_E_GGUF_INVALID, "%s: not a GGUF file: only %" PRIu64 " bytes", name, size_);
        }
        return Status::error(LMRT_E_GGUF_INVALID,
                             "%s: not a GGUF file: starts with bytes %02x %02x %02x %02x, expected \"GGUF\"",
                             name, bytes_[0], bytes_[1], bytes_[2], bytes_[3]);
    }
    LMRT_RETURN_IF_ERROR(cur.take(4, &magic, "magic"));
    LMRT_RETURN_IF_ERROR(cur.read_u32(&version_, "version"));
    if (version_ != 2 && version_ != 3) {
        if (version_ == 1) {
            return Status::error(LMRT_E_GGUF_UNSUPPORTED,
                                 "%s: GGUF version 1 is not supported (lmrt reads versions 2 and 3)", name);
        }
        if ((version_ & 0xffffu) == 0 && (version_ >> 24) >= 1 && (version_ >> 24) <= 3) {
            return Status::error(LMRT_E_GGUF_UNSUPPORTED,
                                 "%s: big-endian GGUF files are not supported", name);
        }
        return Status::error(LMRT_E_GGUF_UNSUPPORTED,
                             "%s: unknown GGUF version %u (lmrt reads versions 2 and 3)", name, version_);
    }
    uint64_t n_tensors = 0, n_kv = 0;
    LMRT_RETURN_IF_ERROR(cur.read_u64(&n_tensors, "tensor count"));
    LMRT_RETURN_IF_ERROR(cur.read_u64(&n_kv, "metadata count"));
    {
        uint64_t min_kv, min_ti, min_all;
        if (!checked_mul(n_kv, kMinKvBytes, &min_kv) || !checked_mul(n_tensors, kMinTensorInfoBytes, &min_ti) ||
            !checked_add(min_kv, min_ti, &min_all) || min_all > cur.remaining()) {
            return Status::error(LMRT_E_GGUF_INVALID,
                                 "%s: header claims %" PRIu64 " metadata entries and %" PRIu64
                                 " tensors, more than a %" PRIu64 "-byte file can hold",
                                 name, n_kv, n_tensors, size_);
        }
    }

    kvs_.resize(n_kv);
    kv_index_.reserve(n_kv);
    for (uint64_t i = 0; i < n_kv; ++i) {
        GgufKv &kv = kvs_[i];
        LMRT_RETURN_IF_ERROR(cur.read_string(&kv.key, "metadata key"));
        uint32_t type = 0;
        LMRT_RETURN_IF_ERROR(parser.value_type(&type, "metadata value type"));
        LMRT_RETURN_IF_ERROR(parser.value(type, 0, &kv.value));
        if (!kv_index_.emplace(kv.key, i).second) {
            return Status::error(LMRT_E_GGUF_INVALID, "%s: duplicate metadata key '%.*s'", name,
                                 static_cast<int>(std::min<size_t>(kv.key.size(), 200)), kv.key.data());
        }
    }

    const int64_t align_idx = find_kv("general.alignment");
    if (align_idx >= 0) {
        const GgufValue &v = kvs_[static_cast<uint64_t>(align_idx)].value;
        if (v.type != LMRT_GGUF_UINT32) {
            return Status::error(LMRT_E_GGUF_INVALID, "%s: general.alignment must be a uint32 (found value type %u)",
                                 name, v.type);
        }
        const uint64_t a = v.scalar.u64;
        if (a == 0 || (a & (a - 1)) != 0) {
            return Status::error(LMRT_E_GGUF_INVALID, "%s: general.alignment %" PRIu64 " is not a power of two",
                                 name, a);
        }
        alignment_ = static_cast<uint32_t>(a);
    }

    tensors_.resize(n_tensors);
    std::unordered_set<std::string_view> names;
    names.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) {
        GgufTensor &t = tensors_[i];
        LMRT_RETURN_IF_ERROR(cur.read_string(&t.name, "tensor name"));
        const int name_len = static_cast<int>(std::min<size_t>(t.name.size(), 200));
        if (t.name.size() > kGgufMaxTensorName) {
            return Status::error(LMRT_E_GGUF_INVALID, "%s: tensor %" PRIu64 " has a %zu-byte name; GGUF allows %" PRIu64,
                                 name, i, t.name.size(), kGgufMaxTensorName);
        }
        if (!names.insert(t.name).second) {
            return Status::error(LMRT_E_GGUF_INVALID, "%s: duplicate tensor name '%.*s'", name, name_len, t.name.data());
        }
        LMRT_RETURN_IF_ERROR(cur.read_u32(&t.n_dims, "tensor dimension count"));
        if (t.n_dims > kGgufMaxDims) {
            return Status::error(LMRT_E_GGUF_INVALID, "%s: tensor '%.*s' has %u dimensions; GGUF allows at most %u",
                                 name, name_len, t.name.data(), t.n_dims, kGgufMaxDims);
        }
        uint64_t n_elements = 1;
        for (uint32_t d = 0; d < t.n_dims; ++d) {
            LMRT_RETURN_IF_ERROR(cur.read_u64(&t.ne[d], "tensor dimension"));
            if (t.ne[d] > static_cast<uint64_t>(INT64_MAX) || !checked_mul(n_elements, t.ne[d], &n_elements) ||
                n_elements > static_cast<uint64_t>(INT64_MAX)) {
                return Status::error(LMRT_E_GGUF_INVALID, "%s: tensor '%.*s' has an absurd shape (dimension %u = %" PRIu64 ")",
                                     name, name_len, t.name.data(), d, t.ne[d]);
            }
        }
        LMRT_RETURN_IF_ERROR(cur.read_u32(&t.type, "tensor type"));
        const TypeLayout *layout = find_type_layout(t.type);
        if (layout == nullptr) {
            return Status::error(LMRT_E_GGUF_UNSUPPORTED, "%s: tensor '%.*s' has unknown type id %u", name, name_len,
                                 t.name.data(), t.type);
        }
        if (t.ne[0] % layout->block_size != 0) {
            return Status::error(LMRT_E_GGUF_INVALID,
                                 "%s: tensor '%.*s' has rows of %" PRIu64 " elements, not a multiple of %s's block of %u",
                                 name, name_len, t.name.data(), t.ne[0], layout->name, layout->block_size);
        }
        // n_elements <= INT64_MAX and block_bytes <= 292, so this cannot wrap
        t.n_bytes = n_elements / layout->block_size * layout->block_bytes;
        LMRT_RETURN_IF_ERROR(cur.read_u64(&t.offset, "tensor offset"));
        if (t.offset % alignment_ != 0) {
            return Status::error(LMRT_E_GGUF_INVALID, "%s: tensor '%.*s' offset %" PRIu64 " is not a multiple of the alignment %u",
                                 name, name_len, t.name.data(), t.offset, alignment_);
        }
    }

    if (!checked_align_up(cur.pos(), alignment_, &data_offset_)) {
        return Status::error(LMRT_E_GGUF_INVALID, "%s: data section offset overflows", name);
    }
    for (const GgufTensor &t : tensors_) {
        uint64_t begin, end;
        if (!checked_add(data_offset_, t.offset, &begin) || !checked_add(begin, t.n_bytes, &end) || end > size_) {
            return Status::error(LMRT_E_GGUF_INVALID,
                                 "%s: tensor '%.*s' (%" PRIu64 " bytes at data offset %" PRIu64
                                 ") extends past the end of the %" PRIu64 "-byte file",
                                 name, static_cast<int>(std::min<size_t>(t.name.size(), 200)), t.name.data(), t.n_bytes,
                                 t.offset, size_);
        }
    }
    return Status::ok();
}

} // namespace lmrt
