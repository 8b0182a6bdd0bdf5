#include "memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "thread_pool.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace lmrt {

namespace {

struct ReadJob {
    const uint64_t *data;
    uint64_t words;
    uint64_t sums[64]; // one per thread (the pool has at most 64), so the reads cannot be optimised away
};

// Eight independent accumulators: the loop is bound by loads, not by adds.
uint64_t sum_words(const uint64_t *p, uint64_t n) {
    uint64_t acc[8] = {};
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int k = 0; k < 8; ++k) acc[k] += p[i + k];
    }
    for (; i < n; ++i) acc[0] += p[i];
    uint64_t s = 0;
    for (uint64_t a : acc) s += a;
    return s;
}

void read_slice(void *user, int ith, int nth) {
    auto *job = static_cast<ReadJob *>(user);
    const uint64_t per = job->words / static_cast<uint64_t>(nth);
    const uint64_t first = per * static_cast<uint64_t>(ith);
    const uint64_t count = ith == nth - 1 ? job->words - first : per;
    job->sums[ith] += sum_words(job->data + first, count);
}

} // namespace

double measure_read_bandwidth(uint64_t bytes, int n_threads, int passes) {
    const uint64_t words = std::max<uint64_t>(bytes / 8, 1024);
    std::unique_ptr<uint64_t[]> buffer(new uint64_t[words]);
    for (uint64_t i = 0; i < words; ++i) buffer[i] = i;
    ThreadPool pool(std::min(std::max(n_threads, 1), 64));
    ReadJob job{buffer.get(), words, {}};
    double best = 0;
    for (int p = 0; p < std::max(passes, 1); ++p) {
        const auto t0 = std::chrono::steady_clock::now();
        pool.run(read_slice, &job);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (s > 0) best = std::max(best, static_cast<double>(words * 8) / s);
    }
    // the sums feed nothing; a volatile read keeps them live
    volatile uint64_t sink = job.sums[0];
    (void)sink;
    return best;
}

} // namespace lmrt
