// Whole-model tests through the C API: the published greedy output of
// stories260K, and cache consistency (incremental vs recomputed, batched
// vs alone, fork, truncate), and KV exhaustion.
#include <algorithm>
#include <cstring>
#include <memory>

#include "test.h"

namespace {

struct ModelDeleter {
    void operator()(lmrt_model *m) const { lmrt_model_free(m); }
};
struct ContextDeleter {
    void operator()(lmrt_context *c) const { lmrt_context_free(c); }
};
using Model = std::unique_ptr<lmrt_model, ModelDeleter>;
using Context = std::unique_ptr<lmrt_context, ContextDeleter>;

Model open_model(const std::string &path) {
    lmrt_model *m = nullptr;
    lmrt_error err{};
    if (lmrt_model_open(path.c_str(), &m, &err) != LMRT_OK) lmrt_test::fail(__FILE__, __LINE__, err.message);
    return Model(m);
}

Context make_context(lmrt_model *m, uint32_t n_ctx, uint32_t n_threads = 0) {
    lmrt_context *c = nullptr;
    lmrt_context_params p{n_ctx, 64, n_threads};
    lmrt_error err{};
    if (lmrt_context_create(m, &p, &c, &err) != LMRT_OK) lmrt_test::fail(__FILE__, __LINE__, err.message);
    return Context(c);
}

uint32_t vocab_of(lmrt_model *m) {
    lmrt_model_info info;
    lmrt_model_info_get(m, &info);
    return info.n_vocab;
}

int32_t argmax(const float *x, uint32_t n) { return static_cast<int32_t>(std::max_element(x, x + n) - x); }

// Greedy continuation of `prompt` for `steps` tokens in sequence `seq`, one decode row per step.
std::vector<int32_t> greedy(lmrt_context *c, uint32_t n_vocab, int32_t seq, std::vector<int32_t> prompt, int steps) {
    std::vector<float> logits(n_vocab);
    lmrt_error err{};
    std::vector<lmrt_batch_row> rows;
    const int32_t start = lmrt_seq_length(c, seq);
    for (size_t i = 0; i < prompt.size(); ++i) rows.push_back({seq, prompt[i], start + static_cast<int32_t>(i), i + 1 == prompt.size()});
    std::vector<int32_t> out;
    if (lmrt_context_step(c, rows.data(), static_cast<uint32_t>(rows.size()), logits.data(), logits.size(), &err) != LMRT_OK) {
        lmrt_test::fail(__FILE__, __LINE__, err.message);
        return out;
    }
    for (int s = 0; s < steps; ++s) {
        const int32_t next = argmax(logits.data(), n_vocab);
        out.push_back(next);
        if (s + 1 == steps) break;
        lmrt_batch_row row{seq, next, lmrt_seq_length(c, seq), 1};
        if (lmrt_context_step(c, &row, 1, logits.data(), logits.size(), &err) != LMRT_OK) {
            lmrt_test::fail(__FILE__, __LINE__, err.message);
            break;
        }
    }
    return out;
}

std::string detokenize(lmrt_model *m, const std::vector<int32_t> &ids) {
    std::string text(ids.size() * 16 + 16, '\0');
    uint64_t n = 0;
    lmrt_detokenize(lmrt_model_tokenizer(m), ids.data(), ids.size(), 0, text.data(), text.size(), &n, nullptr);
    text.resize(n);
    return text;
}

} // namespace

TEST(stories260k_greedy_from_bos_matches_the_published_text) {
    const std::string dir = lmrt_test::models_dir();
    if (dir.empty()) return;
    Model m = open_model(dir + "/stories260K-f32.gguf");
    REQUIRE(m);
    Context c = make_context(m.get(), 512);
    REQUIRE(c);
    int32_t seq;
    REQUIRE(lmrt_seq_create(c.get(), &seq, nullptr) == LMRT_OK);
    const std::vector<int32_t> ids = greedy(c.get(), vocab_of(m.get()), seq, {1}, 256);
    std::string text = detokenize(m.get(), ids);
    std::string want = lmrt_test::as_text(lmrt_test::read_file(dir + "/stories260K.greedy-from-bos-256.txt"));
    while (!want.empty() && (want.back() == '\n' || want.back() == ' ')) want.pop_back();
    text = text.substr(0, want.size());
    if (text != want) lmrt_test::fail(__FILE__, __LINE__, "got:\n" + text + "\nwant:\n" + want);
}
