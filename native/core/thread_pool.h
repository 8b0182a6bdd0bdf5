// ThreadPool: the persistent compute threads of a context. run(fn) executes
// fn(ith, nth) on every thread, the caller being thread 0, so N threads keep
// exactly N cores busy. Inside run(), barrier() synchronises the threads
// between ops (a short spin, then yielding); between runs the workers sleep
// on a condition variable, so nothing spins while JS does other work.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace lmrt {

// Physical cores of this machine (hyper-threads not counted); at least 1.
int physical_core_count();

class ThreadPool {
  public:
    using Job = void (*)(void *user, int ith, int nth);

    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool &) = delete;
    ThreadPool &operator=(const ThreadPool &) = delete;

    int size() const { return n_threads_; }

    // Runs job(user, ith, nth) on all threads and returns when all are done;
    // with single = true, on the calling thread alone (nth = 1): for work so
    // small that waking the others would cost more than it saves.
    // note: not reentrant; one run at a time per pool.
    void run(Job job, void *user, bool single = false);

    // Call only from inside a job, by every thread.
    void barrier();

  private:
    void worker(int ith);
    void wait_done();

    int n_threads_;
    int active_; // threads of the current run
    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    uint64_t generation_ = 0; // guarded by mutex_
    bool stop_ = false;       // guarded by mutex_
    Job job_ = nullptr;
    void *user_ = nullptr;
    std::atomic<int> done_{0};
    std::atomic<int> barrier_count_{0};
    std::atomic<uint64_t> barrier_phase_{0};
};

} // namespace lmrt
