// The KV block pool: random sequences of create, append, fork, truncate,
// release and prefix reuse, with the invariants checked after each.
#include <map>
#include <random>

#include "test.h"

TEST(kv_pool_invariants_hold_under_random_operations) {
    const std::string dir = lmrt_test::models_dir();
    if (dir.empty()) return;
    lmrt_model *m = nullptr;
    REQUIRE(lmrt_model_open((dir + "/stories260K-q4_0.gguf").c_str(), &m, nullptr) == LMRT_OK);
    lmrt_context *c = nullptr;
    lmrt_context_params p{256, 32, 1};
    REQUIRE(lmrt_context_create(m, &p, &c, nullptr) == LMRT_OK);
    std::mt19937 rng(5);
    std::vector<int32_t> live;
    std::map<int32_t, std::vector<int32_t>> tokens; // what each live sequence holds
    std::vector<float> logits(512);
    int full = 0, reused = 0;
    for (int op = 0; op < 600; ++op) {
        const int kind = static_cast<int>(rng() % 6);
        if (kind == 0 || live.empty()) {
            int32_t s;
            REQUIRE(lmrt_seq_create(c, &s, nullptr) == LMRT_OK);
            live.push_back(s);
            tokens[s].clear();
        } else if (kind == 1) {
            const int32_t s = live[rng() % live.size()];
            const int n = 1 + static_cast<int>(rng() % 20);
            std::vector<lmrt_batch_row> rows;
            // a small alphabet, so that prefixes repeat
            for (int i = 0; i < n; ++i) rows.push_back({s, static_cast<int32_t>(3 + rng() % 3), lmrt_seq_length(c, s) + i, 0});
            const lmrt_status st = lmrt_context_step(c, rows.data(), static_cast<uint32_t>(n), logits.data(), logits.size(), nullptr);
            CHECK(st == LMRT_OK || st == LMRT_E_KV_FULL);
            full += st == LMRT_E_KV_FULL;
            if (st == LMRT_OK) for (const lmrt_batch_row &r : rows) tokens[s].push_back(r.token);
        } else if (kind == 2) {
            int32_t d;
            const int32_t src = live[rng() % live.size()];
            REQUIRE(lmrt_seq_fork(c, src, &d, nullptr) == LMRT_OK);
            live.push_back(d);
            tokens[d] = tokens[src];
        } else if (kind == 3) {
            const int32_t s = live[rng() % live.size()];
            const int32_t len = lmrt_seq_length(c, s);
            const int32_t to = len == 0 ? 0 : static_cast<int32_t>(rng() % (len + 1));
            REQUIRE(lmrt_seq_truncate(c, s, to, nullptr) == LMRT_OK);
            tokens[s].resize(static_cast<size_t>(to));
        } else if (kind == 4) {
            const size_t i = rng() % live.size();
            REQUIRE(lmrt_seq_release(c, live[i], nullptr) == LMRT_OK);
            tokens.erase(live[i]);
            live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            // a new sequence that starts from another one's tokens (as prompt rows)
            const std::vector<int32_t> from = tokens[live[rng() % live.size()]];
            int32_t s;
            REQUIRE(lmrt_seq_create(c, &s, nullptr) == LMRT_OK);
            uint32_t got = 0;
            REQUIRE(lmrt_seq_reuse_prefix(c, s, from.data(), static_cast<uint32_t>(from.size()), static_cast<uint32_t>(from.size()), &got, nullptr) == LMRT_OK);
            CHECK(got % 16 == 0 && got <= from.size());
            CHECK_EQ(static_cast<uint32_t>(lmrt_seq_length(c, s)), got);
            reused += got > 0;
            live.push_back(s);
            tokens[s].assign(from.begin(), from.begin() + got);
        }
        lmrt_error err{};
        if (lmrt_kv_check(c, &err) != LMRT_OK) {
            lmrt_test::fail(__FILE__, __LINE__, err.message);
            break;
        }
    }
    CHECK(full > 0);   // the pool did fill up along the way
    CHECK(reused > 0); // and prefixes were found again
    for (int32_t s : live) lmrt_seq_release(c, s, nullptr);
    lmrt_kv_stats stats;
    lmrt_kv_stats_get(c, &stats);
    CHECK_EQ(stats.blocks_used, 0u);
    CHECK_EQ(lmrt_seq_truncate(c, 12345, 0, nullptr), LMRT_E_INVALID_ARGUMENT);
    lmrt_context_free(c);
    lmrt_model_free(m);
}
