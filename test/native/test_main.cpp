#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

namespace lmrt_test {

namespace {
int g_failures_in_case = 0;
} // namespace

std::vector<Case> &registry() {
    static std::vector<Case> cases;
    return cases;
}

void fail(const char *file, int line, const std::string &what) {
    ++g_failures_in_case;
    std::fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, what.c_str());
}

void skip(const std::string &why) { std::fprintf(stderr, "  SKIP %s\n", why.c_str()); }

std::string models_dir() {
    const char *env = std::getenv("LMRT_TEST_MODELS");
    std::string dir = env != nullptr && *env != '\0' ? env : "../shared/models";
    struct stat st;
    if (::stat((dir + "/stories260K-f32.gguf").c_str(), &st) != 0) {
        skip("real models not found in '" + dir + "' (set LMRT_TEST_MODELS): tests that need them are SKIPPED");
        return "";
    }
    return dir;
}

std::string temp_dir() {
    static std::string dir;
    if (dir.empty()) {
        const char *base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base != nullptr && *base ? base : "/tmp") + "/lmrt-native-XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        if (::mkdtemp(buf.data()) == nullptr) {
            std::perror("mkdtemp");
            std::exit(2);
        }
        dir = buf.data();
    }
    return dir;
}

std::vector<uint8_t> read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

} // namespace lmrt_test

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : nullptr;
    int passed = 0, failed = 0;
    for (const lmrt_test::Case &c : lmrt_test::registry()) {
        if (filter != nullptr && std::strstr(c.name, filter) == nullptr) continue;
        lmrt_test::g_failures_in_case = 0;
        std::fprintf(stderr, "%s\n", c.name);
        try {
            c.fn();
        } catch (const lmrt_test::RequireFailed &) {
        }
        if (lmrt_test::g_failures_in_case == 0) {
            ++passed;
        } else {
            ++failed;
        }
    }
    if (!lmrt_test::temp_dir().empty()) {
        const std::string cmd = "rm -rf '" + lmrt_test::temp_dir() + "'";
        if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", lmrt_test::temp_dir().c_str());
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
