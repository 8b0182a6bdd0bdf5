// The table of GGML tensor types: name, block size, bytes per block.
#pragma once

#include <cstdint>

#include "lmrt.h"

namespace lmrt {

struct TypeLayout {
    uint32_t id;
    const char *name;
    uint32_t block_size;  // elements per block
    uint32_t block_bytes; // bytes per block
};

// nullptr for an id that is not a known GGML type.
const TypeLayout *find_type_layout(uint32_t id);

} // namespace lmrt
