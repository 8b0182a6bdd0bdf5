#include "vocab.h"

#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "unicode.h"

namespace lmrt {

namespace {

// GGUF token types (tokenizer.ggml.token_type).
enum GgufTokenType { kTypeNormal = 1, kTypeUnknown = 2, kTypeControl = 3, kTypeUserDefined = 4, kTypeUnused = 5, kTypeByte = 6 };

uint32_t attr_of_type(int32_t type) {
    switch (type) {
    case kTypeNormal: return kAttrNormal;
    case kTypeUnknown: return kAttrUnknown;
    case kTypeControl: return kAttrControl;
    case kTypeUserDefined: return kAttrUserDefined;
    case kTypeUnused: return kAttrUnused;
    case kTypeByte: return kAttrByte;
    default: return kAttrUndefined;
    }
}

// Typed access to metadata, with errors that name the key.
class Meta {
  public:
    Meta(const GgufReader &g, const std::string &name) : g_(g), name_(name) {}

    const GgufValue *find(const char *key) const {
        const int64_t i = g_.find_kv(key);
        return i < 0 ? nullptr : &g_.kvs()[static_cast<size_t>(i)].value;
    }
    Status string(const char *key, std::string *out, bool *found) const {
        const GgufValue *v = find(key);
        *found = v != nullptr;
        if (v == nullptr) return Status::ok();
        if (v->type != LMRT_GGUF_STRING) return wrong(key, "a string");
        out->assign(v->str);
        return Status::ok();
    }
    // Any integer type that fits; llama.cpp writes uint32.
    Status integer(const char *key, int64_t *out, bool *found) const {
        const GgufValue *v = find(key);
        *found = v != nullptr;
        if (v == nullptr) return Status::ok();
        switch (v->type) {
        case LMRT_GGUF_UINT8:
        case LMRT_GGUF_UINT16:
        case LMRT_GGUF_UINT32:
        case LMRT_GGUF_UINT64:
            *out = v->scalar.u64 > static_cast<uint64_t>(INT32_MAX) ? -1 : static_cast<int64_t>(v->scalar.u64);
            return Status::ok();
        case LMRT_GGUF_INT8:
        case LMRT_GGUF_INT16:
        case LMRT_GGUF_INT32:
        case LMRT_GGUF_INT64: *out = v->scalar.i64; return Status::ok();
        default: return wrong(key, "an integer");
        }
    }
    Status boolean(const char *key, bool *out) const {
        const GgufValue *v = find(key);
        if (v == nullptr) return Status::ok();
        if (v->type != LMRT_GGUF_BOOL) return wrong(key, "a bool");
        *out = v->scalar.u64 != 0;
        return Status::ok();
    }
    Status array(const char *key, uint32_t elem_type, const GgufArray **out) const {
        const GgufValue *v = find(key);
        *out = nullptr;
        if (v == nullptr) return Status::ok();
        if (v->type != LMRT_GGUF_ARRAY || v->array->elem_type != elem_type) {
            return wrong(key, elem_type == LMRT_GGUF_STRING ? "an array of strings" : "a numeric array of the expected type");
        }
        *out = v->array.get();
        return Status::ok();
    }
    Status wrong(const char *key, const char *what) const {
        return Status::error(LMRT_E_GGUF_INVALID, "%s: %s must be %s", name_.c_str(), key, what);
    }

  private:
    const GgufReader &g_;
    const std::string &name_;
};

bool text_in(const std::string &text, std::initializer_list<const char *> list) {
    for (const char *s : list) {
        if (text == s) return true;
    }
    return false;
}

// Texts llama.cpp recognises as end-of-turn, end-of-message and
// fill-in-the-middle tokens, and those that end generation.
const std::initializer_list<const char *> kEotTexts = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
    "<｜end▁of▁sentence｜>", "<end_of_utterance>"};
const std::initializer_list<const char *> kEomTexts = {"<|eom_id|>"};
const std::initializer_list<const char *> kFimPreTexts = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>",
                                                          "▁<PRE>", "<|code_prefix|>", "<|prefix|>"};
const std::initializer_list<const char *> kFimSufTexts = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>",
                                                          "▁<SUF>", "<|code_suffix|>", "<|suffix|>"};
const std::initializer_list<const char *> kFimMidTexts = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>",
                                                          "▁<MID>", "<|code_middle|>", "<|middle|>"};
const std::initializer_list<const char *> kFimPadTexts = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"};
const std::initializer_list<const char *> kFimRepTexts = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"};
const std::initializer_list<const char *> kFimSepTexts = {"<|file_sep|>"};
const std::initializer_list<const char *> kEogTexts = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>",
    "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>",
    "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~["};

} // namespace

TokenId Vocab::find(std::string_view text) const {
    auto it = ids_.find(text);
    return it == ids_.end() ? kNoToken : it->second;
}

int Vocab::merge_rank(std::string_view left, std::string_view right, std::string *scratch) const {
    scratch->assign(left);
    scratch->push_back('\0');
    scratch->append(right);
    auto it = merges_.find(*scratch);
    return it == merges_.end() ? -1 : it->second;
}

TokenId Vocab::byte_token(uint8_t byte) const {
    if (type_ == VocabType::kSpm) {
        static const char kHex[] = "0123456789ABCDEF";
        const char buf[6] = {'<', '0', 'x', kHex[byte >> 4], kHex[byte & 15], '>'};
        const TokenId id = find(std::string_view(buf, 6));
        return id != kNoToken ? id : find(std::string_view(reinterpret_cast<const char *>(&byte), 1));
    }
    std::string symbol;
    utf8_append(symbol, byte_to_symbol(byte));
    return find(symbol);
}

Status Vocab::load(const GgufReader &gguf, const std::string &name) {
    const Meta meta(gguf, name);
    bool found;
    LMRT_RETURN_IF_ERROR(meta.string("tokenizer.ggml.model", &model_, &found));
    if (!found) return Status::error(LMRT_E_GGUF_INVALID, "%s: no tokenizer (tokenizer.ggml.model is missing)", name.c_str());
    LMRT_RETURN_IF_ERROR(meta.string("tokenizer.ggml.pre", &pre_name_, &found));

    // defaults by tokenizer kind, as llama.cpp sets them
    if (model_ == "llama") {
        type_ = VocabType::kSpm;
        special_.bos = 1, special_.eos = 2, special_.unk = 0;
        add_space_prefix_ = true, add_bos_ = true;
    } else if (model_ == "gpt2") {
        type_ = VocabType::kBpe;
        special_.bos = 11, special_.eos = 11;
        PreTokenizerTraits traits;
        Status s = PreTokenizer::create(pre_name_, &pre_, &traits);
        if (!s.is_ok()) return Status::error(s.code(), "%s: %s", name.c_str(), s.message().c_str());
        ignore_merges_ = traits.ignore_merges;
        clean_spaces_ = traits.clean_spaces;
        add_bos_ = traits.add_bos;
        add_sep_ = traits.add_sep;
    } else if (model_ == "bert") {
        type_ = VocabType::kWpm;
        special_.bos = 101, special_.unk = 100, special_.sep = 102, special_.pad = 0, special_.mask = 103;
        clean_spaces_ = true, add_bos_ = true, add_sep_ = true;
    } else if (model_ == "no_vocab" || model_ == "none") {
        return Status::error(LMRT_E_GGUF_UNSUPPORTED, "%s: the model has no vocabulary (tokenizer.ggml.model = '%s')",
                             name.c_str(), model_.c_str());
    } else {
        return Status::error(LMRT_E_GGUF_UNSUPPORTED,
                             "%s: tokenizer model '%s' is not supported (lmrt reads 'llama' (SentencePiece), 'gpt2' (BPE) "
                             "and 'bert' (WordPiece))",
                             name.c_str(), model_.c_str());
    }
    LMRT_RETURN_IF_ERROR(meta.boolean("tokenizer.ggml.add_space_prefix", &add_space_prefix_));
    lowercase_ = true;
    LMRT_RETURN_IF_ERROR(meta.boolean("tokenizer.ggml.normalizer.lowercase", &lowercase_));
    strip_accents_ = lowercase_;
    LMRT_RETURN_IF_ERROR(meta.boolean("tokenizer.ggml.normalizer.strip_accents", &strip_accents_));

    LMRT_RETURN_IF_ERROR(load_tokens(gguf, name));
    if (type_ == VocabType::kBpe) LMRT_RETURN_IF_ERROR(load_merges(gguf, name));

    // defaults that point past the vocabulary are dropped, then metadata overrides
    TokenId *ids[] = {&special_.bos, &special_.eos, &special_.unk, &special_.sep, &special_.pad, &special_.mask};
    for (TokenId *id : ids) {
        if (!valid(*id)) *id = kNoToken;
    }
    const struct {
        const char *key;
        TokenId *id;
    } keyed[] = {
        {"tokenizer.ggml.bos_token_id", &special_.bos},         {"tokenizer.ggml.eos_token_id", &special_.eos},
        {"tokenizer.ggml.eot_token_id", &special_.eot},         {"tokenizer.ggml.eom_token_id", &special_.eom},
        {"tokenizer.ggml.unknown_token_id", &special_.unk},     {"tokenizer.ggml.seperator_token_id", &special_.sep},
        {"tokenizer.ggml.padding_token_id", &special_.pad},     {"tokenizer.ggml.mask_token_id", &special_.mask},
        {"tokenizer.ggml.fim_pre_token_id", &special_.fim_pre}, {"tokenizer.ggml.fim_suf_token_id", &special_.fim_suf},
        {"tokenizer.ggml.fim_mid_token_id", &special_.fim_mid}, {"tokenizer.ggml.fim_pad_token_id", &special_.fim_pad},
        {"tokenizer.ggml.fim_rep_token_id", &special_.fim_rep}, {"tokenizer.ggml.fim_sep_token_id", &special_.fim_sep},
        {"tokenizer.ggml.prefix_token_id", &special_.fim_pre},  {"tokenizer.ggml.suffix_token_id", &special_.fim_suf},
        {"tokenizer.ggml.middle_token_id", &special_.fim_mid},
    };
    for (const auto &k : keyed) {
        int64_t v = -1;
        LMRT_RETURN_IF_ERROR(meta.integer(k.key, &v, &found));
        if (found && v >= 0 && v < static_cast<int64_t>(tokens_.size())) *k.id = static_cast<TokenId>(v); // bad ids are ignored
    }
    LMRT_RETURN_IF_ERROR(meta.boolean("tokenizer.ggml.add_bos_token", &add_bos_));
    LMRT_RETURN_IF_ERROR(meta.boolean("tokenizer.ggml.add_eos_token", &add_eos_));
    LMRT_RETURN_IF_ERROR(meta.boolean("tokenizer.ggml.add_sep_token", &add_sep_));

    detect_special_tokens();

    std::string general_name;
    LMRT_RETURN_IF_ERROR(meta.string("general.name", &general_name, &found));
    build_caches();
    // Phi-3 strips whitespace after its special tokens (llama.cpp keys this on the model name)
    std::transform(general_name.begin(), general_name.end(), general_name.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    if (general_name.find("phi-3") != std::string::npos || general_name.find("phi3") != std::string::npos) {
        for (TokenId id : special_by_length_) tokens_[static_cast<size_t>(id)].attr |= kAttrRstrip;
        for (const char *t : {"</s>"}) {
            if (find(t) != kNoToken) tokens_[static_cast<size_t>(find(t))].attr |= kAttrRstrip;
        }
        for (const char *t : {"<unk>", "<s>", "<|endoftext|>"}) {
            if (find(t) != kNoToken) tokens_[static_cast<size_t>(find(t))].attr &= ~kAttrRstrip;
        }
    }
    return Status::ok();
}

Status Vocab::load_tokens(const GgufReader &gguf, const std::string &name) {
    const Meta meta(gguf, name);
    const GgufArray *texts, *scores_f, *scores_i, *types;
    LMRT_RETURN_IF_ERROR(meta.array("tokenizer.ggml.tokens", LMRT_GGUF_STRING, &texts));
    if (texts == nullptr) return Status::error(LMRT_E_GGUF_INVALID, "%s: tokenizer.ggml.tokens is missing", name.c_str());
    if (texts->count == 0 || texts->count > static_cast<uint64_t>(INT32_MAX)) {
        return Status::error(LMRT_E_GGUF_INVALID, "%s: tokenizer.ggml.tokens has %" PRIu64 " entries", name.c_str(), texts->count);
    }
    const GgufValue *score_value = meta.find("tokenizer.ggml.scores");
    scores_f = scores_i = nullptr;
    if (score_value != nullptr) {
        if (score_value->type == LMRT_GGUF_ARRAY && score_value->array->elem_type == LMRT_GGUF_FLOAT32) {
            scores_f = score_value->array.get();
        } else if (score_value->type == LMRT_GGUF_ARRAY && score_value->array->elem_type == LMRT_GGUF_INT32) {
            scores_i = score_value->array.get();
        } else {
            return meta.wrong("tokenizer.ggml.scores", "an array of float32 or int32");
        }
        const GgufArray *s = scores_f != nullptr ? scores_f : scores_i;
        if (s->count < texts->count) {
            return Status::error(LMRT_E_GGUF_INVALID, "%s: tokenizer.ggml.scores has %" PRIu64 " entries for %" PRIu64 " tokens",
                                 name.c_str(), s->count, texts->count);
        }
    }
    LMRT_RETURN_IF_ERROR(meta.array("tokenizer.ggml.token_type", LMRT_GGUF_INT32, &types));
    if (types != nullptr && types->count < texts->count) {
        return Status::error(LMRT_E_GGUF_INVALID, "%s: tokenizer.ggml.token_type has %" PRIu64 " entries for %" PRIu64 " tokens",
                             name.c_str(), types->count, texts->count);
    }
    tokens_.resize(texts->count);
    ids_.reserve(texts->count);
    for (size_t i = 0; i < texts->count; ++i) {
        TokenData &t = tokens_[i];
        t.text.assign(texts->strings[i]);
        if (t.text.empty()) t.text = "[EMPTY_" + std::to_string(i) + "]";
        if (scores_f != nullptr) {
            std::memcpy(&t.score, scores_f->packed + 4 * i, 4);
        } else if (scores_i != nullptr) {
            int32_t v;
            std::memcpy(&v, scores_i->packed + 4 * i, 4);
            t.score = static_cast<float>(v);
        }
        if (types != nullptr) {
            int32_t type;
            std::memcpy(&type, types->packed + 4 * i, 4);
            t.attr = attr_of_type(type);
        }
        max_token_length_ = std::max(max_token_length_, t.text.size());
    }
    for (size_t i = 0; i < tokens_.size(); ++i) {
        ids_[tokens_[i].text] = static_cast<TokenId>(i); // a repeated text maps to its last id, as in llama.cpp
    }
    return Status::ok();
}

Status Vocab::load_merges(const GgufReader &gguf, const std::string &name) {
    const Meta meta(gguf, name);
    const GgufArray *merges;
    LMRT_RETURN_IF_ERROR(meta.array("tokenizer.ggml.merges", LMRT_GGUF_STRING, &merges));
    if (merges == nullptr) return Status::error(LMRT_E_GGUF_INVALID, "%s: BPE tokenizer without tokenizer.ggml.merges", name.c_str());
    merge_keys_.reserve(merges->count);
    for (size_t i = 0; i < merges->count; ++i) {
        const std::string_view m = merges->strings[i];
        // split at the first space after the first character, as llama.cpp does
        const size_t space = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
        std::string key;
        if (space != std::string_view::npos) {
            key.append(m.substr(0, space)).push_back('\0');
            key.append(m.substr(space + 1));
        } else {
            key.push_back('\0');
        }
        merge_keys_.push_back(std::move(key));
    }
    merges_.reserve(merge_keys_.size());
    for (size_t i = 0; i < merge_keys_.size(); ++i) {
        merges_.emplace(merge_keys_[i], static_cast<int>(i)); // the first rank of a repeated merge wins
    }
    return Status::ok();
}

void Vocab::detect_special_tokens() {
    const auto mark_control = [&](TokenId id) { tokens_[static_cast<size_t>(id)].attr |= kAttrControl; };
    // the first token (in id order) whose text matches each list fills an unset id
    const struct {
        const std::initializer_list<const char *> *texts;
        TokenId *id;
    } lists[] = {{&kEotTexts, &special_.eot},         {&kEomTexts, &special_.eom},         {&kFimPreTexts, &special_.fim_pre},
                 {&kFimSufTexts, &special_.fim_suf}, {&kFimMidTexts, &special_.fim_mid}, {&kFimPadTexts, &special_.fim_pad},
                 {&kFimRepTexts, &special_.fim_rep}, {&kFimSepTexts, &special_.fim_sep}};
    for (const auto &l : lists) {
        if (*l.id != kNoToken) continue;
        for (size_t i = 0; i < tokens_.size(); ++i) {
            if (text_in(tokens_[i].text, *l.texts)) {
                *l.id = static_cast<TokenId>(i);
                mark_control(*l.id);
                break;
            }
        }
    }
    eog_.clear();
    for (TokenId id : {special_.fim_pad, special_.fim_rep, special_.fim_sep}) {
        if (id != kNoToken) eog_.push_back(id);
    }
    for (size_t i = 0; i < tokens_.size(); ++i) {
        TokenData &t = tokens_[i];
        if (text_in(t.text, kEogTexts)) {
            eog_.push_back(static_cast<TokenId>(i));
            mark_control(static_cast<TokenId>(i));
        }
        // gpt-oss markers are always rendered
        if (text_in(t.text, {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"})) t.attr = kAttrUserDefined;
    }
    for (TokenId id : {special_.eos, special_.eot, special_.eom}) {
        if (id != kNoToken) eog_.push_back(id);
    }
    std::sort(eog_.begin(), eog_.end());
    eog_.erase(std::unique(eog_.begin(), eog_.end()), eog_.end());
}

std::string Vocab::compute_piece(TokenId id) const {
    const TokenData &t = tokens_[static_cast<size_t>(id)];
    if (t.attr & (kAttrUnknown | kAttrControl | kAttrUserDefined)) return t.text;
    if (type_ == VocabType::kBpe) {
        if (!(t.attr & kAttrNormal)) return std::string();
        // byte-level symbols back to bytes; a code point outside the alphabet is
        // marked the way llama.cpp marks it
        std::string out;
        for (size_t pos = 0; pos < t.text.size();) {
            const size_t at = pos;
            const uint32_t cpt = utf8_decode(t.text, &pos);
            const int byte = symbol_to_byte(cpt);
            if (byte >= 0) {
                out.push_back(static_cast<char>(byte));
            } else {
                out += "[UNK_BYTE_0x";
                static const char kHex[] = "0123456789abcdef";
                for (size_t k = at; k < pos; ++k) {
                    const auto b = static_cast<uint8_t>(t.text[k]);
                    out.push_back(kHex[b >> 4]);
                    out.push_back(kHex[b & 15]);
                }
                out += t.text + "]";
            }
        }
        return out;
    }
    if (t.attr & kAttrNormal) {
        std::string out;
        for (size_t pos = 0; pos < t.text.size();) {
            if (t.text.compare(pos, 3, "\xE2\x96\x81") == 0) {
                out.push_back(' ');
                pos += 3;
            } else {
                out.push_back(t.text[pos++]);
            }
        }
        return out;
    }
    if ((t.attr & kAttrByte) && type_ != VocabType::kWpm && t.text.size() >= 5) {
        return std::string(1, static_cast<char>(std::strtol(t.text.substr(3, 2).c_str(), nullptr, 16)));
    }
    return std::string();
}

void Vocab::build_caches() {
    special_by_length_.clear();
    for (size_t i = 0; i < tokens_.size(); ++i) {
        if (tokens_[i].attr & (kAttrControl | kAttrUserDefined | kAttrUnknown)) special_by_length_.push_back(static_cast<TokenId>(i));
    }
    std::stable_sort(special_by_length_.begin(), special_by_length_.end(), [&](TokenId a, TokenId b) {
        return tokens_[static_cast<size_t>(a)].text.size() > tokens_[static_cast<size_t>(b)].text.size();
    });
    pieces_.resize(tokens_.size());
    for (size_t i = 0; i < tokens_.size(); ++i) pieces_[i] = compute_piece(static_cast<TokenId>(i));
}

} // namespace lmrt
