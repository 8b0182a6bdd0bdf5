#include "step_profile.h"

#include <cstdio>
#include <cstdlib>

#include "../core/ggml_types.h"

namespace lmrt {

StepProfile *StepProfile::from_env() {
    const char *v = std::getenv("LMRT_PROFILE");
    if (v == nullptr) return nullptr;
    const long every = std::strtol(v, nullptr, 10);
    if (every <= 0) return nullptr;
    return new StepProfile(every > 1 ? static_cast<int>(every) : 0);
}

void StepProfile::add(Op op, uint32_t weight_type, uint64_t ns) {
    ns_[bucket_][static_cast<int>(op)][weight_type < kTypes ? weight_type : 0] += ns;
    in_ops_ += ns;
}

void StepProfile::step_done(int rows, uint64_t ns) {
    const int b = bucket_of(rows);
    step_ns_[b] += ns;
    other_ns_[b] += ns > in_ops_ ? ns - in_ops_ : 0;
    ++steps_[b];
    rows_[b] += static_cast<uint64_t>(rows);
    ++total_steps_;
    if (every_ > 0 && total_steps_ % static_cast<uint64_t>(every_) == 0) std::fputs(report().c_str(), stderr);
}

std::string StepProfile::report() const {
    static const char *const kBucketNames[kBuckets] = {"1 row", "2-8 rows", "9+ rows"};
    static const char *const kOpNames[kOps] = {"matmul", "attention", "output"};
    std::string out = "lmrt profile (per step, ms; share of the step)\n";
    char line[160];
    for (int b = 0; b < kBuckets; ++b) {
        if (steps_[b] == 0) continue;
        const double n = static_cast<double>(steps_[b]), total = static_cast<double>(step_ns_[b]);
        std::snprintf(line, sizeof line, "  steps of %s: %llu steps, %.1f rows each, %.3f ms per step\n", kBucketNames[b],
                      static_cast<unsigned long long>(steps_[b]), static_cast<double>(rows_[b]) / n, total / n / 1e6);
        out += line;
        auto row = [&](const std::string &name, uint64_t ns) {
            if (ns == 0) return;
            std::snprintf(line, sizeof line, "    %-22s %9.3f  %5.1f%%\n", name.c_str(), static_cast<double>(ns) / n / 1e6,
                          100.0 * static_cast<double>(ns) / total);
            out += line;
        };
        for (int op = 0; op < kOps; ++op) {
            for (int t = 0; t < kTypes; ++t) {
                const TypeLayout *layout = find_type_layout(static_cast<uint32_t>(t));
                row(std::string(kOpNames[op]) + (op == 1 ? "" : std::string(" ") + (layout ? layout->name : "?")), ns_[b][op][t]);
            }
        }
        row("other", other_ns_[b]);
    }
    return out;
}

StepProfile::~StepProfile() {
    if (total_steps_ > 0) std::fputs(report().c_str(), stderr);
}

} // namespace lmrt
