#include <mma.h>

#include <algorithm>
#include <climits>
#include <cmath>

#include "common.cuh"
#include "flash_attention.cuh"

namespace lmrt::cuda {

namespace {

using namespace nvcuda;

constexpr int kThreads = 128, kWarps = kThreads / kWarp;
constexpr int kQueries = 64;     // queries (row, head) per thread block
constexpr int kBand = kQueries / kWarps;
static_assert(kBand == 16, "a warp owns one 16-row band of WMMA tiles");
constexpr int kMaxHeads = 16;    // query heads of one KV head per thread block; more take several blocks
constexpr int kMaxHeadDim = 256; // padded to a multiple of 16

int padded(int head_dim) { return (head_dim + 15) / 16 * 16; }
int heads_per_block(int n_head, int n_head_kv) { return std::min(n_head / n_head_kv, kMaxHeads); }

// Positions per K/V tile: 64, or 32 above head size 128 (shared memory).
int positions_for(int head_dim) { return padded(head_dim) <= 128 ? 64 : 32; }

// The shared memory of one block, in this order (every part a multiple of
// 32 bytes, as WMMA's pointers need; rows padded against bank conflicts).
struct Layout {
    int dp, ldh, ldf, lds, ldp; // padded head size; row strides of the f16, f32, score and probability tiles
    size_t q, k, v, s, p, o, m, l, first, last, bytes;
    Layout(int head_dim, int positions) {
        dp = padded(head_dim);
        ldh = dp + 8, ldf = dp + 4, lds = positions + 4, ldp = positions + 8;
        size_t at = 0;
        auto take = [&](size_t n) {
            const size_t here = at;
            at += (n + 127) / 128 * 128;
            return here;
        };
        q = take(sizeof(__half) * kQueries * ldh);
        k = take(sizeof(__half) * positions * ldh);
        v = take(sizeof(__half) * positions * ldh);
        s = take(sizeof(float) * kQueries * lds);
        p = take(sizeof(__half) * kQueries * ldp);
        o = take(sizeof(float) * kQueries * ldf);
        m = take(sizeof(float) * kQueries);
        l = take(sizeof(float) * kQueries);
        first = take(sizeof(int) * kQueries);
        last = take(sizeof(int) * kQueries);
        bytes = at;
    }
};

// Block (tile, KV head and group of its query heads). Query i of the block
// is row i / G of the tile and head h0 + i % G; warp w owns queries 16w ..
// 16w + 15 through every phase, so only the K/V loads are shared:
//   for each tile of positions the tile's rows see:
//     all threads load K and V (zeros outside the rows' union of spans);
//     each warp: scores S = Q K^T on tensor cores, masked per query; the
//     running maximum m, the rescale e^(m_old - m), P = e^(S - m) in f16,
//     l = l * rescale + sum P, O = O * rescale, then O += P V.
//   out = O / l.
template <int kPositions>
__global__ void __launch_bounds__(kThreads) flash_tile(PagedKv kv, int layer, AttentionRows r, QueryTiles tiles, int n_head, int heads,
                                                       int head_groups, float scale, Layout lay) {
    extern __shared__ __align__(128) unsigned char shared[];
    __half *qs = reinterpret_cast<__half *>(shared + lay.q), *ks = reinterpret_cast<__half *>(shared + lay.k);
    __half *vs = reinterpret_cast<__half *>(shared + lay.v), *ps = reinterpret_cast<__half *>(shared + lay.p);
    float *ss = reinterpret_cast<float *>(shared + lay.s), *os = reinterpret_cast<float *>(shared + lay.o);
    float *ms = reinterpret_cast<float *>(shared + lay.m), *ls = reinterpret_cast<float *>(shared + lay.l);
    int *firsts = reinterpret_cast<int *>(shared + lay.first), *lasts = reinterpret_cast<int *>(shared + lay.last);
    __shared__ int span_lo, span_hi;

    const int D = kv.head_dim, dp = lay.dp, per_kv = n_head / kv.n_head_kv;
    const int kv_head = blockIdx.y / head_groups, group = blockIdx.y % head_groups;
    const int h0 = kv_head * per_kv + group * heads, G = min(heads, per_kv - group * heads);
    const int row0 = tiles.start[blockIdx.x], n_rows = tiles.start[blockIdx.x + 1] - row0;
    const int32_t *table = r.tables + r.table_offset[tiles.rows[row0]];
    const int64_t q_stride = r.q_stride != 0 ? r.q_stride : static_cast<int64_t>(n_head) * D;

    // the queries: spans (empty for the padding queries), statistics, f16 values, zero output
    for (int i = threadIdx.x; i < kQueries; i += blockDim.x) {
        const int t = i / G;
        const bool real = t < n_rows;
        const int row = real ? tiles.rows[row0 + t] : 0;
        firsts[i] = real ? r.first[row] : INT_MAX;
        lasts[i] = real ? r.last[row] : INT_MIN;
        ms[i] = -INFINITY;
        ls[i] = 0.0f;
    }
    for (int e = threadIdx.x; e < kQueries * dp; e += blockDim.x) {
        const int i = e / dp, j = e % dp, t = i / G;
        float value = 0.0f;
        if (t < n_rows && j < D) value = r.q[tiles.rows[row0 + t] * q_stride + static_cast<int64_t>(h0 + i % G) * D + j];
        qs[i * lay.ldh + j] = __float2half_rn(value);
        os[i * lay.ldf + j] = 0.0f;
    }
    if (threadIdx.x == 0) {
        int lo = INT_MAX, hi = INT_MIN;
        for (int t = 0; t < n_rows; ++t) {
            const int row = tiles.rows[row0 + t];
            lo = min(lo, r.first[row]), hi = max(hi, r.last[row]);
        }
        span_lo = lo, span_hi = hi;
    }
    __syncthreads();
    const int lo = span_lo, hi = span_hi;

    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp, band = warp * kBand;
    const bool vector_loads = D % 8 == 0;
    for (int base = lo / kPositions * kPositions; base <= hi; base += kPositions) {
        // K and V of positions base .. base + kPositions - 1, 8 values per load where rows allow
        for (int e = threadIdx.x; e < kPositions * (dp / 8); e += blockDim.x) {
            const int i = e / (dp / 8), j = e % (dp / 8) * 8, pos = base + i;
            __half *kd = ks + i * lay.ldh + j, *vd = vs + i * lay.ldh + j;
            if (pos < lo || pos > hi || j >= D) {
                *reinterpret_cast<uint4 *>(kd) = make_uint4(0, 0, 0, 0);
                *reinterpret_cast<uint4 *>(vd) = make_uint4(0, 0, 0, 0);
                continue;
            }
            const int block = table[pos / kv.block_size], slot = pos % kv.block_size;
            const __half *k = kv.row(block, layer, 0, slot, kv_head) + j, *v = kv.row(block, layer, 1, slot, kv_head) + j;
            if (vector_loads) {
                *reinterpret_cast<uint4 *>(kd) = *reinterpret_cast<const uint4 *>(k);
                *reinterpret_cast<uint4 *>(vd) = *reinterpret_cast<const uint4 *>(v);
            } else {
                for (int c = 0; c < 8; ++c) {
                    kd[c] = j + c < D ? k[c] : __float2half(0.0f);
                    vd[c] = j + c < D ? v[c] : __float2half(0.0f);
                }
            }
        }
        __syncthreads();

        // does any of the warp's queries see a position of this tile?
        bool sees = false;
        if (lane < kBand) sees = firsts[band + lane] <= base + kPositions - 1 && lasts[band + lane] >= base;
        if (__any_sync(0xffffffffu, sees)) {
            for (int n = 0; n < kPositions / 16; ++n) {
                wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
                wmma::fill_fragment(acc, 0.0f);
                for (int kk = 0; kk < dp; kk += 16) {
                    wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
                    wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b;
                    wmma::load_matrix_sync(a, qs + band * lay.ldh + kk, lay.ldh);
                    wmma::load_matrix_sync(b, ks + n * 16 * lay.ldh + kk, lay.ldh);
                    wmma::mma_sync(acc, a, b, acc);
                }
                wmma::store_matrix_sync(ss + band * lay.lds + n * 16, acc, lay.lds, wmma::mem_row_major);
            }
            __syncwarp();
            for (int qi = band; qi < band + kBand; ++qi) {
                const int first = firsts[qi], last = lasts[qi];
                float s[kPositions / kWarp];
                float top = -INFINITY;
#pragma unroll
                for (int c = 0; c < kPositions / kWarp; ++c) {
                    const int col = lane + c * kWarp, pos = base + col;
                    s[c] = pos >= first && pos <= last ? ss[qi * lay.lds + col] * scale : -INFINITY;
                    top = fmaxf(top, s[c]);
                }
                for (int offset = kWarp / 2; offset > 0; offset /= 2) top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, offset));
                const float m_old = ms[qi], m_new = fmaxf(m_old, top);
                // no position seen yet (m_new = -inf): nothing to rescale, every p is 0
                const float rescale = m_new == -INFINITY ? 1.0f : expf(m_old - m_new);
                float sum = 0.0f;
#pragma unroll
                for (int c = 0; c < kPositions / kWarp; ++c) {
                    const float p = s[c] == -INFINITY ? 0.0f : expf(s[c] - m_new);
                    ps[qi * lay.ldp + lane + c * kWarp] = __float2half_rn(p);
                    sum += p;
                }
                sum = warp_sum(sum);
                if (rescale != 1.0f) {
                    for (int j = lane; j < dp; j += kWarp) os[qi * lay.ldf + j] *= rescale;
                }
                __syncwarp(); // every lane has read ms[qi] before lane 0 writes it
                if (lane == 0) ms[qi] = m_new, ls[qi] = ls[qi] * rescale + sum;
            }
            __syncwarp();
            for (int n = 0; n < dp / 16; ++n) {
                wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
                wmma::load_matrix_sync(acc, os + band * lay.ldf + n * 16, lay.ldf, wmma::mem_row_major);
                for (int kk = 0; kk < kPositions; kk += 16) {
                    wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
                    wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> b;
                    wmma::load_matrix_sync(a, ps + band * lay.ldp + kk, lay.ldp);
                    wmma::load_matrix_sync(b, vs + kk * lay.ldh + n * 16, lay.ldh);
                    wmma::mma_sync(acc, a, b, acc);
                }
                wmma::store_matrix_sync(os + band * lay.ldf + n * 16, acc, lay.ldf, wmma::mem_row_major);
            }
        }
        __syncthreads(); // the next tile's loads overwrite K and V
    }

    const int64_t width = static_cast<int64_t>(n_head) * D;
    for (int e = threadIdx.x; e < kQueries * D; e += blockDim.x) {
        const int i = e / D, j = e % D, t = i / G;
        if (t >= n_rows) continue;
        r.out[tiles.rows[row0 + t] * width + static_cast<int64_t>(h0 + i % G) * D + j] = os[i * lay.ldf + j] / ls[i];
    }
}

} // namespace

int flash_tile_rows(int n_head, int n_head_kv) { return kQueries / heads_per_block(n_head, n_head_kv); }

bool flash_attention_ready(int head_dim) {
    if (head_dim <= 0 || padded(head_dim) > kMaxHeadDim) return false;
    const int positions = positions_for(head_dim);
    const Layout lay(head_dim, positions);
    int device = 0, optin = 0;
    if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) != cudaSuccess ||
        lay.bytes + 64 > static_cast<size_t>(optin)) {
        cudaGetLastError();
        return false;
    }
    const cudaError_t e = positions == 64
                              ? cudaFuncSetAttribute(flash_tile<64>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(lay.bytes))
                              : cudaFuncSetAttribute(flash_tile<32>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(lay.bytes));
    if (e != cudaSuccess) {
        cudaGetLastError();
        return false;
    }
    return true;
}

cudaError_t flash_attention(const PagedKv &kv, int layer, const AttentionRows &rows, const QueryTiles &tiles, int n_head, float scale,
                            cudaStream_t stream) {
    if (tiles.n <= 0) return cudaSuccess;
    if (kv.head_dim <= 0 || padded(kv.head_dim) > kMaxHeadDim || n_head % kv.n_head_kv != 0) return cudaErrorInvalidValue;
    const int heads = heads_per_block(n_head, kv.n_head_kv), per_kv = n_head / kv.n_head_kv;
    const int head_groups = (per_kv + heads - 1) / heads;
    const int positions = positions_for(kv.head_dim);
    const Layout lay(kv.head_dim, positions);
    const dim3 grid(static_cast<unsigned>(tiles.n), static_cast<unsigned>(kv.n_head_kv * head_groups));
    if (positions == 64) {
        flash_tile<64><<<grid, kThreads, lay.bytes, stream>>>(kv, layer, rows, tiles, n_head, heads, head_groups, scale, lay);
    } else {
        flash_tile<32><<<grid, kThreads, lay.bytes, stream>>>(kv, layer, rows, tiles, n_head, heads, head_groups, scale, lay);
    }
    return launched();
}

} // namespace lmrt::cuda
