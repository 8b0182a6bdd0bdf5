#include <algorithm>
#include <cmath>

#include "attention.cuh"
#include "common.cuh"

namespace lmrt::cuda {

namespace {

constexpr int kThreads = 128, kWarps = kThreads / kWarp;
constexpr int kMaxGroup = 8; // query heads per thread block; larger groups take several blocks
constexpr int kInFlight = 4; // K or V rows a warp loads before it uses the first

// n consecutive halves (n = 1, 2, 4 or 8: one load of 2 to 16 bytes) as floats.
template <int n> __device__ inline void load_halves(const __half *p, float *out) {
    if constexpr (n == 8) {
        const uint4 raw = *reinterpret_cast<const uint4 *>(p);
        const __half2 *h = reinterpret_cast<const __half2 *>(&raw);
        for (int j = 0; j < 4; ++j) {
            const float2 f = __half22float2(h[j]);
            out[2 * j] = f.x, out[2 * j + 1] = f.y;
        }
    } else if constexpr (n == 4) {
        const uint2 raw = *reinterpret_cast<const uint2 *>(p);
        const __half2 *h = reinterpret_cast<const __half2 *>(&raw);
        for (int j = 0; j < 2; ++j) {
            const float2 f = __half22float2(h[j]);
            out[2 * j] = f.x, out[2 * j + 1] = f.y;
        }
    } else if constexpr (n == 2) {
        const float2 f = __half22float2(*reinterpret_cast<const __half2 *>(p));
        out[0] = f.x, out[1] = f.y;
    } else {
        out[0] = __half2float(*p);
    }
}

__device__ inline float warp_max(float v) {
    for (int offset = kWarp / 2; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

int splits_for(int span) { return (span + kAttentionChunk - 1) / kAttentionChunk; }

// One thread block: batch row `row`, KV head `kv_head`, query heads h0 ..
// h0 + G - 1 of its group, and positions p0 .. p0 + n_pos - 1 (split
// blockIdx.y of the row's span). Three phases over shared memory:
//   1. scores: q . k * scale for every position and head. kVector: head_dim
//      = 8 * L, and L lanes share a position, 8 values each (one 16-byte
//      load); otherwise a whole warp per position, values strided.
//   2. softmax statistics per head over the split (max m, sum l of exp).
//   3. values: each warp sums p * v over its positions (lane j holds a run
//      of dimensions, or j, j + 32, ... where head_dim is not a multiple of
//      32), the warps' sums are added in warp order.
// Warps load kInFlight rows ahead of using them in phases 1 and 3.
// Writes (m, l, unnormalised sum) per head for the combine kernel.
template <int L, bool kVector>
__global__ void __launch_bounds__(kThreads) attention_split(PagedKv kv, int layer, AttentionRows r, int n_head, int head_groups, float scale,
                                                             float *partials, int max_splits) {
    constexpr int kLaneValues = kVector ? (L >= 4 ? L / 4 : 1) : 16; // dimensions per lane in phase 3 (head_dim <= 512)
    extern __shared__ float shared[];
    const int D = kv.head_dim, per_kv = n_head / kv.n_head_kv;
    int index = blockIdx.x;
    const int group = index % head_groups;
    index /= head_groups;
    const int kv_head = index % kv.n_head_kv, local = index / kv.n_head_kv; // the row's place in this launch
    const int row = r.index != nullptr ? r.index[local] : local;
    const int h0 = kv_head * per_kv + group * kMaxGroup, G = min(kMaxGroup, per_kv - group * kMaxGroup);
    const int first = r.first[row], last = r.last[row], split = blockIdx.y;
    const int p0 = first + split * kAttentionChunk;
    if (p0 > last) return; // this row has fewer splits
    const int n_pos = min(last - p0 + 1, kAttentionChunk);
    const int32_t *table = r.tables + r.table_offset[row];
    float *values = shared;                      // [G][D]: the query, later the summed values
    float *scores = shared + kMaxGroup * D;      // [G][kAttentionChunk]
    __shared__ float stat_m[kMaxGroup], stat_l[kMaxGroup];
    const float *q = r.q + static_cast<int64_t>(row) * r.q_stride + static_cast<int64_t>(h0) * D;
    for (int i = threadIdx.x; i < G * D; i += blockDim.x) values[i] = q[i];
    __syncthreads();

    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    auto k_row = [&](int i) {
        const int pos = p0 + i;
        return kv.row(table[pos / kv.block_size], layer, 0, pos % kv.block_size, kv_head);
    };
    if constexpr (kVector) {
        constexpr int kPerWarp = kWarp / L;
        const int sub = lane / L, part = lane % L;
        float qr[kMaxGroup][8];
#pragma unroll
        for (int g = 0; g < kMaxGroup; ++g) {
            for (int j = 0; j < 8; ++j) qr[g][j] = g < G ? values[g * D + part * 8 + j] : 0.0f;
        }
        // kInFlight key rows per lane loaded before any is used: a warp keeps
        // that many 16-byte loads in flight instead of waiting on each
        constexpr int kStride = kWarps * kPerWarp;
        for (int base = warp * kPerWarp; base < n_pos; base += kInFlight * kStride) {
            uint4 raw[kInFlight];
#pragma unroll
            for (int f = 0; f < kInFlight; ++f) {
                const int i = base + f * kStride + sub;
                raw[f] = i < n_pos ? *reinterpret_cast<const uint4 *>(k_row(i) + part * 8) : make_uint4(0, 0, 0, 0);
            }
#pragma unroll
            for (int f = 0; f < kInFlight; ++f) {
                const int i = base + f * kStride + sub;
                const __half2 *h = reinterpret_cast<const __half2 *>(&raw[f]);
                float k[8];
                for (int j = 0; j < 4; ++j) {
                    const float2 v = __half22float2(h[j]);
                    k[2 * j] = v.x, k[2 * j + 1] = v.y;
                }
                float partial[kMaxGroup] = {};
#pragma unroll
                for (int g = 0; g < kMaxGroup; ++g) {
                    for (int j = 0; j < 8; ++j) partial[g] += qr[g][j] * k[j];
                }
#pragma unroll
                for (int g = 0; g < kMaxGroup; ++g) {
                    for (int offset = L / 2; offset > 0; offset /= 2) partial[g] += __shfl_xor_sync(0xffffffffu, partial[g], offset);
                }
                if (i < n_pos && part == 0) {
                    for (int g = 0; g < G; ++g) scores[g * kAttentionChunk + i] = partial[g] * scale;
                }
            }
        }
    } else {
        for (int i = warp; i < n_pos; i += kWarps) {
            const __half *k = k_row(i);
            float partial[kMaxGroup] = {};
            for (int j = lane; j < D; j += kWarp) {
                const float kj = __half2float(k[j]);
#pragma unroll
                for (int g = 0; g < kMaxGroup; ++g) partial[g] += (g < G ? values[g * D + j] : 0.0f) * kj;
            }
#pragma unroll
            for (int g = 0; g < kMaxGroup; ++g) partial[g] = warp_sum(partial[g]);
            if (lane == 0) {
                for (int g = 0; g < G; ++g) scores[g * kAttentionChunk + i] = partial[g] * scale;
            }
        }
    }
    __syncthreads();

    for (int g = warp; g < G; g += kWarps) {
        float *s = scores + g * kAttentionChunk;
        float m = -INFINITY;
        for (int i = lane; i < n_pos; i += kWarp) m = fmaxf(m, s[i]);
        m = warp_max(m);
        float l = 0.0f;
        for (int i = lane; i < n_pos; i += kWarp) {
            const float e = expf(s[i] - m);
            s[i] = e;
            l += e;
        }
        l = warp_sum(l);
        if (lane == 0) stat_m[g] = m, stat_l[g] = l;
    }
    __syncthreads();

    // lane j holds dimensions dim(j, e), e < kLaneValues: contiguous runs
    // (one load per value row) where head_dim is a multiple of 32, else strided
    constexpr bool kContiguous = kVector && L >= 4;
    auto dim = [&](int e) { return kContiguous ? lane * kLaneValues + e : lane + kWarp * e; };
    float acc[kMaxGroup][kLaneValues] = {};
    for (int i0 = warp; i0 < n_pos; i0 += kInFlight * kWarps) {
        float vv[kInFlight][kLaneValues];
#pragma unroll
        for (int f = 0; f < kInFlight; ++f) {
            const int i = i0 + f * kWarps;
            const int pos = p0 + (i < n_pos ? i : 0);
            const __half *v = kv.row(table[pos / kv.block_size], layer, 1, pos % kv.block_size, kv_head);
            if constexpr (kContiguous) {
                load_halves<kLaneValues>(v + lane * kLaneValues, vv[f]);
            } else {
#pragma unroll
                for (int e = 0; e < kLaneValues; ++e) vv[f][e] = dim(e) < D ? __half2float(v[dim(e)]) : 0.0f;
            }
        }
#pragma unroll
        for (int f = 0; f < kInFlight; ++f) {
            const int i = i0 + f * kWarps;
            if (i >= n_pos) break;
#pragma unroll
            for (int g = 0; g < kMaxGroup; ++g) {
                const float p = g < G ? scores[g * kAttentionChunk + i] : 0.0f;
#pragma unroll
                for (int e = 0; e < kLaneValues; ++e) acc[g][e] += p * vv[f][e];
            }
        }
    }
    for (int w = 0; w < kWarps; ++w) {
        if (warp == w) {
#pragma unroll
            for (int g = 0; g < kMaxGroup; ++g) {
#pragma unroll
                for (int e = 0; e < kLaneValues; ++e) {
                    const int j = dim(e);
                    if (g < G && j < D) values[g * D + j] = (w == 0 ? 0.0f : values[g * D + j]) + acc[g][e];
                }
            }
        }
        __syncthreads();
    }
    for (int i = threadIdx.x; i < G * D; i += blockDim.x) {
        const int g = i / D;
        float *part = partials + ((static_cast<int64_t>(local) * n_head + h0 + g) * max_splits + split) * (D + 2);
        part[2 + i % D] = values[i];
        if (i % D == 0) part[0] = stat_m[g], part[1] = stat_l[g];
    }
}

// Block (row, head): out = sum over splits of e^(m_s - M) * sum_s / sum
// over splits of e^(m_s - M) * l_s, splits in order.
__global__ void attention_combine(AttentionRows r, int n_head, int head_dim, const float *partials, int max_splits) {
    const int local = blockIdx.x / n_head, head = blockIdx.x % n_head;
    const int row = r.index != nullptr ? r.index[local] : local;
    const int splits = (r.last[row] - r.first[row]) / kAttentionChunk + 1;
    const float *part = partials + (static_cast<int64_t>(local) * n_head + head) * max_splits * (head_dim + 2);
    float m = -INFINITY;
    for (int s = 0; s < splits; ++s) m = fmaxf(m, part[s * (head_dim + 2)]);
    float l = 0.0f;
    for (int s = 0; s < splits; ++s) l += expf(part[s * (head_dim + 2)] - m) * part[s * (head_dim + 2) + 1];
    float *out = r.out + (static_cast<int64_t>(row) * n_head + head) * head_dim;
    for (int j = threadIdx.x; j < head_dim; j += blockDim.x) {
        float o = 0.0f;
        for (int s = 0; s < splits; ++s) o += expf(part[s * (head_dim + 2)] - m) * part[s * (head_dim + 2) + 2 + j];
        out[j] = o / l;
    }
}

template <int L, bool kVector>
cudaError_t launch_split(const PagedKv &kv, int layer, const AttentionRows &r, int n_head, float scale, float *partials, int max_splits,
                         cudaStream_t stream) {
    const int per_kv = n_head / kv.n_head_kv, head_groups = (per_kv + kMaxGroup - 1) / kMaxGroup;
    // at most 32 KiB (head_dim <= 512), under the 48 KiB a launch gets without opting in
    const size_t shared = sizeof(float) * kMaxGroup * (static_cast<size_t>(kv.head_dim) + kAttentionChunk);
    const dim3 grid(static_cast<unsigned>(r.T * kv.n_head_kv * head_groups), static_cast<unsigned>(max_splits));
    attention_split<L, kVector><<<grid, kThreads, shared, stream>>>(kv, layer, r, n_head, head_groups, scale, partials, max_splits);
    return launched();
}

cudaError_t launch_for_head_dim(const PagedKv &kv, int layer, const AttentionRows &r, int n_head, float scale, float *partials, int max_splits,
                                cudaStream_t stream) {
    switch (kv.head_dim) {
    case 8: return launch_split<1, true>(kv, layer, r, n_head, scale, partials, max_splits, stream);
    case 16: return launch_split<2, true>(kv, layer, r, n_head, scale, partials, max_splits, stream);
    case 32: return launch_split<4, true>(kv, layer, r, n_head, scale, partials, max_splits, stream);
    case 64: return launch_split<8, true>(kv, layer, r, n_head, scale, partials, max_splits, stream);
    case 128: return launch_split<16, true>(kv, layer, r, n_head, scale, partials, max_splits, stream);
    case 256: return launch_split<32, true>(kv, layer, r, n_head, scale, partials, max_splits, stream);
    default: return launch_split<32, false>(kv, layer, r, n_head, scale, partials, max_splits, stream);
    }
}

} // namespace

size_t attention_partial_floats(int n_head, int head_dim, int max_span) {
    return static_cast<size_t>(n_head) * static_cast<size_t>(splits_for(max_span)) * (static_cast<size_t>(head_dim) + 2);
}

cudaError_t paged_attention(const PagedKv &kv, int layer, const AttentionRows &rows, int n_head, float scale, float *partials,
                            size_t partial_floats, cudaStream_t stream) {
    if (rows.T <= 0) return cudaSuccess;
    if (kv.head_dim <= 0 || kv.head_dim > 512 || n_head % kv.n_head_kv != 0 || rows.max_span <= 0) return cudaErrorInvalidValue;
    const int max_splits = splits_for(rows.max_span);
    const size_t per_row = attention_partial_floats(n_head, kv.head_dim, rows.max_span);
    const size_t fit = partial_floats / per_row;
    if (fit < 1) return cudaErrorInvalidValue;
    const int slice = static_cast<int>(std::min<size_t>(fit, static_cast<size_t>(rows.T)));
    const int64_t width = static_cast<int64_t>(n_head) * kv.head_dim;
    for (int r0 = 0; r0 < rows.T; r0 += slice) {
        AttentionRows part = rows;
        part.T = std::min(slice, rows.T - r0);
        part.q_stride = rows.q_stride != 0 ? rows.q_stride : width;
        if (rows.index != nullptr) {
            part.index = rows.index + r0;
        } else {
            part.q = rows.q + r0 * part.q_stride;
            part.out = rows.out + r0 * width;
            part.first = rows.first + r0;
            part.last = rows.last + r0;
            part.table_offset = rows.table_offset + r0;
        }
        cudaError_t e = launch_for_head_dim(kv, layer, part, n_head, scale, partials, max_splits, stream);
        if (e != cudaSuccess) return e;
        attention_combine<<<static_cast<unsigned>(part.T * n_head), kv.head_dim < 128 ? kWarp * ((kv.head_dim + kWarp - 1) / kWarp) : 128, 0,
                            stream>>>(part, n_head, kv.head_dim, partials, max_splits);
        e = launched();
        if (e != cudaSuccess) return e;
    }
    return cudaSuccess;
}

} // namespace lmrt::cuda
