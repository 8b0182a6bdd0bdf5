// The structs behind the C API's opaque handles, shared by the c_api_*.cpp
// files (never by the addon or tests, which see lmrt.h only).
#pragma once

#include <memory>
#include <vector>

#include "../core/thread_pool.h"
#include "../gguf/gguf_reader.h"
#include "../kv/kv_cache.h"
#include "../models/forward.h"
#include "../models/model.h"
#include "../models/step_profile.h"
#include "../tokenizer/tokenizer.h"
#include "cuda_backend.h"
#include "lmrt.h"

struct lmrt_gguf {
    lmrt::GgufReader reader;
};

struct lmrt_tokenizer {
    lmrt::Tokenizer tokenizer;
};

struct lmrt_model {
    lmrt::GgufReader gguf;
    lmrt_tokenizer tokenizer;
    lmrt::HParams hp;
    lmrt::ModelWeights weights;
    uint64_t n_params = 0;
    std::unique_ptr<lmrt::CudaModel> cuda; // set when steps run on the CUDA backend
};

struct lmrt_context {
    explicit lmrt_context(int n_threads) : pool(n_threads) {}
    lmrt_model *model = nullptr;
    lmrt::ThreadPool pool;
    lmrt::KvCache kv;
    lmrt::StepScratch scratch;
    std::vector<lmrt::KvCache::Growth> growth;
    std::vector<int> pending; // per sequence: rows of this step so far
    std::unique_ptr<lmrt::StepProfile> profile{lmrt::StepProfile::from_env()}; // LMRT_PROFILE
    std::vector<float> step_logits; // a CPU step's logit rows when some rows want only their greedy token or top-k
    std::vector<int32_t> top_order;  // scratch of the top-k selection
    // the CUDA backend: the device's KV pool and scratch, and the host side
    // of a step's description (reused from step to step)
    std::unique_ptr<lmrt::CudaContext> cuda;
    uint64_t device_kv_bytes = 0;
    std::vector<lmrt_cuda_row> cuda_rows;
    std::vector<int32_t> cuda_tables, cuda_copies;
    std::vector<int32_t> cuda_table_of; // per sequence: where its table starts in cuda_tables this step
};
