#include "kv_cache.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace lmrt {

Status KvCache::init(int n_layer, int n_head_kv, int head_dim, uint32_t n_blocks, int block_size, KvType type, bool host_storage) {
    if (n_layer <= 0 || n_head_kv <= 0 || head_dim <= 0 || n_blocks == 0 || block_size <= 0) {
        return Status::error(LMRT_E_INVALID_ARGUMENT, "KV cache: invalid geometry");
    }
    if (type == KvType::kQ8_0 && head_dim % 32 != 0) {
        return Status::error(LMRT_E_INVALID_ARGUMENT,
                             "KV cache type q8_0 stores blocks of 32 values per head, but this model's head dimension is %d; "
                             "use f16 or bf16",
                             head_dim);
    }
    n_layer_ = n_layer;
    type_ = type;
    row_bytes_ = static_cast<size_t>(n_head_kv) * kv_row_bytes(type, head_dim);
    block_size_ = block_size;
    block_bytes_ = static_cast<size_t>(block_size) * row_bytes_;
    const size_t total = static_cast<size_t>(n_blocks) * static_cast<size_t>(n_layer) * 2 * block_bytes_;
    host_storage_ = host_storage;
    try {
        storage_.assign(host_storage ? total : 0, 0);
    } catch (const std::bad_alloc &) {
        return Status::error(LMRT_E_OUT_OF_MEMORY, "KV cache: cannot allocate %zu MiB for %u blocks of %d tokens",
                             total / (1024 * 1024), n_blocks, block_size);
    }
    refs_.assign(n_blocks, 0);
    free_.clear();
    for (uint32_t b = n_blocks; b-- > 0;) free_.push_back(static_cast<int>(b)); // pop_back gives block 0 first
    seqs_.clear();
    free_seqs_.clear();
    prefix_.init(n_blocks, block_size);
    prefix_hits_ = 0;
    return Status::ok();
}

// Callers have checked that a block is available (free or parked).
int KvCache::allocate_block() {
    int b;
    if (!free_.empty()) {
        b = free_.back();
        free_.pop_back();
    } else {
        b = prefix_.evict();
    }
    refs_[static_cast<size_t>(b)] = 1;
    return b;
}

void KvCache::unref(int block) {
    if (--refs_[static_cast<size_t>(block)] != 0) return;
    if (prefix_.cached(block)) {
        prefix_.park(block);
    } else {
        free_.push_back(block);
    }
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
    s.keys.clear();
    s.hashes.clear();
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
    copy.keys = from.keys;
    copy.hashes = from.hashes;
    for (int b : copy.blocks) {
        if (b >= 0) ++refs_[static_cast<size_t>(b)];
    }
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
    // the next row (at `length`) attends from length - window + 1: those blocks must still be there
    const int first_needed = window_ > 0 ? std::max(0, length - window_ + 1) / block_size_ : 0;
    for (int b = first_needed; b < keep; ++b) {
        if (s.blocks[static_cast<size_t>(b)] < 0) {
            return Status::error(LMRT_E_INVALID_ARGUMENT,
                                 "cannot truncate sequence %d to %d: its sliding window already released positions it would attend to", seq,
                                 length);
        }
    }
    while (static_cast<int>(s.blocks.size()) > keep) {
        unref(s.blocks.back());
        s.blocks.pop_back();
    }
    s.length = length;
    s.keys.resize(static_cast<size_t>(length));
    s.hashes.resize(std::min(s.hashes.size(), static_cast<size_t>(length / block_size_)));
    // a cached block cut short will be written again: it no longer holds its prefix
    // (when others share it, the next append copies it instead)
    if (length % block_size_ != 0) {
        const int last = s.blocks.back();
        if (refs_[static_cast<size_t>(last)] == 1) prefix_.remove(last);
    }
    return Status::ok();
}

Status KvCache::seq_release(int seq) {
    if (!seq_valid(seq)) return Status::error(LMRT_E_INVALID_ARGUMENT, "sequence %d does not exist", seq);
    Seq &s = seqs_[static_cast<size_t>(seq)];
    for (int b : s.blocks) {
        if (b >= 0) unref(b);
    }
    s.blocks.clear();
    s.keys.clear();
    s.hashes.clear();
    s.length = 0;
    s.live = false;
    free_seqs_.push_back(seq);
    return Status::ok();
}

Status KvCache::reserve(const std::vector<Growth> &growth) {
    copies_.clear();
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
    const size_t available = free_.size() + prefix_.parked();
    if (needed > available) {
        return Status::error(LMRT_E_KV_FULL,
                             "KV cache full: this step needs %zu more blocks of %d tokens but %zu of %u are free",
                             needed, block_size_, available, n_blocks());
    }
    for (const Growth &g : growth) {
        Seq &s = seqs_[static_cast<size_t>(g.seq)];
        if (s.length % block_size_ != 0 && g.new_length > s.length) {
            int &shared = s.blocks[static_cast<size_t>(s.length / block_size_)];
            // a cached block cut short by a truncate, ours alone: it is about to change
            if (refs_[static_cast<size_t>(shared)] == 1) prefix_.remove(shared);
            if (refs_[static_cast<size_t>(shared)] > 1) {
                const int copy = allocate_block();
                if (host_storage_) {
                    std::memcpy(storage_.data() + offset(copy, 0, 0), storage_.data() + offset(shared, 0, 0),
                                static_cast<size_t>(n_layer_) * 2 * block_bytes_);
                }
                copies_.push_back({shared, copy}); // for a device holding (some of) the layers' blocks too
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
        s.keys.resize(static_cast<size_t>(s.length), 0);
    }
}

void KvCache::record(int seq, int pos, int32_t key) { seqs_[static_cast<size_t>(seq)].keys[static_cast<size_t>(pos)] = key; }

void KvCache::seal(int seq) {
    Seq &s = seqs_[static_cast<size_t>(seq)];
    for (size_t b = s.hashes.size(); static_cast<int>(b + 1) * block_size_ <= s.length; ++b) {
        const uint64_t parent = b == 0 ? 0 : s.hashes[b - 1];
        const int32_t *keys = s.keys.data() + b * static_cast<size_t>(block_size_);
        const uint64_t hash = PrefixIndex::chain(parent, keys, block_size_);
        s.hashes.push_back(hash);
        const int block = s.blocks[b];
        if (block >= 0 && !prefix_.cached(block)) prefix_.add(block, hash, parent, keys);
    }
}

void KvCache::release_before(int seq, int pos) {
    Seq &s = seqs_[static_cast<size_t>(seq)];
    const size_t below = std::min(s.blocks.size(), static_cast<size_t>(std::max(0, pos) / block_size_));
    for (size_t b = 0; b < below; ++b) {
        if (s.blocks[b] < 0) continue;
        unref(s.blocks[b]);
        s.blocks[b] = -1;
    }
}

int KvCache::seq_reuse(int seq, const int32_t *keys, int n) {
    Seq &s = seqs_[static_cast<size_t>(seq)];
    if (s.length != 0) return 0;
    uint64_t parent = 0;
    for (int b = 0; (b + 1) * block_size_ <= n; ++b) {
        const int32_t *k = keys + static_cast<size_t>(b) * static_cast<size_t>(block_size_);
        const uint64_t hash = PrefixIndex::chain(parent, k, block_size_);
        const int block = prefix_.find(hash, parent, k);
        if (block < 0) break;
        if (refs_[static_cast<size_t>(block)]++ == 0) prefix_.unpark(block);
        s.blocks.push_back(block);
        s.hashes.push_back(hash);
        s.keys.insert(s.keys.end(), k, k + block_size_);
        s.length += block_size_;
        parent = hash;
    }
    prefix_hits_ += static_cast<uint64_t>(s.length);
    return s.length;
}

uint8_t *KvCache::k_row(int seq, int layer, int pos) {
    const int block = seqs_[static_cast<size_t>(seq)].blocks[static_cast<size_t>(pos / block_size_)];
    return storage_.data() + offset(block, layer, 0) + static_cast<size_t>(pos % block_size_) * row_bytes_;
}

uint8_t *KvCache::v_row(int seq, int layer, int pos) {
    const int block = seqs_[static_cast<size_t>(seq)].blocks[static_cast<size_t>(pos / block_size_)];
    return storage_.data() + offset(block, layer, 1) + static_cast<size_t>(pos % block_size_) * row_bytes_;
}

KvStats KvCache::stats() const {
    KvStats s{};
    s.blocks_total = n_blocks();
    s.blocks_free = static_cast<uint32_t>(free_.size() + prefix_.parked());
    s.blocks_used = s.blocks_total - s.blocks_free;
    s.block_size = static_cast<uint32_t>(block_size_);
    s.sequences = static_cast<uint32_t>(seqs_.size() - free_seqs_.size());
    s.blocks_cached = static_cast<uint32_t>(prefix_.size());
    s.prefix_hits = prefix_hits_;
    return s;
}

Status KvCache::check() const {
    std::vector<uint32_t> counted(refs_.size(), 0);
    for (const Seq &s : seqs_) {
        if (!s.live) continue;
        if (static_cast<int>(s.blocks.size()) != blocks_for(s.length)) {
            return Status::error(LMRT_E_INTERNAL, "KV cache: a sequence of length %d holds %zu blocks", s.length, s.blocks.size());
        }
        for (int b : s.blocks) {
            if (b >= 0) ++counted[static_cast<size_t>(b)];
        }
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
        const int block = static_cast<int>(b);
        if (is_free[b] && (refs_[b] != 0 || prefix_.cached(block))) {
            return Status::error(LMRT_E_INTERNAL, "KV cache: block %zu is free but held or cached", b);
        }
        if (refs_[b] == 0 && !is_free[b] && !(prefix_.cached(block) && prefix_.is_parked(block))) {
            return Status::error(LMRT_E_INTERNAL, "KV cache: block %zu is held by nobody but neither free nor parked", b);
        }
        if (refs_[b] != 0 && prefix_.is_parked(block)) return Status::error(LMRT_E_INTERNAL, "KV cache: block %zu is held and parked", b);
    }
    return Status::ok();
}

} // namespace lmrt
