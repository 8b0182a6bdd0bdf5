// The attention kernels against a scalar reference in double over a
// shuffled paged pool: paged_attention (decode rows) and flash_attention
// (prompt rows in tiles), each also checked to give a row the same bits
// whatever shares its launch.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../../native/kernels/cuda/attention.cuh"
#include "../../native/kernels/cuda/flash_attention.cuh"
#include "check.h"
#include "fixtures.h"

namespace lmrt_cuda_test {

namespace {

// The reference for one query head: softmax(q . K * scale) V over positions
// first..last of a table, in double; *weighted gets sum p |v| / sum p per
// dimension (the size the f16 probabilities' rounding scales with).
void reference_attention(const HostPool &host, const int32_t *table, int layer, int kv_head, const float *q, int first, int last, float scale,
                         std::vector<double> *out, std::vector<double> *weighted) {
    const int D = host.kv.head_dim, bs = host.kv.block_size;
    std::vector<double> p;
    double m = -INFINITY;
    for (int pos = first; pos <= last; ++pos) {
        const uint16_t *k = host.halves.data() + host.index(table[pos / bs], layer, 0, pos % bs, kv_head);
        double s = 0;
        for (int j = 0; j < D; ++j) s += static_cast<double>(q[j]) * half_to_float(k[j]);
        p.push_back(s * scale);
        m = std::max(m, p.back());
    }
    double l = 0;
    for (double &e : p) l += (e = std::exp(e - m));
    out->assign(static_cast<size_t>(D), 0.0);
    weighted->assign(static_cast<size_t>(D), 0.0);
    for (int pos = first; pos <= last; ++pos) {
        const uint16_t *v = host.halves.data() + host.index(table[pos / bs], layer, 1, pos % bs, kv_head);
        const double w = p[static_cast<size_t>(pos - first)] / l;
        for (int j = 0; j < D; ++j) {
            (*out)[static_cast<size_t>(j)] += w * half_to_float(v[j]);
            (*weighted)[static_cast<size_t>(j)] += w * std::fabs(half_to_float(v[j]));
        }
    }
}

// Fills a pool with random f16 values and gives each of n_tables tables a
// shuffled share of blocks_per_table blocks.
void random_pool(std::mt19937 &rng, HostPool *host, int n_tables, int blocks_per_table, std::vector<int32_t> *blocks) {
    std::vector<float> random = random_floats(rng, host->halves.size(), 1.0f);
    lmrt_quantize_row(LMRT_TYPE_F16, random.data(), host->halves.data(), random.size(), nullptr);
    blocks->resize(static_cast<size_t>(n_tables * blocks_per_table));
    for (size_t b = 0; b < blocks->size(); ++b) (*blocks)[b] = static_cast<int32_t>(b);
    std::shuffle(blocks->begin(), blocks->end(), rng);
}

template <typename T> void upload(const DeviceBuffer &d, const std::vector<T> &v) { cudaMemcpy(d.p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice); }

// One paged-attention case: n_rows rows, each with its own block table over
// a shuffled pool, a span ending at its position and starting at `first`.
struct AttentionCase {
    int head_dim, n_head, n_head_kv;
    std::vector<int> last, first;
};

} // namespace

void paged_attention_matches_the_reference() {
    std::mt19937 rng(19);
    const AttentionCase cases[] = {
        {128, 8, 2, {0, 36, 599, 1500}, {0, 0, 0, 700}},  // GQA 4:1, one and several splits, a window
        {64, 4, 4, {1023, 10}, {0, 3}},                  // no grouping, a split boundary
        {8, 8, 4, {100, 513}, {0, 0}},                   // stories260K's head size
        {80, 10, 1, {700, 5}, {0, 0}},                   // a head size the vector path does not take; 10 heads on one KV head
        {256, 2, 1, {300}, {0}},
    };
    for (const AttentionCase &c : cases) {
        const int n_rows = static_cast<int>(c.last.size()), block_size = 16, n_layer = 2, layer = 1;
        int max_pos = 0, max_span = 0;
        for (int r = 0; r < n_rows; ++r) max_pos = std::max(max_pos, c.last[r]), max_span = std::max(max_span, c.last[r] - c.first[r] + 1);
        const int blocks_per_row = max_pos / block_size + 1;
        HostPool host(n_layer, c.n_head_kv, c.head_dim, block_size, blocks_per_row * n_rows);
        std::vector<int32_t> blocks;
        random_pool(rng, &host, n_rows, blocks_per_row, &blocks);
        std::vector<int32_t> offsets(static_cast<size_t>(n_rows));
        for (int r = 0; r < n_rows; ++r) offsets[static_cast<size_t>(r)] = r * blocks_per_row;
        const int width = c.n_head * c.head_dim;
        const std::vector<float> q = random_floats(rng, static_cast<size_t>(n_rows * width), 1.0f);
        DeviceBuffer dpool(host.halves.size() * 2), dq(q.size() * 4), dout(q.size() * 4), dfirst(n_rows * 4), dlast(n_rows * 4),
            dtables(blocks.size() * 4), doff(offsets.size() * 4);
        upload(dpool, host.halves);
        upload(dq, q);
        upload(dfirst, c.first);
        upload(dlast, c.last);
        upload(dtables, blocks);
        upload(doff, offsets);
        lmrt::cuda::PagedKv kv = host.kv;
        kv.pool = dpool.as<uint8_t>();
        lmrt::cuda::AttentionRows rows;
        rows.q = dq.as<float>();
        rows.out = dout.as<float>();
        rows.first = dfirst.as<int32_t>();
        rows.last = dlast.as<int32_t>();
        rows.tables = dtables.as<int32_t>();
        rows.table_offset = doff.as<int32_t>();
        rows.T = n_rows;
        rows.max_span = max_span;
        const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
        // scratch for one row at a time: the rows run in slices
        const size_t partial_floats = lmrt::cuda::attention_partial_floats(c.n_head, c.head_dim, max_span);
        DeviceBuffer dpart(partial_floats * 4);
        CUDA_OK(cudaMemset(dout.p, 0xff, q.size() * 4));
        CUDA_OK(lmrt::cuda::paged_attention(kv, layer, rows, c.n_head, scale, dpart.as<float>(), partial_floats, nullptr));
        std::vector<float> got(q.size());
        CUDA_OK(cudaMemcpy(got.data(), dout.p, got.size() * 4, cudaMemcpyDeviceToHost));
        const int per_kv = c.n_head / c.n_head_kv;
        std::vector<double> want, weighted;
        for (int r = 0; r < n_rows; ++r) {
            for (int h = 0; h < c.n_head; ++h) {
                reference_attention(host, blocks.data() + offsets[static_cast<size_t>(r)], layer, h / per_kv, q.data() + r * width + h * c.head_dim,
                                    c.first[r], c.last[r], scale, &want, &weighted);
                for (int j = 0; j < c.head_dim; ++j, ++checks) {
                    const float g = got[static_cast<size_t>(r * width + h * c.head_dim + j)];
                    if (!(std::fabs(g - want[static_cast<size_t>(j)]) <= 1e-4)) {
                        fail("paged_attention head_dim=" + std::to_string(c.head_dim) + " row " + std::to_string(r) + " head " + std::to_string(h) +
                             " dim " + std::to_string(j) + ": " + std::to_string(g) + " vs " + std::to_string(want[static_cast<size_t>(j)]));
                        return;
                    }
                }
            }
        }
        // the last row alone (with scratch for every row) gives the same bits as in the batch
        lmrt::cuda::AttentionRows alone = rows;
        const int r = n_rows - 1;
        alone.T = 1;
        alone.q = rows.q + r * width;
        alone.out = dout.as<float>() + r * width;
        alone.first = rows.first + r;
        alone.last = rows.last + r;
        alone.table_offset = rows.table_offset + r;
        alone.max_span = c.last[r] - c.first[r] + 1;
        DeviceBuffer dpart_all(partial_floats * 4 * n_rows);
        CUDA_OK(lmrt::cuda::paged_attention(kv, layer, alone, c.n_head, scale, dpart_all.as<float>(), partial_floats * n_rows, nullptr));
        std::vector<float> again(static_cast<size_t>(width));
        CUDA_OK(cudaMemcpy(again.data(), alone.out, again.size() * 4, cudaMemcpyDeviceToHost));
        ++checks;
        if (std::memcmp(again.data(), got.data() + r * width, again.size() * 4) != 0) {
            fail("paged_attention head_dim=" + std::to_string(c.head_dim) + ": a row's result depends on its batch");
            return;
        }
        // the rows through an index list, in reverse, one row per slice: each row's bits land in its own place
        std::vector<int32_t> reversed(static_cast<size_t>(n_rows));
        for (int i = 0; i < n_rows; ++i) reversed[static_cast<size_t>(i)] = n_rows - 1 - i;
        DeviceBuffer dindex(reversed.size() * 4);
        upload(dindex, reversed);
        lmrt::cuda::AttentionRows indexed = rows;
        indexed.index = dindex.as<int32_t>();
        CUDA_OK(cudaMemset(dout.p, 0xff, q.size() * 4));
        CUDA_OK(lmrt::cuda::paged_attention(kv, layer, indexed, c.n_head, scale, dpart.as<float>(), partial_floats, nullptr));
        std::vector<float> through_index(q.size());
        CUDA_OK(cudaMemcpy(through_index.data(), dout.p, through_index.size() * 4, cudaMemcpyDeviceToHost));
        ++checks;
        if (std::memcmp(through_index.data(), got.data(), got.size() * 4) != 0) {
            fail("paged_attention head_dim=" + std::to_string(c.head_dim) + ": rows through an index list differ from the same rows in order");
            return;
        }
    }
}

namespace {

// One flash-attention case: sequences of consecutive prompt rows (the
// first at position `start`, earlier positions already cached), each row
// seeing the last `window` positions (0: all), in one step with a decode
// row between the sequences that the kernel must leave alone.
struct FlashCase {
    int head_dim, n_head, n_head_kv;
    struct Sequence {
        int start, n_rows, window;
    };
    std::vector<Sequence> sequences;
};

} // namespace

void flash_attention_matches_the_reference() {
    std::mt19937 rng(23);
    const FlashCase cases[] = {
        {128, 8, 2, {{0, 40, 0}, {600, 20, 256}}}, // GQA 4:1 (16 rows a tile): a prompt in 3 tiles; a continued one with a window
        {64, 4, 4, {{30, 70, 0}}},                 // no grouping (64 rows a tile) after a cached prefix
        {8, 8, 4, {{0, 33, 0}, {5, 3, 0}}},        // stories260K's head size, padded to 16
        {80, 10, 1, {{100, 13, 48}}},              // 10 query heads on one KV head (6 rows a tile), a window
        {256, 2, 1, {{0, 50, 0}}},                 // K/V tiles of 32 positions
        {40, 4, 2, {{7, 9, 0}}},                   // a padded head size with 16-byte loads
        {20, 2, 1, {{0, 17, 0}}},                  // a head size without 16-byte loads
        {64, 64, 2, {{0, 5, 0}}},                  // 32 query heads per KV head: two blocks of 16 (4 rows a tile)
    };
    ++checks;
    if (lmrt::cuda::flash_attention_ready(264)) fail("flash_attention_ready: head size 264 is above what the kernel serves");
    for (const FlashCase &c : cases) {
        const std::string name = "flash_attention head_dim=" + std::to_string(c.head_dim) + " heads " + std::to_string(c.n_head) + "/" +
                                 std::to_string(c.n_head_kv);
        ++checks;
        if (!lmrt::cuda::flash_attention_ready(c.head_dim)) {
            fail(name + ": not ready on this device");
            return;
        }
        const int n_seq = static_cast<int>(c.sequences.size()), block_size = 16, n_layer = 2, layer = 0;
        int max_pos = 0;
        for (const auto &s : c.sequences) max_pos = std::max(max_pos, s.start + s.n_rows - 1);
        const int blocks_per_seq = max_pos / block_size + 1;
        HostPool host(n_layer, c.n_head_kv, c.head_dim, block_size, blocks_per_seq * n_seq);
        std::vector<int32_t> blocks;
        random_pool(rng, &host, n_seq, blocks_per_seq, &blocks);

        // the batch: each sequence's rows, a decode row after the first sequence
        std::vector<int32_t> first, last, offset, seq_of;
        int decode_row = -1;
        for (int s = 0; s < n_seq; ++s) {
            const FlashCase::Sequence &sq = c.sequences[static_cast<size_t>(s)];
            for (int i = 0; i < sq.n_rows; ++i) {
                const int pos = sq.start + i;
                first.push_back(sq.window > 0 ? std::max(0, pos - sq.window + 1) : 0);
                last.push_back(pos);
                offset.push_back(s * blocks_per_seq);
                seq_of.push_back(s);
            }
            if (s == 0) {
                decode_row = static_cast<int>(last.size());
                first.push_back(0);
                last.push_back(3);
                offset.push_back(0);
                seq_of.push_back(-1);
            }
        }
        const int T = static_cast<int>(last.size());
        // tiles as the device context makes them: runs of a sequence's rows, tile_rows at most
        const int tile_rows = lmrt::cuda::flash_tile_rows(c.n_head, c.n_head_kv);
        auto make_tiles = [&](int most, std::vector<int32_t> *rows, std::vector<int32_t> *start) {
            rows->clear(), start->clear();
            for (int t = 0; t < T; ++t) {
                if (t == decode_row) continue;
                const int n = static_cast<int>(rows->size());
                if (start->empty() || n - start->back() == most || seq_of[static_cast<size_t>(t)] != seq_of[static_cast<size_t>(rows->back())]) {
                    start->push_back(n);
                }
                rows->push_back(t);
            }
            start->push_back(static_cast<int32_t>(rows->size()));
        };
        std::vector<int32_t> tile_rows_list, tile_start;
        make_tiles(tile_rows, &tile_rows_list, &tile_start);

        const int width = c.n_head * c.head_dim, q_stride = width + 4; // queries strided, as GPT-2's fused QKV rows are
        const std::vector<float> q = random_floats(rng, static_cast<size_t>(T) * q_stride, 1.0f);
        DeviceBuffer dpool(host.halves.size() * 2), dq(q.size() * 4), dout(static_cast<size_t>(T) * width * 4), dfirst(first.size() * 4),
            dlast(last.size() * 4), dtables(blocks.size() * 4), doff(offset.size() * 4), drows(tile_rows_list.size() * 4),
            dstart(tile_start.size() * 4);
        upload(dpool, host.halves);
        upload(dq, q);
        upload(dfirst, first);
        upload(dlast, last);
        upload(dtables, blocks);
        upload(doff, offset);
        upload(drows, tile_rows_list);
        upload(dstart, tile_start);
        lmrt::cuda::PagedKv kv = host.kv;
        kv.pool = dpool.as<uint8_t>();
        lmrt::cuda::AttentionRows rows;
        rows.q = dq.as<float>();
        rows.q_stride = q_stride;
        rows.out = dout.as<float>();
        rows.first = dfirst.as<int32_t>();
        rows.last = dlast.as<int32_t>();
        rows.tables = dtables.as<int32_t>();
        rows.table_offset = doff.as<int32_t>();
        const lmrt::cuda::QueryTiles tiles{drows.as<int32_t>(), dstart.as<int32_t>(), static_cast<int>(tile_start.size()) - 1};
        const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
        const size_t out_bytes = static_cast<size_t>(T) * width * 4;
        CUDA_OK(cudaMemset(dout.p, 0xff, out_bytes));
        CUDA_OK(lmrt::cuda::flash_attention(kv, layer, rows, tiles, c.n_head, scale, nullptr));
        CUDA_OK(cudaDeviceSynchronize());
        std::vector<float> got(static_cast<size_t>(T) * width);
        CUDA_OK(cudaMemcpy(got.data(), dout.p, out_bytes, cudaMemcpyDeviceToHost));

        const int per_kv = c.n_head / c.n_head_kv;
        std::vector<float> q16(static_cast<size_t>(c.head_dim));
        std::vector<uint16_t> halves(static_cast<size_t>(c.head_dim));
        std::vector<double> want, weighted;
        for (int t = 0; t < T; ++t) {
            if (t == decode_row) {
                ++checks;
                const std::vector<uint32_t> untouched(static_cast<size_t>(width), 0xffffffffu);
                if (std::memcmp(got.data() + static_cast<size_t>(t) * width, untouched.data(), untouched.size() * 4) != 0) {
                    fail(name + ": the row outside every tile was written");
                    return;
                }
                continue;
            }
            for (int h = 0; h < c.n_head; ++h) {
                // the query as f16 keys see it, as the CPU backend rounds it
                lmrt_quantize_row(LMRT_TYPE_F16, q.data() + static_cast<size_t>(t) * q_stride + h * c.head_dim, halves.data(), c.head_dim, nullptr);
                lmrt_dequantize_row(LMRT_TYPE_F16, halves.data(), q16.data(), c.head_dim, nullptr);
                reference_attention(host, blocks.data() + offset[static_cast<size_t>(t)], layer, h / per_kv, q16.data(), first[static_cast<size_t>(t)],
                                    last[static_cast<size_t>(t)], scale, &want, &weighted);
                for (int j = 0; j < c.head_dim; ++j, ++checks) {
                    // each probability is rounded to f16 (relative 2^-11) before it weights V
                    const double tol = 1.1 * std::ldexp(1.0, -11) * weighted[static_cast<size_t>(j)] + 1e-4;
                    const float g = got[static_cast<size_t>(t) * width + static_cast<size_t>(h * c.head_dim + j)];
                    if (!(std::fabs(g - want[static_cast<size_t>(j)]) <= tol)) {
                        fail(name + " row " + std::to_string(t) + " head " + std::to_string(h) + " dim " + std::to_string(j) + ": " + std::to_string(g) +
                             " vs " + std::to_string(want[static_cast<size_t>(j)]));
                        return;
                    }
                }
            }
        }
        // every row in a tile of its own gives the bits it gave among the others
        std::vector<int32_t> single_rows, single_start;
        make_tiles(1, &single_rows, &single_start);
        DeviceBuffer dsingle_rows(single_rows.size() * 4), dsingle_start(single_start.size() * 4);
        upload(dsingle_rows, single_rows);
        upload(dsingle_start, single_start);
        const lmrt::cuda::QueryTiles singles{dsingle_rows.as<int32_t>(), dsingle_start.as<int32_t>(), static_cast<int>(single_start.size()) - 1};
        CUDA_OK(cudaMemset(dout.p, 0xff, out_bytes));
        CUDA_OK(lmrt::cuda::flash_attention(kv, layer, rows, singles, c.n_head, scale, nullptr));
        std::vector<float> alone(got.size());
        CUDA_OK(cudaMemcpy(alone.data(), dout.p, out_bytes, cudaMemcpyDeviceToHost));
        ++checks;
        if (std::memcmp(alone.data(), got.data(), out_bytes) != 0) {
            fail(name + ": a row's result depends on the rows sharing its tile");
            return;
        }
    }
}

} // namespace lmrt_cuda_test
