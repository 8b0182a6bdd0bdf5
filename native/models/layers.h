// Building blocks of the forward passes, called by every thread of a step.
#pragma once

#include "forward.h"

namespace lmrt::layers {

// y[t][o] = sum_i w[o][i] * x[t][i] for t < T, all threads; ends with a barrier.
// A profile counts it as `op`. With same_input, x is unchanged since the
// previous matmul of the step: its encoded rows are reused where the
// weight types encode x alike (q, k and v; gate and up).
void matmul(StepArgs &a, int ith, int nth, const Tensor &w, const float *x, int64_t x_stride, int T, float *y,
            int64_t y_stride, StepProfile::Op op = StepProfile::Op::kMatmul, bool same_input = false);

// Row `token` of an embedding matrix as floats.
void embedding_row(const Tensor &table, int64_t token, float *out);

// Writes one position's K (or V) values of every KV head, [n_head_kv,
// head_dim] floats, in the cache's type.
void store_kv_rows(const KvCache &kv, uint8_t *dst, const float *src, int n_head_kv, int head_dim);

// Adds a bias vector to the rows this thread owns.
void add_bias(const Tensor &b, float *y, int64_t stride, int T, int ith, int nth);

// Attention for every (row, head) item, split over threads; layer's K/V for
// each row's positions must be written already. Ends with a barrier.
void attention(StepArgs &a, int ith, int nth, int layer, const float *q, float *out);

// Final norm of the rows that want logits, then the output projection.
// In the last layer, after attention: like llama.cpp, only the rows that
// want logits go on through the feed-forward block. Moves those rows of x
// and of the attention output o (both [T, E]) to the front, in order, and
// returns how many there are. The KV cache already holds every row.
int keep_logit_rows(StepArgs &a, int ith, float *x, float *o, int E);

// Final norm and output projection of the rows keep_logit_rows kept.
void logits(StepArgs &a, int ith, int nth, const Tensor &norm, const Tensor &norm_b, bool layer_norm, const Tensor &output);

} // namespace lmrt::layers
