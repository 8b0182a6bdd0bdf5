// A read-only memory mapping of a whole regular file (RAII).
#pragma once

#include <cstdint>
#include <string>

#include "status.h"

namespace lmrt {

class MappedFile {
  public:
    MappedFile() = default;
    ~MappedFile();
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;

    // Opens without blocking (a FIFO or device is refused, not waited on).
    // An empty file maps to size 0 and data nullptr.
    Status open(const std::string &path);

    const uint8_t *data() const { return data_; }
    // Drops the pages wholly inside [p, p + n) from this process's memory;
    // they are read from the file again if touched. Other ranges: nothing.
    void release(const void *p, uint64_t n) const;
    uint64_t size() const { return size_; }

  private:
    uint8_t *data_ = nullptr;
    uint64_t size_ = 0;
};

} // namespace lmrt
