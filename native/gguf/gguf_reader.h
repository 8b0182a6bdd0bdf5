// GgufReader: parses and validates a whole GGUF (v2/v3) file over bytes it
// does not copy — an mmapped file or a caller's buffer.
//
// File layout (little-endian):
//   magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   n_kv x      { string key | u32 value_type | value }
//   n_tensors x { string name | u32 n_dims | u64 ne[n_dims] | u32 type | u64 offset }
//   padding to general.alignment (default 32) | tensor data
// where string = u64 length + bytes, and an array value is
//   u32 element_type | u64 count | elements.
//
// Every length, count and offset is checked against the bytes that remain
// before anything is allocated or dereferenced, with overflow-checked
// arithmetic; open() either succeeds with a fully valid structure or returns
// a Status naming the file and the problem.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "../core/mapped_file.h"
#include "../core/status.h"

namespace lmrt {

constexpr uint32_t kGgufDefaultAlignment = 32;
constexpr uint32_t kGgufMaxDims = 4;
constexpr uint64_t kGgufMaxTensorName = 64;
constexpr int kGgufMaxArrayDepth = 8;

struct GgufArray;

// A metadata value. Pointers refer into the file's bytes.
struct GgufValue {
    uint32_t type = 0; // lmrt_gguf_value_type
    union {
        uint64_t u64;
        int64_t i64;
        double f64;
    } scalar{};
    std::string_view str;             // STRING
    std::unique_ptr<GgufArray> array; // ARRAY
};

struct GgufArray {
    uint32_t elem_type = 0;
    uint64_t count = 0;
    const uint8_t *packed = nullptr;      // numeric and bool elements
    std::vector<std::string_view> strings; // STRING elements
    std::vector<GgufValue> nested;        // ARRAY elements
};

struct GgufKv {
    std::string_view key;
    GgufValue value;
};

struct GgufTensor {
    std::string_view name;
    uint32_t type = 0;
    uint32_t n_dims = 0;
    uint64_t ne[kGgufMaxDims] = {1, 1, 1, 1};
    uint64_t offset = 0; // relative to the data section
    uint64_t n_bytes = 0;
};

// Size in bytes of one scalar of a numeric/bool value type; 0 for STRING,
// ARRAY and unknown types.
uint64_t gguf_scalar_size(uint32_t value_type);

class GgufReader {
  public:
    Status open_file(const std::string &path);
    // `bytes` must outlive the reader.
    Status open_memory(const uint8_t *bytes, uint64_t size, const std::string &name);

    uint32_t version() const { return version_; }
    uint32_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }
    uint64_t size() const { return size_; }
    const uint8_t *bytes() const { return bytes_; }
    // A file's pages wholly inside [p, p + n) leave this process's memory
    // (MappedFile::release); a reader of memory keeps them.
    void release_pages(const void *p, uint64_t n) const { file_.release(p, n); }

    const std::vector<GgufKv> &kvs() const { return kvs_; }
    const std::vector<GgufTensor> &tensors() const { return tensors_; }
    // -1 when absent.
    int64_t find_kv(std::string_view key) const;

  private:
    Status parse();

    MappedFile file_;
    std::string name_;
    const uint8_t *bytes_ = nullptr;
    uint64_t size_ = 0;
    uint32_t version_ = 0;
    uint32_t alignment_ = kGgufDefaultAlignment;
    uint64_t data_offset_ = 0;
    std::vector<GgufKv> kvs_;
    std::vector<GgufTensor> tensors_;
    std::unordered_map<std::string_view, uint64_t> kv_index_;
};

} // namespace lmrt
