// A minimal test harness for the native tests: TEST(name) registers a case,
// CHECK* record failures without stopping the case, REQUIRE* stop it.
// The runner prints one line per failure and "N passed, M failed".
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "lmrt.h"

namespace lmrt_test {

struct Case {
    const char *name;
    void (*fn)();
};

std::vector<Case> &registry();
void fail(const char *file, int line, const std::string &what);
void skip(const std::string &why);

struct Registrar {
    Registrar(const char *name, void (*fn)()) { registry().push_back({name, fn}); }
};

struct RequireFailed {};

// The folder with the real models, or "" (after a loud skip) when absent.
std::string models_dir();
std::string temp_dir();
std::vector<uint8_t> read_file(const std::string &path);
inline std::string as_text(const std::vector<uint8_t> &b) { return std::string(b.begin(), b.end()); }

template <typename A, typename B> std::string describe(const A &a, const B &b) {
    std::ostringstream os;
    os << a << " vs " << b;
    return os.str();
}

} // namespace lmrt_test

#define TEST(name)                                                                                 \
    static void name();                                                                            \
    static ::lmrt_test::Registrar name##_registrar(#name, name);                                   \
    static void name()

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) ::lmrt_test::fail(__FILE__, __LINE__, #cond);                                 \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        const auto &lmrt_a_ = (a);                                                                 \
        const auto &lmrt_b_ = (b);                                                                 \
        if (!(lmrt_a_ == lmrt_b_))                                                                 \
            ::lmrt_test::fail(__FILE__, __LINE__,                                                  \
                              std::string(#a " == " #b ": ") + ::lmrt_test::describe(lmrt_a_, lmrt_b_)); \
    } while (0)

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ::lmrt_test::fail(__FILE__, __LINE__, #cond);                                          \
            throw ::lmrt_test::RequireFailed{};                                                    \
        }                                                                                          \
    } while (0)
