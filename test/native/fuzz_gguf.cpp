// libFuzzer target for the GGUF reader: `npm run fuzz` builds it with clang
// and runs it over a corpus seeded with the real and synthetic models.
#include <cstdint>
#include <cstdlib>

#include "gguf_walk.h"
#include "lmrt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lmrt_gguf *g = nullptr;
    lmrt_error err{};
    const lmrt_status s = lmrt_gguf_open_memory(data, size, "fuzz", &g, &err);
    if (s == LMRT_OK) {
        (void)lmrt_test::walk_gguf(g);
        lmrt_gguf_free(g);
    } else if (s != LMRT_E_GGUF_INVALID && s != LMRT_E_GGUF_UNSUPPORTED) {
        std::abort(); // only format errors are acceptable outcomes
    }
    return 0;
}
