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
    for (size_t i = 0; i < prompt.size(); ++i) rows.push_back({seq, prompt[i], start + static_cast<int32_t>(i), i + 1 == prompt.size() ? LMRT_ROW_LOGITS : 0});
    std::vector<int32_t> out;
    if (lmrt_context_step(c, rows.data(), static_cast<uint32_t>(rows.size()), logits.data(), logits.size(), &err) != LMRT_OK) {
        lmrt_test::fail(__FILE__, __LINE__, err.message);
        return out;
    }
    for (int s = 0; s < steps; ++s) {
        const int32_t next = argmax(logits.data(), n_vocab);
        out.push_back(next);
        if (s + 1 == steps) break;
        lmrt_batch_row row{seq, next, lmrt_seq_length(c, seq), LMRT_ROW_LOGITS | LMRT_ROW_DECODE};
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

namespace {

struct Fixture {
    Model model;
    Context ctx;
    uint32_t n_vocab = 0;
};

bool open_stories(Fixture *f, uint32_t n_ctx = 1024, const char *file = "stories260K-q8_0.gguf") {
    const std::string dir = lmrt_test::models_dir();
    if (dir.empty()) return false;
    f->model = open_model(dir + "/" + file);
    if (!f->model) return false;
    f->ctx = make_context(f->model.get(), n_ctx);
    f->n_vocab = vocab_of(f->model.get());
    return f->ctx != nullptr;
}

int32_t new_seq(lmrt_context *c) {
    int32_t s = -1;
    lmrt_seq_create(c, &s, nullptr);
    return s;
}

const std::vector<int32_t> kPrompt = {1, 403, 407, 261, 378, 432, 383, 286, 271, 262, 280, 297, 313, 276, 290, 330, 259, 295, 300, 281, 305};

} // namespace

TEST(incremental_decoding_equals_recomputing_the_whole_sequence) {
    Fixture f;
    if (!open_stories(&f)) return;
    const int32_t seq = new_seq(f.ctx.get());
    const std::vector<int32_t> incremental = greedy(f.ctx.get(), f.n_vocab, seq, kPrompt, 24);
    std::vector<int32_t> tokens = kPrompt;
    for (size_t step = 0; step < incremental.size(); ++step) {
        const int32_t fresh = new_seq(f.ctx.get());
        const std::vector<int32_t> next = greedy(f.ctx.get(), f.n_vocab, fresh, tokens, 1);
        REQUIRE(lmrt_seq_release(f.ctx.get(), fresh, nullptr) == LMRT_OK);
        CHECK_EQ(next.at(0), incremental[step]);
        tokens.push_back(incremental[step]);
    }
    CHECK(lmrt_kv_check(f.ctx.get(), nullptr) == LMRT_OK);
}

TEST(a_sequence_gives_the_same_logits_alone_and_batched_with_three_others) {
    // F32 and F16 have batched kernels that sum in another order than the
    // single-row ones: a row's order must follow its own sequence's rows only
    for (const char *file : {"stories260K-f32.gguf", "stories260K-f16.gguf", "stories260K-q8_0.gguf"}) {
        Fixture f;
        if (!open_stories(&f, 1024, file)) return;
        const int steps = 20;
        // alone: the prompt in one step, then one decode row per step; every step's logits kept
        std::vector<std::vector<float>> alone_logits;
        std::vector<int32_t> alone;
        {
            const int32_t seq = new_seq(f.ctx.get());
            std::vector<lmrt_batch_row> rows;
            for (size_t i = 0; i < kPrompt.size(); ++i) rows.push_back({seq, kPrompt[i], static_cast<int32_t>(i), i + 1 == kPrompt.size() ? LMRT_ROW_LOGITS : 0});
            std::vector<float> logits(f.n_vocab);
            lmrt_error err{};
            for (int s = 0; s < steps; ++s) {
                REQUIRE(lmrt_context_step(f.ctx.get(), rows.data(), static_cast<uint32_t>(rows.size()), logits.data(), logits.size(), &err) == LMRT_OK);
                alone_logits.push_back(logits);
                alone.push_back(argmax(logits.data(), f.n_vocab));
                rows = {{seq, alone.back(), lmrt_seq_length(f.ctx.get(), seq), LMRT_ROW_LOGITS | LMRT_ROW_DECODE}};
            }
        }

        // four sequences of different prompt lengths, prefilled and decoded in shared steps
        const std::vector<std::vector<int32_t>> prompts = {
            {1, 300, 301}, kPrompt, {1, 280, 290, 300, 310, 320, 330, 340, 350, 360, 370, 380, 390, 400, 410, 420, 430, 440}, {1}};
        std::vector<int32_t> seqs;
        std::vector<lmrt_batch_row> rows;
        for (const auto &p : prompts) {
            seqs.push_back(new_seq(f.ctx.get()));
            for (size_t i = 0; i < p.size(); ++i) rows.push_back({seqs.back(), p[i], static_cast<int32_t>(i), i + 1 == p.size() ? LMRT_ROW_LOGITS : 0});
        }
        std::vector<float> logits(prompts.size() * f.n_vocab);
        lmrt_error err{};
        std::vector<int32_t> batched;
        for (int s = 0; s < steps; ++s) {
            REQUIRE(lmrt_context_step(f.ctx.get(), rows.data(), static_cast<uint32_t>(rows.size()), logits.data(), logits.size(), &err) == LMRT_OK);
            // the kPrompt sequence's logits, bit for bit those it had alone
            CHECK(std::memcmp(logits.data() + f.n_vocab, alone_logits[static_cast<size_t>(s)].data(), f.n_vocab * sizeof(float)) == 0);
            rows.clear();
            for (size_t k = 0; k < seqs.size(); ++k) {
                const int32_t next = argmax(logits.data() + k * f.n_vocab, f.n_vocab);
                if (k == 1) batched.push_back(next);
                rows.push_back({seqs[k], next, lmrt_seq_length(f.ctx.get(), seqs[k]), LMRT_ROW_LOGITS | LMRT_ROW_DECODE});
            }
        }
        CHECK(batched == alone);
    }
}

TEST(a_sequence_started_from_cached_prefix_blocks_gives_the_logits_of_a_cold_run) {
    Fixture f;
    if (!open_stories(&f, 1024, "stories260K-f32.gguf")) return;
    std::vector<int32_t> prompt = kPrompt;
    for (int i = 0; i < 20; ++i) prompt.push_back(300 + i); // 41 tokens: two full blocks and a part
    const auto run = [&](int32_t seq, int from) {
        std::vector<lmrt_batch_row> rows;
        for (size_t i = static_cast<size_t>(from); i < prompt.size(); ++i) {
            rows.push_back({seq, prompt[i], static_cast<int32_t>(i), i + 1 == prompt.size() ? LMRT_ROW_LOGITS : 0});
        }
        std::vector<float> logits(f.n_vocab);
        lmrt_error err{};
        REQUIRE(lmrt_context_step(f.ctx.get(), rows.data(), static_cast<uint32_t>(rows.size()), logits.data(), logits.size(), &err) == LMRT_OK);
        return logits;
    };
    const int32_t cold = new_seq(f.ctx.get());
    const std::vector<float> want = run(cold, 0);
    REQUIRE(lmrt_seq_release(f.ctx.get(), cold, nullptr) == LMRT_OK);
    lmrt_kv_stats stats;
    lmrt_kv_stats_get(f.ctx.get(), &stats);
    CHECK_EQ(stats.blocks_used, 0u);
    CHECK_EQ(stats.blocks_cached, 2u); // the full blocks stay indexed, free to reuse or evict

    const int32_t warm = new_seq(f.ctx.get());
    uint32_t reused = 0;
    REQUIRE(lmrt_seq_reuse_prefix(f.ctx.get(), warm, prompt.data(), static_cast<uint32_t>(prompt.size() - 1),
                                  static_cast<uint32_t>(prompt.size()), &reused, nullptr) == LMRT_OK);
    CHECK_EQ(reused, 32u);
    const std::vector<float> got = run(warm, static_cast<int>(reused));
    CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0);
    lmrt_kv_stats_get(f.ctx.get(), &stats);
    CHECK_EQ(stats.prefix_hits, 32u);

    // decoded rows are other rows: the same tokens fed as decoded rows do not match
    const int32_t other = new_seq(f.ctx.get());
    REQUIRE(lmrt_seq_reuse_prefix(f.ctx.get(), other, prompt.data(), 32, 0, &reused, nullptr) == LMRT_OK);
    CHECK_EQ(reused, 0u);
    lmrt_error err{};
    CHECK(lmrt_kv_check(f.ctx.get(), &err) == LMRT_OK);
}

TEST(fork_with_copy_on_write_continues_both_branches_correctly) {
    Fixture f;
    if (!open_stories(&f)) return;
    const int32_t a = new_seq(f.ctx.get());
    greedy(f.ctx.get(), f.n_vocab, a, kPrompt, 1); // prompt cached: 21 positions, a shared partial block
    int32_t b = -1;
    REQUIRE(lmrt_seq_fork(f.ctx.get(), a, &b, nullptr) == LMRT_OK);
    const std::vector<int32_t> branch_a = greedy(f.ctx.get(), f.n_vocab, a, {300}, 12);
    const std::vector<int32_t> branch_b = greedy(f.ctx.get(), f.n_vocab, b, {420}, 12);
    std::vector<int32_t> pa = kPrompt, pb = kPrompt;
    pa.push_back(300);
    pb.push_back(420);
    CHECK(branch_a == greedy(f.ctx.get(), f.n_vocab, new_seq(f.ctx.get()), pa, 12));
    CHECK(branch_b == greedy(f.ctx.get(), f.n_vocab, new_seq(f.ctx.get()), pb, 12));
    CHECK(branch_a != branch_b);
    CHECK(lmrt_kv_check(f.ctx.get(), nullptr) == LMRT_OK);
}

TEST(truncate_then_continue_equals_a_fresh_run) {
    Fixture f;
    if (!open_stories(&f)) return;
    const int32_t seq = new_seq(f.ctx.get());
    const std::vector<int32_t> generated = greedy(f.ctx.get(), f.n_vocab, seq, kPrompt, 10);
    // keep the prompt and 3 generated tokens (the cache holds 9 of the 10), then go on
    REQUIRE(lmrt_seq_truncate(f.ctx.get(), seq, static_cast<int32_t>(kPrompt.size()) + 2, nullptr) == LMRT_OK);
    const std::vector<int32_t> resumed = greedy(f.ctx.get(), f.n_vocab, seq, {generated[2]}, 8);
    std::vector<int32_t> prefix = kPrompt;
    prefix.insert(prefix.end(), generated.begin(), generated.begin() + 3);
    CHECK(resumed == greedy(f.ctx.get(), f.n_vocab, new_seq(f.ctx.get()), prefix, 8));
    CHECK(std::equal(resumed.begin(), resumed.begin() + 7, generated.begin() + 3));
    CHECK(lmrt_kv_check(f.ctx.get(), nullptr) == LMRT_OK);
}

TEST(a_request_that_does_not_fit_gives_kv_full_and_the_context_stays_usable) {
    Fixture f;
    if (!open_stories(&f, 64)) return; // 4 blocks of 16 positions
    const int32_t a = new_seq(f.ctx.get()), b = new_seq(f.ctx.get());
    std::vector<lmrt_batch_row> rows;
    for (int i = 0; i < 50; ++i) rows.push_back({a, 300, i, i == 49 ? LMRT_ROW_LOGITS : 0});
    std::vector<float> logits(f.n_vocab);
    lmrt_error err{};
    REQUIRE(lmrt_context_step(f.ctx.get(), rows.data(), 50, logits.data(), logits.size(), &err) == LMRT_OK);
    lmrt_kv_stats before;
    lmrt_kv_stats_get(f.ctx.get(), &before);
    rows.clear();
    for (int i = 0; i < 20; ++i) rows.push_back({b, 300, i, i == 19 ? LMRT_ROW_LOGITS : 0});
    CHECK_EQ(lmrt_context_step(f.ctx.get(), rows.data(), 20, logits.data(), logits.size(), &err), LMRT_E_KV_FULL);
    CHECK(std::string(err.message).find("needs 2 more blocks") != std::string::npos);
    lmrt_kv_stats after;
    lmrt_kv_stats_get(f.ctx.get(), &after);
    CHECK_EQ(after.blocks_used, before.blocks_used);
    CHECK_EQ(lmrt_seq_length(f.ctx.get(), b), 0);
    CHECK(lmrt_kv_check(f.ctx.get(), nullptr) == LMRT_OK);
    // still usable: free the first sequence and the same request fits
    REQUIRE(lmrt_seq_release(f.ctx.get(), a, nullptr) == LMRT_OK);
    CHECK_EQ(lmrt_context_step(f.ctx.get(), rows.data(), 20, logits.data(), logits.size(), &err), LMRT_OK);
    CHECK_EQ(lmrt_seq_length(f.ctx.get(), b), 20);
}

TEST(steps_reject_bad_rows_with_clear_errors) {
    Fixture f;
    if (!open_stories(&f)) return;
    const int32_t seq = new_seq(f.ctx.get());
    std::vector<float> logits(f.n_vocab);
    lmrt_error err{};
    lmrt_batch_row bad_token{seq, 512, 0, LMRT_ROW_LOGITS};
    CHECK_EQ(lmrt_context_step(f.ctx.get(), &bad_token, 1, logits.data(), logits.size(), &err), LMRT_E_INVALID_ARGUMENT);
    CHECK(std::string(err.message).find("token id 512 is out of range") != std::string::npos);
    lmrt_batch_row gap{seq, 300, 3, LMRT_ROW_LOGITS};
    CHECK_EQ(lmrt_context_step(f.ctx.get(), &gap, 1, logits.data(), logits.size(), &err), LMRT_E_INVALID_ARGUMENT);
    CHECK(std::string(err.message).find("expects position 0") != std::string::npos);
    lmrt_batch_row no_seq{99, 300, 0, LMRT_ROW_LOGITS};
    CHECK_EQ(lmrt_context_step(f.ctx.get(), &no_seq, 1, logits.data(), logits.size(), &err), LMRT_E_INVALID_ARGUMENT);
    lmrt_batch_row bad_flags{seq, 300, 0, 16};
    CHECK_EQ(lmrt_context_step(f.ctx.get(), &bad_flags, 1, logits.data(), logits.size(), &err), LMRT_E_INVALID_ARGUMENT);
    CHECK(std::string(err.message).find("unknown flags 16") != std::string::npos);
    lmrt_batch_row ok{seq, 300, 0, LMRT_ROW_LOGITS};
    CHECK_EQ(lmrt_context_step(f.ctx.get(), &ok, 1, logits.data(), 10, &err), LMRT_E_INVALID_ARGUMENT); // logits buffer too small
    CHECK_EQ(lmrt_seq_length(f.ctx.get(), seq), 0);
}

TEST(model_open_names_unsupported_architectures_and_missing_tensors) {
    const std::string path = lmrt_test::temp_dir() + "/arch.gguf";
    lmrt_gguf_kv_in kvs[3];
    std::memset(kvs, 0, sizeof kvs);
    const char *arch = "mamba";
    kvs[0].key = {"general.architecture", 20};
    kvs[0].value.type = LMRT_GGUF_STRING;
    kvs[0].value.as.str = {arch, 5};
    kvs[1].key = {"tokenizer.ggml.model", 20};
    kvs[1].value.type = LMRT_GGUF_STRING;
    kvs[1].value.as.str = {"llama", 5};
    const lmrt_string toks[3] = {{"<unk>", 5}, {"<s>", 3}, {"</s>", 4}};
    kvs[2].key = {"tokenizer.ggml.tokens", 21};
    kvs[2].value.type = LMRT_GGUF_ARRAY;
    kvs[2].value.as.array = {LMRT_GGUF_STRING, 3, toks};
    REQUIRE(lmrt_gguf_write(path.c_str(), 0, kvs, 3, nullptr, 0, nullptr, nullptr, nullptr) == LMRT_OK);
    lmrt_model *m = nullptr;
    lmrt_error err{};
    CHECK_EQ(lmrt_model_open(path.c_str(), &m, &err), LMRT_E_ARCH_UNSUPPORTED);
    CHECK(std::string(err.message).find("'mamba'") != std::string::npos);
    kvs[0].value.as.str = {"llama", 5};
    REQUIRE(lmrt_gguf_write(path.c_str(), 0, kvs, 3, nullptr, 0, nullptr, nullptr, nullptr) == LMRT_OK);
    CHECK_EQ(lmrt_model_open(path.c_str(), &m, &err), LMRT_E_GGUF_INVALID);
    CHECK(std::string(err.message).find("llama.embedding_length is missing") != std::string::npos);
    CHECK(m == nullptr);
}

TEST(greedy_and_top_k_rows_return_what_the_logits_they_would_return_give) {
    Fixture f;
    if (!open_stories(&f)) return;
    Context plain = make_context(f.model.get(), 1024);
    const uint32_t V = f.n_vocab;
    // the same steps in two contexts: one returns every logits row, the other the greedy token of some
    const int32_t a = new_seq(f.ctx.get()), b = new_seq(f.ctx.get());
    CHECK_EQ(new_seq(plain.get()), a);
    CHECK_EQ(new_seq(plain.get()), b);
    std::vector<lmrt_batch_row> rows;
    for (int i = 0; i < 7; ++i) rows.push_back({a, 40 + 7 * i, i, i == 3 || i == 6 ? LMRT_ROW_LOGITS : 0});
    for (int i = 0; i < 5; ++i) rows.push_back({b, 300 + i, i, i == 4 ? LMRT_ROW_LOGITS : 0});
    std::vector<float> all(3 * V);
    lmrt_error err{};
    REQUIRE(lmrt_context_step(plain.get(), rows.data(), static_cast<uint32_t>(rows.size()), all.data(), all.size(), &err) == LMRT_OK);
    rows[3].flags |= LMRT_ROW_ARGMAX;
    rows[11].flags |= LMRT_ROW_ARGMAX;
    std::vector<float> some(V);
    int32_t tokens[2] = {-1, -1};
    lmrt_step_output out{};
    out.logits = some.data();
    out.logits_capacity = some.size();
    out.tokens = tokens;
    out.tokens_capacity = 2;
    REQUIRE(lmrt_context_step_ex(f.ctx.get(), rows.data(), static_cast<uint32_t>(rows.size()), &out, &err) == LMRT_OK);
    CHECK_EQ(tokens[0], argmax(all.data(), V));
    CHECK_EQ(tokens[1], argmax(all.data() + 2 * V, V));
    CHECK(std::memcmp(some.data(), all.data() + V, V * sizeof(float)) == 0); // row 6 keeps its logits, bit for bit

    // decoding: a greedy row, a top-k row and one with logits
    const int32_t c = new_seq(f.ctx.get());
    CHECK_EQ(new_seq(plain.get()), c);
    std::vector<lmrt_batch_row> step = {{a, tokens[0], 7, LMRT_ROW_LOGITS | LMRT_ROW_DECODE},
                                        {b, tokens[1], 5, LMRT_ROW_LOGITS | LMRT_ROW_DECODE},
                                        {c, 1, 0, LMRT_ROW_LOGITS}};
    std::vector<float> three(3 * V);
    REQUIRE(lmrt_context_step(plain.get(), step.data(), 3, three.data(), three.size(), &err) == LMRT_OK);
    step[0].flags |= LMRT_ROW_ARGMAX;
    step[2].flags |= LMRT_ROW_TOPK;
    int32_t token = -1;
    const uint32_t k = 40;
    std::vector<int32_t> top_ids(k);
    std::vector<float> top_logits(k);
    out = lmrt_step_output{some.data(), some.size(), &token, 1, k, top_ids.data(), top_logits.data(), k};
    REQUIRE(lmrt_context_step_ex(f.ctx.get(), step.data(), 3, &out, &err) == LMRT_OK);
    CHECK_EQ(token, argmax(three.data(), V));
    CHECK(std::memcmp(some.data(), three.data() + V, V * sizeof(float)) == 0);
    // the top-k: the row's k largest, largest first, equal ones by lower id (the sampling chain's order)
    std::vector<int32_t> order(V);
    for (uint32_t i = 0; i < V; ++i) order[i] = static_cast<int32_t>(i);
    const float *row = three.data() + 2 * V;
    std::stable_sort(order.begin(), order.end(), [row](int32_t x, int32_t y) { return row[x] > row[y]; });
    for (uint32_t i = 0; i < k; ++i) {
        CHECK_EQ(top_ids[i], order[i]);
        CHECK(top_logits[i] == row[order[i]]);
    }

    // greedy and top-k rows need LMRT_ROW_LOGITS, room for what they hand out, and a top_k in range
    lmrt_batch_row next{b, 7, 6, LMRT_ROW_ARGMAX | LMRT_ROW_DECODE};
    CHECK_EQ(lmrt_context_step_ex(f.ctx.get(), &next, 1, &out, &err), LMRT_E_INVALID_ARGUMENT);
    CHECK(std::string(err.message).find("need LMRT_ROW_LOGITS") != std::string::npos);
    next.flags |= LMRT_ROW_LOGITS;
    CHECK_EQ(lmrt_context_step(f.ctx.get(), &next, 1, some.data(), some.size(), &err), LMRT_E_INVALID_ARGUMENT);
    CHECK(std::string(err.message).find("the tokens buffer holds 0 ids") != std::string::npos);
    next.flags = LMRT_ROW_LOGITS | LMRT_ROW_TOPK | LMRT_ROW_DECODE;
    out.top_k = LMRT_MAX_TOP_K + 1;
    CHECK_EQ(lmrt_context_step_ex(f.ctx.get(), &next, 1, &out, &err), LMRT_E_INVALID_ARGUMENT);
    CHECK(std::string(err.message).find("top_k must be 1 to 256") != std::string::npos);
    out.top_k = k;
    out.top_capacity = k - 1;
    CHECK_EQ(lmrt_context_step_ex(f.ctx.get(), &next, 1, &out, &err), LMRT_E_INVALID_ARGUMENT);
    CHECK(std::string(err.message).find("the top-k buffers hold 39 entries") != std::string::npos);
    next.flags |= LMRT_ROW_ARGMAX;
    CHECK_EQ(lmrt_context_step_ex(f.ctx.get(), &next, 1, &out, &err), LMRT_E_INVALID_ARGUMENT);
    CHECK(std::string(err.message).find("exclude each other") != std::string::npos);
    CHECK_EQ(lmrt_seq_length(f.ctx.get(), b), 6);
}

TEST(cuda_availability_is_a_count_or_a_reason) {
    // where liblmrt_cuda is missing or sees no GPU: 0 and why; else the devices
    char why[512] = "";
    const int devices = lmrt_cuda_available(why, sizeof why);
    CHECK(devices >= 0);
    if (devices == 0) {
        CHECK(std::strlen(why) > 0);
        CHECK(std::string(why).find("CUDA") != std::string::npos);
    }
    lmrt_model_params p{};
    p.backend = LMRT_BACKEND_CUDA;
    p.gpu_layers = -1;
    p.device = -1;
    lmrt_model *m = nullptr;
    lmrt_error err{};
    CHECK_EQ(lmrt_model_open_with("unused.gguf", &p, &m, &err), LMRT_E_INVALID_ARGUMENT);
    CHECK(std::string(err.message).find("device must be a CUDA device index") != std::string::npos);
    p.device = 0;
    p.backend = 7;
    CHECK_EQ(lmrt_model_open_with("unused.gguf", &p, &m, &err), LMRT_E_INVALID_ARGUMENT);
    CHECK(std::string(err.message).find("unknown backend 7") != std::string::npos);
}
