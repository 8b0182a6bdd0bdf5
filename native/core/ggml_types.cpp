#include "ggml_types.h"

#include "quant.h"

namespace lmrt {

namespace {

// Sizes follow GGUF's block structs (see quant.h for the ones lmrt encodes).
constexpr TypeLayout kTypes[] = {
    {LMRT_TYPE_F32, "F32", 1, 4},
    {LMRT_TYPE_F16, "F16", 1, 2},
    {LMRT_TYPE_Q4_0, "Q4_0", 32, 18},
    {LMRT_TYPE_Q4_1, "Q4_1", 32, 20},
    {LMRT_TYPE_Q5_0, "Q5_0", 32, 22},
    {LMRT_TYPE_Q5_1, "Q5_1", 32, 24},
    {LMRT_TYPE_Q8_0, "Q8_0", 32, 34},
    {LMRT_TYPE_Q8_1, "Q8_1", 32, 36},
    {LMRT_TYPE_Q2_K, "Q2_K", 256, 84},
    {LMRT_TYPE_Q3_K, "Q3_K", 256, 110},
    {LMRT_TYPE_Q4_K, "Q4_K", 256, 144},
    {LMRT_TYPE_Q5_K, "Q5_K", 256, 176},
    {LMRT_TYPE_Q6_K, "Q6_K", 256, 210},
    {LMRT_TYPE_Q8_K, "Q8_K", 256, 292},
    {LMRT_TYPE_IQ2_XXS, "IQ2_XXS", 256, 66},
    {LMRT_TYPE_IQ2_XS, "IQ2_XS", 256, 74},
    {LMRT_TYPE_IQ3_XXS, "IQ3_XXS", 256, 98},
    {LMRT_TYPE_IQ1_S, "IQ1_S", 256, 50},
    {LMRT_TYPE_IQ4_NL, "IQ4_NL", 32, 18},
    {LMRT_TYPE_IQ3_S, "IQ3_S", 256, 110},
    {LMRT_TYPE_IQ2_S, "IQ2_S", 256, 82},
    {LMRT_TYPE_IQ4_XS, "IQ4_XS", 256, 136},
    {LMRT_TYPE_I8, "I8", 1, 1},
    {LMRT_TYPE_I16, "I16", 1, 2},
    {LMRT_TYPE_I32, "I32", 1, 4},
    {LMRT_TYPE_I64, "I64", 1, 8},
    {LMRT_TYPE_F64, "F64", 1, 8},
    {LMRT_TYPE_IQ1_M, "IQ1_M", 256, 56},
    {LMRT_TYPE_BF16, "BF16", 1, 2},
    {LMRT_TYPE_TQ1_0, "TQ1_0", 256, 54},
    {LMRT_TYPE_TQ2_0, "TQ2_0", 256, 66},
    {LMRT_TYPE_MXFP4, "MXFP4", 32, 17},
};

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ8_0) == 34, "block layout");
static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210,
              "block layout");

} // namespace

const TypeLayout *find_type_layout(uint32_t id) {
    for (const TypeLayout &t : kTypes) {
        if (t.id == id) return &t;
    }
    return nullptr;
}

} // namespace lmrt
