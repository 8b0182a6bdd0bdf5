// LMRT_PROFILE: where a step's time goes, per op kind, so the next
// optimisation is chosen by measurement. Thread 0 times each op from its
// start to its closing barrier (wall time, the other threads included);
// what no op claims is "other" (embedding, norms, RoPE, KV writes, SwiGLU,
// residual adds). Steps are grouped by rows: decode-sized (1), small
// batches (2-8) and prompt chunks (more).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace lmrt {

class StepProfile {
  public:
    enum class Op { kMatmul = 0, kAttention = 1, kOutput = 2 };
    static constexpr int kOps = 3, kTypes = 64, kBuckets = 3;

    // Reads LMRT_PROFILE: unset or 0 gives no profile; N > 1 also reports every N steps.
    static StepProfile *from_env();

    void step_begin(int rows) {
        bucket_ = bucket_of(rows);
        in_ops_ = 0;
    }
    void add(Op op, uint32_t weight_type, uint64_t ns);
    void step_done(int rows, uint64_t ns);
    // The table of everything so far, one line per bucket and op.
    std::string report() const;
    ~StepProfile();

  private:
    explicit StepProfile(int every) : every_(every) {}
    static int bucket_of(int rows) { return rows <= 1 ? 0 : rows <= 8 ? 1 : 2; }

    int every_;
    int bucket_ = 0;     // of the step running now
    uint64_t in_ops_ = 0; // ns of the running step claimed by ops
    uint64_t ns_[kBuckets][kOps][kTypes] = {};
    uint64_t other_ns_[kBuckets] = {}, step_ns_[kBuckets] = {}, steps_[kBuckets] = {}, rows_[kBuckets] = {};
    uint64_t total_steps_ = 0;
};

// Times one op on thread 0 when a profile is on; free otherwise.
class ProfileScope {
  public:
    ProfileScope(StepProfile *p, int ith, StepProfile::Op op, uint32_t weight_type = 0)
        : p_(ith == 0 ? p : nullptr), op_(op), type_(weight_type) {
        if (p_ != nullptr) t0_ = std::chrono::steady_clock::now();
    }
    ~ProfileScope() {
        if (p_ == nullptr) return;
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0_).count();
        p_->add(op_, type_, static_cast<uint64_t>(ns));
    }
    ProfileScope(const ProfileScope &) = delete;
    ProfileScope &operator=(const ProfileScope &) = delete;

  private:
    StepProfile *p_;
    StepProfile::Op op_;
    uint32_t type_;
    std::chrono::steady_clock::time_point t0_;
};

} // namespace lmrt
