// The K-quant encoders and decoders (Q4_K, Q5_K, Q6_K), behind
// quantize_row/dequantize_row (quant.h).
#pragma once

#include <cstdint>

#include "quant.h"

namespace lmrt {

void quantize_q4_k(const float *x, BlockQ4_K *y, uint64_t nb);
void dequantize_q4_k(const BlockQ4_K *x, float *y, uint64_t nb);
void quantize_q5_k(const float *x, BlockQ5_K *y, uint64_t nb);
void dequantize_q5_k(const BlockQ5_K *x, float *y, uint64_t nb);
void quantize_q6_k(const float *x, BlockQ6_K *y, uint64_t nb);
void dequantize_q6_k(const BlockQ6_K *x, float *y, uint64_t nb);

} // namespace lmrt
