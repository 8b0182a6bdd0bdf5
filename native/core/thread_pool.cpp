#include "thread_pool.h"

#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace lmrt {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Spin a little (the common case inside a step is a short wait), then yield.
template <typename Done> void spin_until(Done done) {
    for (int i = 0; !done(); ++i) {
        if (i < 4096) {
            cpu_relax();
        } else {
            std::this_thread::yield();
        }
    }
}

} // namespace

int physical_core_count() {
    std::set<std::pair<std::string, std::string>> cores;
    for (unsigned cpu = 0; cpu < 4096; ++cpu) {
        const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
        std::ifstream core(base + "core_id"), package(base + "physical_package_id");
        if (!core) break;
        std::string c, p;
        core >> c;
        package >> p;
        cores.emplace(p, c);
    }
    if (!cores.empty()) return static_cast<int>(cores.size());
    const unsigned n = std::thread::hardware_concurrency();
    return n > 0 ? static_cast<int>(n) : 1;
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads), active_(n_threads_) {
    workers_.reserve(static_cast<size_t>(n_threads_ - 1));
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back(&ThreadPool::worker, this, i);
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
        ++generation_;
    }
    wake_.notify_all();
    for (std::thread &t : workers_) t.join();
}

void ThreadPool::worker(int ith) {
    uint64_t seen = 0;
    for (;;) {
        Job job;
        void *user;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return generation_ != seen; });
            seen = generation_;
            if (stop_) return;
            job = job_;
            user = user_;
        }
        job(user, ith, n_threads_);
        done_.fetch_add(1, std::memory_order_acq_rel);
    }
}

void ThreadPool::run(Job job, void *user, bool single) {
    if (n_threads_ == 1 || single) {
        active_ = 1;
        job(user, 0, 1);
        active_ = n_threads_;
        return;
    }
    done_.store(0, std::memory_order_relaxed);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        job_ = job;
        user_ = user;
        ++generation_;
    }
    wake_.notify_all();
    job(user, 0, n_threads_);
    wait_done();
}

void ThreadPool::wait_done() {
    spin_until([&] { return done_.load(std::memory_order_acquire) == n_threads_ - 1; });
}

void ThreadPool::barrier() {
    if (active_ == 1) return;
    const uint64_t phase = barrier_phase_.load(std::memory_order_acquire);
    if (barrier_count_.fetch_add(1, std::memory_order_acq_rel) == n_threads_ - 1) {
        barrier_count_.store(0, std::memory_order_relaxed);
        barrier_phase_.fetch_add(1, std::memory_order_acq_rel);
        return;
    }
    spin_until([&] { return barrier_phase_.load(std::memory_order_acquire) != phase; });
}

} // namespace lmrt
