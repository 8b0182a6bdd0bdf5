#include "gguf_writer.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_set>
#include <vector>

#include "../core/checked_math.h"
#include "../core/ggml_types.h"
#include "../core/quant.h"
#include "../core/thread_pool.h"
#include "gguf_reader.h"

namespace lmrt {

namespace {

// Elements generated and encoded per chunk (16 MiB of float32).
constexpr uint64_t kChunkElements = uint64_t{1} << 22;

std::string_view view(const lmrt_string &s) {
    return std::string_view(s.data == nullptr ? "" : s.data, s.data == nullptr ? 0 : static_cast<size_t>(s.len));
}

std::string printable(std::string_view s) {
    return std::string(s.substr(0, 200));
}

class HeaderBuilder {
  public:
    std::vector<uint8_t> bytes;

    void u32(uint32_t v) { raw(&v, 4); }
    void u64(uint64_t v) { raw(&v, 8); }
    void str(std::string_view s) {
        u64(s.size());
        raw(s.data(), s.size());
    }
    void raw(const void *p, uint64_t n) {
        const auto *b = static_cast<const uint8_t *>(p);
        bytes.insert(bytes.end(), b, b + n);
    }

    Status value(const lmrt_gguf_value_in &v, std::string_view key, int depth) {
        switch (v.type) {
        case LMRT_GGUF_UINT8:
        case LMRT_GGUF_BOOL: return scalar<uint8_t>(v.type == LMRT_GGUF_BOOL ? (v.as.u64 != 0) : v.as.u64, v, key, 0xff);
        case LMRT_GGUF_UINT16: return scalar<uint16_t>(v.as.u64, v, key, 0xffff);
        case LMRT_GGUF_UINT32: return scalar<uint32_t>(v.as.u64, v, key, 0xffffffffu);
        case LMRT_GGUF_UINT64: return scalar<uint64_t>(v.as.u64, v, key, UINT64_MAX);
        case LMRT_GGUF_INT8: return signed_scalar<int8_t>(v.as.i64, key);
        case LMRT_GGUF_INT16: return signed_scalar<int16_t>(v.as.i64, key);
        case LMRT_GGUF_INT32: return signed_scalar<int32_t>(v.as.i64, key);
        case LMRT_GGUF_INT64: return signed_scalar<int64_t>(v.as.i64, key);
        case LMRT_GGUF_FLOAT32: {
            const float f = static_cast<float>(v.as.f64);
            raw(&f, 4);
            return Status::ok();
        }
        case LMRT_GGUF_FLOAT64: raw(&v.as.f64, 8); return Status::ok();
        case LMRT_GGUF_STRING:
            if (v.as.str.data == nullptr && v.as.str.len != 0) return null_data(key);
            str(view(v.as.str));
            return Status::ok();
        case LMRT_GGUF_ARRAY: return array(v, key, depth);
        default:
            return Status::error(LMRT_E_INVALID_ARGUMENT, "metadata '%s': unknown value type %u",
                                 printable(key).c_str(), v.type);
        }
    }

  private:
    template <typename T> Status scalar(uint64_t value, const lmrt_gguf_value_in &, std::string_view key, uint64_t max) {
        if (value > max) {
            return Status::error(LMRT_E_INVALID_ARGUMENT, "metadata '%s': %" PRIu64 " does not fit its type",
                                 printable(key).c_str(), value);
        }
        const T t = static_cast<T>(value);
        raw(&t, sizeof t);
        return Status::ok();
    }
    template <typename T> Status signed_scalar(int64_t value, std::string_view key) {
        if (value < static_cast<int64_t>(INT64_MIN >> (64 - 8 * sizeof(T))) ||
            value > static_cast<int64_t>(INT64_MAX >> (64 - 8 * sizeof(T)))) {
            return Status::error(LMRT_E_INVALID_ARGUMENT, "metadata '%s': %" PRId64 " does not fit its type",
                                 printable(key).c_str(), value);
        }
        const T t = static_cast<T>(value);
        raw(&t, sizeof t);
        return Status::ok();
    }
    Status null_data(std::string_view key) {
        return Status::error(LMRT_E_INVALID_ARGUMENT, "metadata '%s': null data", printable(key).c_str());
    }

    Status array(const lmrt_gguf_value_in &v, std::string_view key, int depth) {
        if (depth >= kGgufMaxArrayDepth) {
            return Status::error(LMRT_E_INVALID_ARGUMENT, "metadata '%s': arrays nested deeper than %d levels",
                                 printable(key).c_str(), kGgufMaxArrayDepth);
        }
        const uint32_t et = v.as.array.elem_type;
        const uint64_t n = v.as.array.count;
        if (v.as.array.data == nullptr && n != 0) return null_data(key);
        u32(et);
        u64(n);
        const uint64_t elem = gguf_scalar_size(et);
        if (elem != 0) {
            uint64_t total;
            if (!checked_mul(elem, n, &total)) return Status::error(LMRT_E_INVALID_ARGUMENT, "metadata '%s': array too long", printable(key).c_str());
            const auto *p = static_cast<const uint8_t *>(v.as.array.data);
            if (et == LMRT_GGUF_BOOL) {
                for (uint64_t i = 0; i < n; ++i) bytes.push_back(p[i] != 0);
            } else {
                raw(p, total);
            }
            return Status::ok();
        }
        if (et == LMRT_GGUF_STRING) {
            const auto *s = static_cast<const lmrt_string *>(v.as.array.data);
            for (uint64_t i = 0; i < n; ++i) {
                if (s[i].data == nullptr && s[i].len != 0) return null_data(key);
                str(view(s[i]));
            }
            return Status::ok();
        }
        if (et == LMRT_GGUF_ARRAY) {
            const auto *items = static_cast<const lmrt_gguf_value_in *>(v.as.array.data);
            for (uint64_t i = 0; i < n; ++i) {
                if (items[i].type != LMRT_GGUF_ARRAY) {
                    return Status::error(LMRT_E_INVALID_ARGUMENT, "metadata '%s': element %" PRIu64 " of an array of arrays is not an array",
                                         printable(key).c_str(), i);
                }
                // a nested array is written without its own type tag
                LMRT_RETURN_IF_ERROR(array(items[i], key, depth + 1));
            }
            return Status::ok();
        }
        return Status::error(LMRT_E_INVALID_ARGUMENT, "metadata '%s': unknown array element type %u",
                             printable(key).c_str(), et);
    }
};

struct PlannedTensor {
    const lmrt_gguf_tensor_in *in;
    const TypeLayout *layout;
    uint64_t n_elements;
    uint64_t n_bytes;
    uint64_t offset;
};

Status plan_tensor(const lmrt_gguf_tensor_in &t, PlannedTensor *out) {
    const std::string name = printable(view(t.name));
    if (t.name.data == nullptr || t.name.len == 0) return Status::error(LMRT_E_INVALID_ARGUMENT, "a tensor has an empty name");
    if (t.name.len > kGgufMaxTensorName) {
        return Status::error(LMRT_E_INVALID_ARGUMENT, "tensor '%s': name longer than GGUF's %" PRIu64 " bytes",
                             name.c_str(), kGgufMaxTensorName);
    }
    if (t.n_dims < 1 || t.n_dims > kGgufMaxDims) {
        return Status::error(LMRT_E_INVALID_ARGUMENT, "tensor '%s': %u dimensions (GGUF allows 1 to %u)", name.c_str(),
                             t.n_dims, kGgufMaxDims);
    }
    out->in = &t;
    out->layout = find_type_layout(t.type);
    if (out->layout == nullptr) {
        return Status::error(LMRT_E_GGUF_UNSUPPORTED, "tensor '%s': unknown tensor type id %u", name.c_str(), t.type);
    }
    out->n_elements = 1;
    for (uint32_t d = 0; d < t.n_dims; ++d) {
        if (t.ne[d] == 0 || t.ne[d] > static_cast<uint64_t>(INT64_MAX) || !checked_mul(out->n_elements, t.ne[d], &out->n_elements) ||
            out->n_elements > static_cast<uint64_t>(INT64_MAX)) {
            return Status::error(LMRT_E_INVALID_ARGUMENT, "tensor '%s': invalid dimension %u = %" PRIu64, name.c_str(), d,
                                 t.ne[d]);
        }
    }
    if (t.ne[0] % out->layout->block_size != 0) {
        return Status::error(LMRT_E_INVALID_ARGUMENT,
                             "tensor '%s': rows of %" PRIu64 " elements are not a multiple of %s's block of %u",
                             name.c_str(), t.ne[0], out->layout->name, out->layout->block_size);
    }
    out->n_bytes = out->n_elements / out->layout->block_size * out->layout->block_bytes;
    switch (t.source) {
    case LMRT_SOURCE_RAW:
        if (t.data == nullptr || t.data_bytes != out->n_bytes) {
            return Status::error(LMRT_E_INVALID_ARGUMENT, "tensor '%s': raw data of %" PRIu64 " bytes, expected %" PRIu64 " for %s",
                                 name.c_str(), t.data == nullptr ? 0 : t.data_bytes, out->n_bytes, out->layout->name);
        }
        break;
    case LMRT_SOURCE_F32:
        if (t.data == nullptr || t.data_bytes != out->n_elements * 4) {
            return Status::error(LMRT_E_INVALID_ARGUMENT, "tensor '%s': %" PRIu64 " bytes of float32 data, expected %" PRIu64,
                                 name.c_str(), t.data == nullptr ? 0 : t.data_bytes, out->n_elements * 4);
        }
        [[fallthrough]];
    case LMRT_SOURCE_UNIFORM:
    case LMRT_SOURCE_CONSTANT:
    case LMRT_SOURCE_CONVERT:
        if (t.source == LMRT_SOURCE_CONVERT) {
            const TypeLayout *from = find_type_layout(t.source_type);
            if (from == nullptr || !can_encode_type(t.source_type)) {
                return Status::error(LMRT_E_GGUF_UNSUPPORTED, "tensor '%s': lmrt cannot decode %s", name.c_str(),
                                     from != nullptr ? from->name : "an unknown type");
            }
            if (t.ne[0] % from->block_size != 0 || t.data == nullptr ||
                t.data_bytes != out->n_elements / from->block_size * from->block_bytes) {
                return Status::error(LMRT_E_INVALID_ARGUMENT, "tensor '%s': %" PRIu64 " bytes of %s data do not hold its %" PRIu64 " elements",
                                     name.c_str(), t.data == nullptr ? 0 : t.data_bytes, from->name, out->n_elements);
            }
        }
        if (!can_encode_type(t.type)) {
            return Status::error(LMRT_E_GGUF_UNSUPPORTED, "tensor '%s': lmrt cannot encode values as %s", name.c_str(),
                                 out->layout->name);
        }
        break;
    default: return Status::error(LMRT_E_INVALID_ARGUMENT, "tensor '%s': unknown data source %d", name.c_str(), t.source);
    }
    return Status::ok();
}

// splitmix64: small, fast and identical on every platform.
class Prng {
  public:
    explicit Prng(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // uniform in [-1, 1)
    float symmetric() { return static_cast<float>(next() >> 40) * (2.0f / 16777216.0f) - 1.0f; }

  private:
    uint64_t state_;
};

class OutputFile {
  public:
    ~OutputFile() {
        if (fd_ >= 0) ::close(fd_);
        if (!committed_ && !tmp_path_.empty()) ::unlink(tmp_path_.c_str());
    }

    Status create(const std::string &path) {
        path_ = path;
        std::vector<char> tmpl(path.begin(), path.end());
        const char suffix[] = ".tmp-XXXXXX";
        tmpl.insert(tmpl.end(), suffix, suffix + sizeof suffix);
        fd_ = ::mkstemp(tmpl.data());
        if (fd_ < 0) {
            const int e = errno;
            return Status::error(LMRT_E_IO, "%s: cannot create: %s", path.c_str(), std::strerror(e));
        }
        tmp_path_ = tmpl.data();
        const mode_t mask = ::umask(0);
        ::umask(mask);
        (void)::fchmod(fd_, 0666 & ~mask);
        return Status::ok();
    }

    Status write(const void *data, uint64_t n) {
        const auto *p = static_cast<const uint8_t *>(data);
        while (n > 0) {
            const ssize_t w = ::write(fd_, p, n > (1u << 30) ? (1u << 30) : static_cast<size_t>(n));
            if (w < 0) {
                if (errno == EINTR) continue;
                const int e = errno;
                return Status::error(LMRT_E_IO, "%s: write failed: %s", path_.c_str(), std::strerror(e));
            }
            p += w;
            n -= static_cast<uint64_t>(w);
            written_ += static_cast<uint64_t>(w);
        }
        return Status::ok();
    }

    Status pad_to(uint64_t alignment) {
        static const uint8_t zeros[256] = {};
        uint64_t target;
        if (!checked_align_up(written_, alignment, &target)) return Status::error(LMRT_E_INTERNAL, "offset overflow");
        while (written_ < target) {
            LMRT_RETURN_IF_ERROR(write(zeros, std::min<uint64_t>(sizeof zeros, target - written_)));
        }
        return Status::ok();
    }

    Status commit() {
        if (::close(fd_) != 0) {
            fd_ = -1;
            const int e = errno;
            return Status::error(LMRT_E_IO, "%s: close failed: %s", path_.c_str(), std::strerror(e));
        }
        fd_ = -1;
        if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
            const int e = errno;
            return Status::error(LMRT_E_IO, "%s: cannot rename into place: %s", path_.c_str(), std::strerror(e));
        }
        committed_ = true;
        return Status::ok();
    }

    uint64_t written() const { return written_; }

  private:
    std::string path_, tmp_path_;
    int fd_ = -1;
    bool committed_ = false;
    uint64_t written_ = 0;
};

// One chunk of rows on its way to the file: its values (produced, decoded,
// or read in place) and their encoding.
struct Chunk {
    uint64_t first_row = 0, rows = 0;
    const float *src = nullptr;
    std::vector<float> values;
    std::vector<uint8_t> encoded;
    Status status;
};

// Decodes (LMRT_SOURCE_CONVERT) and encodes one chunk; run on a pool thread.
void encode_chunk(const PlannedTensor &p, Chunk &c) {
    const lmrt_gguf_tensor_in &t = *p.in;
    const uint64_t n = c.rows * t.ne[0];
    if (t.source == LMRT_SOURCE_CONVERT) {
        const TypeLayout *from = find_type_layout(t.source_type);
        const uint8_t *bytes = static_cast<const uint8_t *>(t.data) + c.first_row * t.ne[0] / from->block_size * from->block_bytes;
        c.values.resize(n);
        c.status = dequantize_row(t.source_type, bytes, c.values.data(), n);
        if (!c.status.is_ok()) return;
        c.src = c.values.data();
    }
    c.encoded.resize(n / p.layout->block_size * p.layout->block_bytes);
    c.status = quantize_row(t.type, c.src, c.encoded.data(), n);
}

struct EncodeJob {
    const PlannedTensor *p;
    std::vector<Chunk> *chunks;
    size_t count;
};

Status write_tensor_data(OutputFile &out, const PlannedTensor &p, std::vector<Chunk> &chunks, ThreadPool *pool,
                         const std::function<Status(uint64_t)> &on_bytes, const GgufWriteRequest &rq) {
    const lmrt_gguf_tensor_in &t = *p.in;
    if (t.source == LMRT_SOURCE_RAW) {
        LMRT_RETURN_IF_ERROR(out.write(t.data, p.n_bytes));
        if (rq.source_written) rq.source_written(t.data, p.n_bytes);
        return on_bytes(p.n_bytes);
    }
    const uint64_t row = t.ne[0];
    const uint64_t rows_per_chunk = std::max<uint64_t>(1, kChunkElements / row);
    const uint64_t n_rows = p.n_elements / row;
    Prng prng(t.seed);
    for (uint64_t r0 = 0; r0 < n_rows;) {
        // the next chunks, one per thread; generated values in stream order
        size_t count = 0;
        for (; count < chunks.size() && r0 < n_rows; ++count) {
            Chunk &c = chunks[count];
            c.first_row = r0;
            c.rows = std::min(rows_per_chunk, n_rows - r0);
            r0 += c.rows;
            const uint64_t n = c.rows * row;
            if (t.source == LMRT_SOURCE_F32) {
                c.src = static_cast<const float *>(t.data) + c.first_row * row;
            } else if (t.source == LMRT_SOURCE_UNIFORM || t.source == LMRT_SOURCE_CONSTANT) {
                c.values.resize(n);
                if (t.source == LMRT_SOURCE_UNIFORM) {
                    for (uint64_t i = 0; i < n; ++i) c.values[i] = t.scale * prng.symmetric();
                } else {
                    std::fill(c.values.begin(), c.values.end(), t.scale);
                }
                c.src = c.values.data();
            }
        }
        EncodeJob job{&p, &chunks, count};
        if (pool != nullptr && count > 1) {
            pool->run(
                [](void *user, int ith, int nth) {
                    auto *j = static_cast<EncodeJob *>(user);
                    for (size_t i = static_cast<size_t>(ith); i < j->count; i += static_cast<size_t>(nth)) encode_chunk(*j->p, (*j->chunks)[i]);
                },
                &job);
        } else {
            for (size_t i = 0; i < count; ++i) encode_chunk(p, chunks[i]);
        }
        for (size_t i = 0; i < count; ++i) {
            const Chunk &c = chunks[i];
            if (!c.status.is_ok()) {
                return Status::error(c.status.code(), "tensor '%s': %s", printable(view(t.name)).c_str(), c.status.message().c_str());
            }
            LMRT_RETURN_IF_ERROR(out.write(c.encoded.data(), c.encoded.size()));
            LMRT_RETURN_IF_ERROR(on_bytes(c.encoded.size()));
            if (t.source == LMRT_SOURCE_CONVERT && rq.source_written) {
                const TypeLayout *from = find_type_layout(t.source_type);
                const uint64_t per_row = t.ne[0] / from->block_size * from->block_bytes;
                rq.source_written(static_cast<const uint8_t *>(t.data) + c.first_row * per_row, c.rows * per_row);
            }
        }
    }
    return Status::ok();
}

} // namespace

Status gguf_write(const GgufWriteRequest &rq) {
    const uint32_t alignment = rq.alignment == 0 ? kGgufDefaultAlignment : rq.alignment;
    if ((alignment & (alignment - 1)) != 0) {
        return Status::error(LMRT_E_INVALID_ARGUMENT, "alignment %u is not a power of two", alignment);
    }
    if ((rq.kvs == nullptr && rq.n_kvs != 0) || (rq.tensors == nullptr && rq.n_tensors != 0)) {
        return Status::error(LMRT_E_INVALID_ARGUMENT, "null metadata or tensor list");
    }

    HeaderBuilder h;
    h.raw("GGUF", 4);
    h.u32(3);
    h.u64(rq.n_tensors);
    h.u64(rq.n_kvs);
    std::unordered_set<std::string_view> keys;
    bool alignment_declared = false;
    for (uint64_t i = 0; i < rq.n_kvs; ++i) {
        const lmrt_gguf_kv_in &kv = rq.kvs[i];
        const std::string_view key = view(kv.key);
        if (key.empty()) return Status::error(LMRT_E_INVALID_ARGUMENT, "metadata entry %" PRIu64 " has an empty key", i);
        if (!keys.insert(key).second) {
            return Status::error(LMRT_E_INVALID_ARGUMENT, "duplicate metadata key '%s'", printable(key).c_str());
        }
        if (key == "general.alignment") {
            if (kv.value.type != LMRT_GGUF_UINT32 || kv.value.as.u64 != alignment) {
                return Status::error(LMRT_E_INVALID_ARGUMENT,
                                     "general.alignment must be a uint32 equal to the alignment the file is written with (%u)",
                                     alignment);
            }
            alignment_declared = true;
        }
        h.str(key);
        h.u32(kv.value.type);
        LMRT_RETURN_IF_ERROR(h.value(kv.value, key, 0));
    }
    if (alignment != kGgufDefaultAlignment && !alignment_declared) {
        return Status::error(LMRT_E_INVALID_ARGUMENT, "alignment %u needs a general.alignment metadata entry", alignment);
    }

    std::vector<PlannedTensor> plan(rq.n_tensors);
    std::unordered_set<std::string_view> names;
    uint64_t data_bytes = 0;
    for (uint64_t i = 0; i < rq.n_tensors; ++i) {
        LMRT_RETURN_IF_ERROR(plan_tensor(rq.tensors[i], &plan[i]));
        if (!names.insert(view(rq.tensors[i].name)).second) {
            return Status::error(LMRT_E_INVALID_ARGUMENT, "duplicate tensor name '%s'",
                                 printable(view(rq.tensors[i].name)).c_str());
        }
        plan[i].offset = data_bytes;
        uint64_t end;
        if (!checked_add(data_bytes, plan[i].n_bytes, &end) || !checked_align_up(end, alignment, &data_bytes)) {
            return Status::error(LMRT_E_INVALID_ARGUMENT, "tensors too large");
        }
        const lmrt_gguf_tensor_in &t = rq.tensors[i];
        h.str(view(t.name));
        h.u32(t.n_dims);
        for (uint32_t d = 0; d < t.n_dims; ++d) h.u64(t.ne[d]);
        h.u32(t.type);
        h.u64(plan[i].offset);
    }

    OutputFile out;
    LMRT_RETURN_IF_ERROR(out.create(rq.path));
    LMRT_RETURN_IF_ERROR(out.write(h.bytes.data(), h.bytes.size()));
    const int n_threads = std::max(1, rq.n_threads);
    std::unique_ptr<ThreadPool> pool = n_threads > 1 ? std::make_unique<ThreadPool>(n_threads) : nullptr;
    std::vector<Chunk> chunks(static_cast<size_t>(n_threads));
    uint64_t done = 0;
    const auto on_bytes = [&](uint64_t n) {
        done += n;
        if (rq.progress != nullptr && rq.progress(rq.progress_user, done, data_bytes) != 0) {
            return Status::error(LMRT_E_CANCELLED, "%s: writing cancelled", rq.path.c_str());
        }
        return Status::ok();
    };
    for (const PlannedTensor &p : plan) {
        LMRT_RETURN_IF_ERROR(out.pad_to(alignment));
        LMRT_RETURN_IF_ERROR(write_tensor_data(out, p, chunks, pool.get(), on_bytes, rq));
    }
    if (!plan.empty()) LMRT_RETURN_IF_ERROR(out.pad_to(alignment));
    return out.commit();
}

} // namespace lmrt
