#include "prefix_index.h"

#include <algorithm>
#include <cstring>

namespace lmrt {

void PrefixIndex::init(uint32_t n_blocks, int block_size) {
    block_size_ = block_size;
    hash_.assign(n_blocks, 0);
    parent_.assign(n_blocks, 0);
    keys_.assign(static_cast<size_t>(n_blocks) * static_cast<size_t>(block_size), 0);
    by_hash_.clear();
    lru_.clear();
    parked_at_.assign(n_blocks, lru_.end());
}

uint64_t PrefixIndex::chain(uint64_t parent, const int32_t *keys, int n) {
    // splitmix64 over the parent hash and each key; 0 is reserved for "none"
    uint64_t h = parent ^ 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < n; ++i) {
        h += static_cast<uint64_t>(static_cast<uint32_t>(keys[i])) + 0x9e3779b97f4a7c15ull;
        h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
        h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
        h ^= h >> 31;
    }
    return h == 0 ? 1 : h;
}

int PrefixIndex::find(uint64_t hash, uint64_t parent, const int32_t *keys) const {
    const auto it = by_hash_.find(hash);
    if (it == by_hash_.end()) return -1;
    const size_t b = static_cast<size_t>(it->second);
    if (parent_[b] != parent) return -1;
    if (std::memcmp(keys_.data() + b * static_cast<size_t>(block_size_), keys, sizeof(int32_t) * static_cast<size_t>(block_size_)) != 0) {
        return -1;
    }
    return it->second;
}

bool PrefixIndex::add(int block, uint64_t hash, uint64_t parent, const int32_t *keys) {
    if (by_hash_.count(hash) != 0) return false;
    const size_t b = static_cast<size_t>(block);
    by_hash_.emplace(hash, block);
    hash_[b] = hash;
    parent_[b] = parent;
    std::memcpy(keys_.data() + b * static_cast<size_t>(block_size_), keys, sizeof(int32_t) * static_cast<size_t>(block_size_));
    return true;
}

void PrefixIndex::remove(int block) {
    const size_t b = static_cast<size_t>(block);
    if (hash_[b] == 0) return;
    by_hash_.erase(hash_[b]);
    hash_[b] = 0;
    if (parked_at_[b] != lru_.end()) {
        lru_.erase(parked_at_[b]);
        parked_at_[b] = lru_.end();
    }
}

void PrefixIndex::park(int block) {
    parked_at_[static_cast<size_t>(block)] = lru_.insert(lru_.end(), block);
}

void PrefixIndex::unpark(int block) {
    const size_t b = static_cast<size_t>(block);
    if (parked_at_[b] == lru_.end()) return;
    lru_.erase(parked_at_[b]);
    parked_at_[b] = lru_.end();
}

int PrefixIndex::evict() {
    if (lru_.empty()) return -1;
    const int block = lru_.front();
    remove(block);
    return block;
}

} // namespace lmrt
