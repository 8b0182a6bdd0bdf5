// KvCache: the paged key/value store of one context.
//
// Memory: one pool of fixed-size blocks. Block b holds, for every layer l,
//   K: [block_size, n_head_kv] rows of head_dim values   at byte ((b * n_layer + l) * 2 + 0) * block_bytes
//   V: [block_size, n_head_kv] rows of head_dim values   at byte ((b * n_layer + l) * 2 + 1) * block_bytes
// each row stored in the cache's KvType (kv_type.h), with block_bytes =
// block_size * n_head_kv * kv_row_bytes(type, head_dim).
//
// A sequence owns a block table (position p lives in block table[p / block_size]
// at row p % block_size) and a length. Blocks are reference-counted: fork()
// shares all blocks of a sequence, and the first write into a shared block
// copies it (copy-on-write). truncate() rolls a sequence back to a length;
// release() frees it.
//
// Prefix caching: each sequence remembers its row keys (token, and whether
// a prompt row or a decoded one); when a block fills up it is indexed by its
// prefix (prefix_index.h), and a new sequence can start from the indexed
// blocks of a matching prefix instead of computing them (seq_reuse). Cached
// blocks nobody holds stay until the pool needs them, least recently used
// first.
//
// Invariants (checked by check()): ref counts equal the number of tables
// holding each block; a block nobody holds is either on the free list (not
// cached) or parked in the prefix index (cached).
#pragma once

#include <cstdint>
#include <vector>

#include "../core/status.h"
#include "kv_type.h"
#include "prefix_index.h"

namespace lmrt {

struct KvStats {
    uint32_t blocks_total, blocks_used, blocks_free; // free includes cached blocks nobody holds
    uint32_t block_size;
    uint32_t sequences;
    uint32_t blocks_cached;  // indexed by prefix, held or not
    uint64_t prefix_hits;    // positions served from cached blocks so far
};

// A row key: the token, with the top bit set for a decoded row.
inline int32_t kv_row_key(int32_t token, bool decode) {
    return static_cast<int32_t>(static_cast<uint32_t>(token) | (decode ? 0x80000000u : 0u));
}

class KvCache {
  public:
    // q8_0 needs head_dim to be a multiple of 32 (whole blocks per head).
    // Without host storage (a device holds the blocks), the cache keeps the
    // tables only. Either way it lists the copies copy-on-write made or
    // needs (copies()), for a device that holds blocks.
    Status init(int n_layer, int n_head_kv, int head_dim, uint32_t n_blocks, int block_size, KvType type = KvType::kF16,
                bool host_storage = true);

    int block_size() const { return block_size_; }
    uint32_t n_blocks() const { return static_cast<uint32_t>(refs_.size()); }
    size_t bytes() const { return storage_.size(); }
    KvType type() const { return type_; }

    int seq_create();
    Status seq_fork(int src, int *dst);
    Status seq_truncate(int seq, int length);
    Status seq_release(int seq);
    bool seq_valid(int seq) const;
    int seq_length(int seq) const { return seqs_[static_cast<size_t>(seq)].length; }

    // Makes room to write positions [seq_length, new_length) of each listed
    // sequence: allocates blocks and un-shares the block being appended to.
    // All or nothing: on E_KV_FULL nothing changed.
    struct Growth {
        int seq;
        int new_length;
    };
    Status reserve(const std::vector<Growth> &growth);
    // The block copies (from, to) the last reserve() decided on: made in
    // host storage, and to be made by a device holding blocks before it
    // writes.
    struct BlockCopy {
        int from, to;
    };
    const std::vector<BlockCopy> &copies() const { return copies_; }
    // After the batch's K/V are written: lengths become the reserved ones.
    void commit(const std::vector<Growth> &growth);
    // The key of the row written at `pos` (call for every row of a step, after commit).
    void record(int seq, int pos, int32_t key);
    // Indexes the sequence's blocks that are now full.
    void seal(int seq);
    // Sliding-window models: gives back the blocks that only hold positions
    // before `pos`, which no later row attends to. Their table entries become
    // -1; truncating back into them is refused.
    void release_before(int seq, int pos);
    // The model's sliding window (0: none), for truncate's check.
    void set_window(int window) { window_ = window; }
    // Starts an empty sequence from the cached blocks matching the first of
    // these n row keys, whole blocks only; returns the positions reused.
    int seq_reuse(int seq, const int32_t *keys, int n);

    // where position pos's K (V) row of every KV head goes: n_head_kv rows of
    // kv_row_bytes(type(), head_dim) bytes
    uint8_t *k_row(int seq, int layer, int pos);
    uint8_t *v_row(int seq, int layer, int pos);
    const std::vector<int> &block_table(int seq) const { return seqs_[static_cast<size_t>(seq)].blocks; }
    // nullptr for a block a sliding window released (-1)
    const uint8_t *block_k(int block, int layer) const { return block < 0 ? nullptr : storage_.data() + offset(block, layer, 0); }
    const uint8_t *block_v(int block, int layer) const { return block < 0 ? nullptr : storage_.data() + offset(block, layer, 1); }

    KvStats stats() const;
    // Verifies the invariants above; a non-OK status means a bug.
    Status check() const;

  private:
    struct Seq {
        bool live = false;
        int length = 0;
        std::vector<int> blocks;
        std::vector<int32_t> keys;    // per position
        std::vector<uint64_t> hashes; // per full block, the prefix hash
    };

    size_t offset(int block, int layer, int kv) const {
        return ((static_cast<size_t>(block) * n_layer_ + static_cast<size_t>(layer)) * 2 + static_cast<size_t>(kv)) * block_bytes_;
    }
    int allocate_block();
    void unref(int block);
    int blocks_for(int length) const { return (length + block_size_ - 1) / block_size_; }

    int n_layer_ = 0, block_size_ = 16;
    KvType type_ = KvType::kF16;
    size_t row_bytes_ = 0, block_bytes_ = 0; // one position's rows of all KV heads; one layer's K (or V) of a block
    std::vector<uint8_t> storage_;
    bool host_storage_ = true;
    std::vector<BlockCopy> copies_;
    std::vector<uint32_t> refs_;
    std::vector<int> free_;
    std::vector<Seq> seqs_;
    std::vector<int> free_seqs_;
    PrefixIndex prefix_;
    int window_ = 0;
    uint64_t prefix_hits_ = 0;
};

} // namespace lmrt
