// PreTokenizer: splits text into words before BPE merges, with the rules
// llama.cpp applies for each tokenizer.ggml.pre name. Each name maps to a
// sequence of split steps; a step is one of llama.cpp's hand-written
// splitters (GPT-2, Llama 3, Qwen2 patterns) or a regular expression run
// either over code points or over "collapsed" text in which every non-ASCII
// code point stands for its Unicode category (see pretokenizer.cpp).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../core/status.h"
#include "regex.h"

namespace lmrt {

// Vocabulary flags a pre-tokenizer name implies (llama.cpp sets them with the name).
struct PreTokenizerTraits {
    bool ignore_merges = false; // whole words found in the vocabulary skip merging
    bool clean_spaces = true;   // detokenize removes spaces before punctuation
    bool add_bos = false;       // default for tokenizer.ggml.add_bos_token
    bool add_sep = false;
};

class PreTokenizer {
  public:
    // Builds the splitter for `name` ("" and "default" give llama.cpp's
    // default). Unknown names are an error naming them.
    static Status create(const std::string &name, PreTokenizer *out, PreTokenizerTraits *traits);

    // Splits UTF-8 text into words (UTF-8, not yet byte-encoded). Invalid
    // UTF-8 becomes U+FFFD, as in llama.cpp.
    void split(std::string_view text, std::vector<std::string> *words) const;

  private:
    enum class StepKind { kGpt2, kLlama3, kQwen2, kRegexCollapsed, kRegexCodepoints };
    struct Step {
        StepKind kind;
        std::shared_ptr<const Regex> regex;
    };
    std::vector<Step> steps_;
};

} // namespace lmrt
