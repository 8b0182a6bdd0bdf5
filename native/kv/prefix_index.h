// PrefixIndex: which KV blocks hold which token prefixes, for reuse across
// sequences (prefix caching).
//
// A full block is keyed by a hash of (its parent block's hash, its row keys)
// where a row key is the token and whether it was a prompt row or a decoded
// one (the two sum in different orders, so their K/V differ in rounding).
// The chain makes a block's hash stand for the whole prefix up to its end.
// The index also keeps each block's row keys and parent hash, so a lookup
// never trusts the hash alone.
//
// Cached blocks nobody holds wait in least-recently-used order until the
// pool needs them back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

namespace lmrt {

class PrefixIndex {
  public:
    void init(uint32_t n_blocks, int block_size);

    // The hash of a block with these row keys after `parent` (0: the first block).
    static uint64_t chain(uint64_t parent, const int32_t *keys, int n);

    // The block holding exactly these keys after `parent`, or -1.
    int find(uint64_t hash, uint64_t parent, const int32_t *keys) const;
    // Registers `block` (full, never written again while cached). False if
    // another block already holds this prefix (the block stays private).
    bool add(int block, uint64_t hash, uint64_t parent, const int32_t *keys);
    // Forgets `block` (it is about to change).
    void remove(int block);
    bool cached(int block) const { return hash_[static_cast<size_t>(block)] != 0; }

    // Unreferenced cached blocks, least recently used first.
    void park(int block);   // nobody holds it now
    void unpark(int block); // someone holds it again
    size_t parked() const { return lru_.size(); }
    // Takes back the least recently used parked block for reuse (forgets it), or -1.
    int evict();
    size_t size() const { return by_hash_.size(); }

    // For KvCache::check(): a parked block is cached and listed once.
    bool is_parked(int block) const { return parked_at_[static_cast<size_t>(block)] != lru_.end(); }

  private:
    int block_size_ = 16;
    std::vector<uint64_t> hash_, parent_;
    std::vector<int32_t> keys_; // block_size_ per block
    std::unordered_map<uint64_t, int> by_hash_;
    std::list<int> lru_;
    std::vector<std::list<int>::iterator> parked_at_;
};

} // namespace lmrt
