// Tokenizer: text to token ids and back, byte-exact with llama.cpp for
// SentencePiece (SPM), byte-level BPE and WordPiece (WPM) vocabularies.
//
// tokenize(): special-token texts are cut out of the raw text first (always
// user-defined tokens; control and unknown tokens only with parse_special),
// then each remaining fragment goes through the vocabulary's algorithm.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vocab.h"

namespace lmrt {

class Tokenizer {
  public:
    Status load(const GgufReader &gguf, const std::string &name) { return vocab_.load(gguf, name); }
    const Vocab &vocab() const { return vocab_; }

    // add_special: BOS/EOS/SEP as the vocabulary's flags say.
    void tokenize(std::string_view text, bool add_special, bool parse_special, std::vector<TokenId> *out) const;

    // The text of one token: control and unknown tokens are empty unless
    // `special`. note: call only with a valid id.
    const std::string &piece(TokenId id, bool special) const;

    // Concatenated pieces with llama.cpp's leading-space removal and, for
    // vocabularies that ask for it, its clean-up of spaces before
    // punctuation. Returns false (and leaves *out) if an id is out of range.
    bool detokenize(const TokenId *ids, size_t n, bool remove_special, bool unparse_special, std::string *out,
                    size_t *bad_index) const;

  private:
    struct Fragment {
        bool is_token;
        TokenId token;
        size_t offset, length;
    };
    void partition(std::string_view text, bool parse_special, std::vector<Fragment> *fragments) const;
    void tokenize_spm(std::string_view text, std::vector<TokenId> *out) const;
    void tokenize_bpe(std::string_view text, std::vector<TokenId> *out) const;
    void tokenize_wpm(std::string_view text, std::vector<TokenId> *out) const;

    Vocab vocab_;
};

} // namespace lmrt
