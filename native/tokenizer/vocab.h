// Vocab: a tokenizer's data as GGUF metadata describes it (tokenizer.ggml.*):
// token texts, scores and types, BPE merge ranks, special token ids and the
// flags that steer tokenization. Loading follows llama.cpp's rules,
// including its text-based detection of end-of-generation and
// fill-in-the-middle tokens (which become control tokens).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "../core/status.h"
#include "../gguf/gguf_reader.h"
#include "pretokenizer.h"

namespace lmrt {

using TokenId = int32_t;
constexpr TokenId kNoToken = -1;

// Token attributes (bit flags), as llama.cpp derives them from token types.
enum TokenAttr : uint32_t {
    kAttrUndefined = 0,
    kAttrUnknown = 1u << 0,
    kAttrUnused = 1u << 1,
    kAttrNormal = 1u << 2,
    kAttrControl = 1u << 3,
    kAttrUserDefined = 1u << 4,
    kAttrByte = 1u << 5,
    kAttrLstrip = 1u << 7, // strip whitespace left of the token when partitioning
    kAttrRstrip = 1u << 8, // ... and right of it
};

enum class VocabType { kSpm, kBpe, kWpm };

struct TokenData {
    std::string text;
    float score = 0.0f;
    uint32_t attr = kAttrNormal;
};

struct SpecialTokens {
    TokenId bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken, unk = kNoToken, sep = kNoToken,
            pad = kNoToken, mask = kNoToken, fim_pre = kNoToken, fim_suf = kNoToken, fim_mid = kNoToken,
            fim_pad = kNoToken, fim_rep = kNoToken, fim_sep = kNoToken;
};

class Vocab {
  public:
    // Reads the tokenizer from a parsed GGUF file; `name` names it in errors.
    Status load(const GgufReader &gguf, const std::string &name);

    VocabType type() const { return type_; }
    const std::string &model_name() const { return model_; }
    const std::string &pre_name() const { return pre_name_; }
    uint32_t size() const { return static_cast<uint32_t>(tokens_.size()); }
    const TokenData &token(TokenId id) const { return tokens_[static_cast<size_t>(id)]; }
    bool valid(TokenId id) const { return id >= 0 && static_cast<size_t>(id) < tokens_.size(); }
    TokenId find(std::string_view text) const;
    // BPE merge rank of (left, right), or -1. `scratch` is the caller's
    // reusable buffer for the lookup key.
    int merge_rank(std::string_view left, std::string_view right, std::string *scratch) const;
    // The token for one byte (SPM: <0xXX>, BPE: its byte-level symbol), or kNoToken.
    TokenId byte_token(uint8_t byte) const;

    const SpecialTokens &special() const { return special_; }
    const std::vector<TokenId> &end_of_generation() const { return eog_; }
    // Control, user-defined and unknown tokens, longest text first: what
    // partition() matches in raw text.
    const std::vector<TokenId> &special_by_length() const { return special_by_length_; }
    // token_to_piece(id, special = true), precomputed.
    const std::string &piece(TokenId id) const { return pieces_[static_cast<size_t>(id)]; }
    size_t max_token_length() const { return max_token_length_; }

    bool add_bos() const { return add_bos_; }
    bool add_eos() const { return add_eos_; }
    bool add_sep() const { return add_sep_; }
    bool add_space_prefix() const { return add_space_prefix_; }
    bool clean_spaces() const { return clean_spaces_; }
    bool ignore_merges() const { return ignore_merges_; }
    bool lowercase() const { return lowercase_; }
    bool strip_accents() const { return strip_accents_; }
    const PreTokenizer &pre_tokenizer() const { return pre_; }

  private:
    Status load_tokens(const GgufReader &gguf, const std::string &name);
    Status load_merges(const GgufReader &gguf, const std::string &name);
    void detect_special_tokens();
    void build_caches();
    std::string compute_piece(TokenId id) const;

    VocabType type_ = VocabType::kSpm;
    std::string model_, pre_name_;
    std::vector<TokenData> tokens_;
    // keys view the texts in tokens_ (never resized after loading)
    std::unordered_map<std::string_view, TokenId> ids_;
    std::vector<std::string> merge_keys_;               // left + '\0' + right
    std::unordered_map<std::string_view, int> merges_; // views merge_keys_
    SpecialTokens special_;
    std::vector<TokenId> eog_;
    std::vector<TokenId> special_by_length_;
    std::vector<std::string> pieces_;
    size_t max_token_length_ = 0;
    bool add_bos_ = false, add_eos_ = false, add_sep_ = false, add_space_prefix_ = false;
    bool clean_spaces_ = false, ignore_merges_ = false, lowercase_ = true, strip_accents_ = true;
    PreTokenizer pre_;
};

} // namespace lmrt
