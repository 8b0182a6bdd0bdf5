#include "kv_cache.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace lmrt {

Status KvCache::init(int n_layer, int n_head_kv, int head_dim, uint32_t n_blocks, int block_size) {
    if (n_layer <= 0 || n_head_kv <= 0 || head_dim <= 0 || n_blocks == 0 || block_size <= 0) {
        return Status::error(LMRT_E_INVALID_ARGUMENT, "KV cache: invalid geometry");
    }
    n_layer_ = n_layer;
    row_elems_ = n_head_kv * head_dim;
    block_size_ = block_size;
    block_elems_ = static_cast<size_t>(block_size) * static_cast<size_t>(row_elems_);
    const size_t total = static_cast<size_t>(n_blocks) * static_cast<size_t>(n_layer) * 2 * block_elems_;
    try {
        storage_.assign(total, 0);
    } catch (const std::bad_alloc &) {
        return Status::error(LMRT_E_OUT_OF_MEMORY, "KV cache: cannot allocate %zu MiB for %u blocks of %d tokens",
                             total * 2 / (1024 * 1024), n_blocks, block_size);
    }
    refs_.assign(n_blocks, 0);
    free_.clear();
    for (uint32_t b = n_blocks; b-- > 0;) free_.push_back(static_cast<int>(b)); // pop_back gives block 0 first
    seqs_.clear();
    free_seqs_.clear();
    return Status::ok();
}

int KvCache::allocate_block() {
    const int b = free_.back();
    free_.pop_back();
    refs_[static_cast<size_t>(b)] = 1;
    return b;
}

void KvCache::unref(int block) {
    if (--refs_[static_cast<size_t>(block)] == 0) free_.push_back(block);
}

int KvCache::seq_create() {
    int id;
    if (!free_seqs_.empty()) {
        id = free_seqs_.back();
        free_seqs_.pop_back();
    } else {
        id = static_cast<int>(seqs_.size());
        seqs_.emplace_back();
    }
    Seq &s = seqs_[static_cast<size_t>(id)];
    s.live = true;
    s.length = 0;
    s.blocks.clear();
    return id;
}

bool KvCache::seq_valid(int seq) const {
    return seq >= 0 && static_cast<size_t>(seq) < seqs_.size() && seqs_[static_cast<size_t>(seq)].live;
}

Status KvCache::seq_fork(int src, int *dst) {
    if (!seq_valid(src)) return Status::error(LMRT_E_INVALID_ARGUMENT, "sequence %d does not exist", src);
    const int id = seq_create();
    Seq &copy = seqs_[static_cast<size_t>(id)];
    const Seq &from = seqs_[static_cast<size_t>(src)];
    copy.length = from.length;
    copy.blocks = from.blocks;
    for (int b : copy.blocks) ++refs_[static_cast<size_t>(b)];
    *dst = id;
    return Status::ok();
}

Status KvCache::seq_truncate(int seq, int length) {
    if (!seq_valid(seq)) return Status::error(LMRT_E_INVALID_ARGUMENT, "sequence %d does not exist", seq);
    Seq &s = seqs_[static_cast<size_t>(seq)];
    if (length < 0 || length > s.length) {
        return Status::error(LMRT_E_INVALID_ARGUMENT, "cannot truncate sequence %d of length %d to %d", seq, s.length, length);
    }
    const int keep = blocks_for(length);
    while (static_cast<int>(s.blocks.size()) > keep) {
        unref(s.blocks.back());
        s.blocks.pop_back();
    }
    s.length = length;
    return Status::ok();
}

Status KvCache::seq_release(int seq) {
    if (!seq_valid(seq)) return Status::error(LMRT_E_INVALID_ARGUMENT, "sequence %d does not exist", seq);
    Seq &s = seqs_[static_cast<size_t>(seq)];
    for (int b : s.blocks) unref(b);
    s.blocks.clear();
    s.length = 0;
    s.live = false;
    free_seqs_.push_back(seq);
    return Status::ok();
}

Status KvCache::reserve(const std::vector<Growth> &growth) {
    size_t needed = 0;
    for (const Growth &g : growth) {
        const Seq &s = seqs_[static_cast<size_t>(g.seq)];
        needed += static_cast<size_t>(std::max(0, blocks_for(g.new_length) - static_cast<int>(s.blocks.size())));
        // appending into a shared partial block copies it first
        if (s.length % block_size_ != 0 && g.new_length > s.length &&
            refs_[static_cast<size_t>(s.blocks[static_cast<size_t>(s.length / block_size_)])] > 1) {
            ++needed;
        }
    }
    if (needed > free_.size()) {
        return Status::error(LMRT_E_KV_FULL,
                             "KV cache full: this step needs %zu more blocks of %d tokens but %zu of %u are free",
                             needed, block_size_, free_.size(), n_blocks());
    }
    for (const Growth &g : growth) {
        Seq &s = seqs_[static_cast<size_t>(g.seq)];
        if (s.length % block_size_ != 0 && g.new_length > s.length) {
            int &shared = s.blocks[static_cast<size_t>(s.length / block_size_)];
            if (refs_[static_cast<size_t>(shared)] > 1) {
                const int copy = allocate_block();
                std::memcpy(storage_.data() + offset(copy, 0, 0), storage_.data() + offset(shared, 0, 0),
                            static_cast<size_t>(n_layer_) * 2 * block_elems_ * sizeof(uint16_t));
                unref(shared);
                shared = copy;
            }
        }
        while (static_cast<int>(s.blocks.size()) < blocks_for(g.new_length)) s.blocks.push_back(allocate_block());
    }
    return Status::ok();
}

void KvCache::commit(const std::vector<Growth> &growth) {
    for (const Growth &g : growth) {
        Seq &s = seqs_[static_cast<size_t>(g.seq)];
        s.length = std::max(s.length, g.new_length);
    }
}

uint16_t *KvCache::k_row(int seq, int layer, int pos) {
    const int block = seqs_[static_cast<size_t>(seq)].blocks[static_cast<size_t>(pos / block_size_)];
    return storage_.data() + offset(block, layer, 0) + static_cast<size_t>(pos % block_size_) * static_cast<size_t>(row_elems_);
}

uint16_t *KvCache::v_row(int seq, int layer, int pos) {
    const int block = seqs_[static_cast<size_t>(seq)].blocks[static_cast<size_t>(pos / block_size_)];
    return storage_.data() + offset(block, layer, 1) + static_cast<size_t>(pos % block_size_) * static_cast<size_t>(row_elems_);
}

KvStats KvCache::stats() const {
    KvStats s{};
    s.blocks_total = n_blocks();
    s.blocks_free = static_cast<uint32_t>(free_.size());
    s.blocks_used = s.blocks_total - s.blocks_free;
    s.block_size = static_cast<uint32_t>(block_size_);
    s.sequences = static_cast<uint32_t>(seqs_.size() - free_seqs_.size());
    return s;
}

Status KvCache::check() const {
    std::vector<uint32_t> counted(refs_.size(), 0);
    for (const Seq &s : seqs_) {
        if (!s.live) continue;
        if (static_cast<int>(s.blocks.size()) != blocks_for(s.length)) {
            return Status::error(LMRT_E_INTERNAL, "KV cache: a sequence of length %d holds %zu blocks", s.length, s.blocks.size());
        }
        for (int b : s.blocks) ++counted[static_cast<size_t>(b)];
    }
    std::vector<bool> is_free(refs_.size(), false);
    for (int b : free_) {
        if (is_free[static_cast<size_t>(b)]) return Status::error(LMRT_E_INTERNAL, "KV cache: block %d is free twice", b);
        is_free[static_cast<size_t>(b)] = true;
    }
    for (size_t b = 0; b < refs_.size(); ++b) {
        if (counted[b] != refs_[b]) {
            return Status::error(LMRT_E_INTERNAL, "KV cache: block %zu has ref count %u but %u holders", b, refs_[b], counted[b]);
        }
        if (is_free[b] != (refs_[b] == 0)) return Status::error(LMRT_E_INTERNAL, "KV cache: block %zu free-list mismatch", b);
    }
    return Status::ok();
}

} // namespace lmrt
