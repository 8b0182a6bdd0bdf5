// Scalar references: obviously correct, the spec the other variants are
// tested against.
#pragma once

#include "../ops.h"

namespace lmrt::kernels::ref {

// Matrix-vector dot products for each weight type (see ops.h).
const MatKernels *mat_kernels(uint32_t weight_type);

void attention(const AttentionArgs &a);

void rms_norm(const float *x, const float *weight, float *y, int64_t n, float eps);
void layer_norm(const float *x, const float *weight, const float *bias, float *y, int64_t n, float eps);
// Rotates pairs (2i, 2i+1) (normal) or (i, i + n_rot/2) (NeoX) of each head.
void rope(float *x, int n_head, int head_dim, int n_rot, int pos, float freq_base, float freq_scale, bool neox);
void swiglu(const float *gate, const float *up, float *y, int64_t n);
void gelu(float *x, int64_t n);
// GELU's tanh form of one value, unrounded (gelu rounds its input and this to f16).
float gelu_tanh(float f);
void softmax(float *x, int64_t n);
// Row `token` of an embedding matrix in any encodable type, as float.
bool embedding_row(uint32_t type, const void *table, int64_t row_length, int64_t token, float *out);

} // namespace lmrt::kernels::ref
