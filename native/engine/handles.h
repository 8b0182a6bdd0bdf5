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
};
