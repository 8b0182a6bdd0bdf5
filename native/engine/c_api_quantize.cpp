// The C API over quantize_model.
#include <new>
#include <thread>

#include "../quantize/quantize_model.h"
#include "handles.h"

extern "C" {

lmrt_status lmrt_quantize_model(const char *in_path, const char *out_path, const lmrt_quantize_params *params,
                                lmrt_quantize_plan_fn plan, lmrt_progress_fn progress, void *user, lmrt_error *err) {
    if (in_path == nullptr || out_path == nullptr || params == nullptr) {
        return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "lmrt_quantize_model: a path or the parameters are null").to_c(err);
    }
    if (!lmrt::known_preset(params->preset)) {
        return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "lmrt_quantize_model: unknown preset %u (Q4_0 2, Q8_0 7, Q4_K_M 15, Q5_K_M 17, Q6_K 18)",
                                   params->preset)
            .to_c(err);
    }
    try {
        lmrt::QuantizeRequest rq;
        rq.in_path = in_path;
        rq.out_path = out_path;
        rq.preset = static_cast<lmrt::QuantPreset>(params->preset);
        const unsigned cpus = std::thread::hardware_concurrency();
        rq.n_threads = static_cast<int>(params->n_threads != 0 ? params->n_threads : (cpus != 0 ? cpus : 1));
        rq.plan = plan;
        rq.progress = progress;
        rq.user = user;
        return lmrt::quantize_model(rq).to_c(err);
    } catch (const std::bad_alloc &) {
        return lmrt::Status::error(LMRT_E_OUT_OF_MEMORY, "out of memory quantising %s", in_path).to_c(err);
    }
}

} // extern "C"
