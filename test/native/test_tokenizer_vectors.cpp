// llama.cpp's tokenizer test vectors (models/vocab/*.gguf with .inp/.out):
// tokenize(text, add_special = false, parse_special = false) must give the
// expected ids for every case of every vocabulary.
#include <cstring>
#include <sstream>

#include "test.h"

namespace {

std::vector<std::string> split_inputs(const std::string &all) {
    static const std::string kSep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> out;
    size_t pos = 0;
    for (;;) {
        const size_t next = all.find(kSep, pos);
        if (next == std::string::npos) break;
        out.push_back(all.substr(pos, next - pos));
        pos = next + kSep.size();
    }
    return out;
}

std::vector<std::vector<int32_t>> read_outputs(const std::string &all) {
    std::vector<std::vector<int32_t>> out;
    std::istringstream lines(all);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream ids(line);
        std::vector<int32_t> v;
        int32_t id;
        while (ids >> id) v.push_back(id);
        out.push_back(v);
    }
    return out;
}



} // namespace

TEST(tokenizer_matches_llama_cpp_vectors_for_every_vocabulary) {
    const std::string dir = lmrt_test::models_dir();
    if (dir.empty()) return;
    const char *names[] = {"llama-spm", "phi-3", "gpt-2", "falcon", "mpt", "starcoder", "refact", "deepseek-coder", "deepseek-llm", "bert-bge"};
    for (const char *name : names) {
        const std::string base = dir + "/vocab/ggml-vocab-" + name + ".gguf";
        lmrt_tokenizer *t = nullptr;
        lmrt_error err{};
        if (lmrt_tokenizer_open(base.c_str(), &t, &err) != LMRT_OK) {
            lmrt_test::fail(__FILE__, __LINE__, std::string(name) + ": " + err.message);
            continue;
        }
        const auto inputs = split_inputs(lmrt_test::as_text(lmrt_test::read_file(base + ".inp")));
        const auto outputs = read_outputs(lmrt_test::as_text(lmrt_test::read_file(base + ".out")));
        CHECK_EQ(inputs.size(), outputs.size());
        int passed = 0;
        for (size_t i = 0; i < inputs.size() && i < outputs.size(); ++i) {
            std::vector<int32_t> ids(inputs[i].size() * 2 + 16);
            uint64_t n = 0;
            REQUIRE(lmrt_tokenize(t, inputs[i].data(), inputs[i].size(), 0, ids.data(), ids.size(), &n, &err) == LMRT_OK);
            ids.resize(n);
            if (ids == outputs[i]) {
                ++passed;
            } else {
                std::ostringstream os;
                os << name << " case " << i << " '" << inputs[i].substr(0, 40) << "': got";
                for (int32_t id : ids) os << ' ' << id;
                os << " want";
                for (int32_t id : outputs[i]) os << ' ' << id;
                lmrt_test::fail(__FILE__, __LINE__, os.str());
            }
        }
        std::fprintf(stderr, "  %-15s %d/%zu cases\n", name, passed, inputs.size());
        lmrt_tokenizer_free(t);
    }
}
