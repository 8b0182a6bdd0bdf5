// The C API over Tokenizer.
#include "lmrt.h"

#include <cstring>
#include <new>

#include "handles.h"

namespace {

lmrt_status invalid(lmrt_error *err, const char *what) {
    return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "%s", what).to_c(err);
}

template <typename Load> lmrt_status create(lmrt_tokenizer **out, lmrt_error *err, Load load) {
    if (out == nullptr) return invalid(err, "tokenizer: out is null");
    *out = nullptr;
    try {
        auto *t = new lmrt_tokenizer();
        lmrt::Status s = load(t->tokenizer);
        if (!s.is_ok()) {
            delete t;
            return s.to_c(err);
        }
        *out = t;
        return LMRT_OK;
    } catch (const std::bad_alloc &) {
        return lmrt::Status::error(LMRT_E_OUT_OF_MEMORY, "out of memory while loading a tokenizer").to_c(err);
    } catch (...) {
        return lmrt::Status::error(LMRT_E_INTERNAL, "unexpected exception while loading a tokenizer").to_c(err);
    }
}

} // namespace

extern "C" {

lmrt_status lmrt_tokenizer_open(const char *path, lmrt_tokenizer **out, lmrt_error *err) {
    if (path == nullptr) return invalid(err, "lmrt_tokenizer_open: path is null");
    return create(out, err, [&](lmrt::Tokenizer &t) {
        lmrt::GgufReader reader;
        LMRT_RETURN_IF_ERROR(reader.open_file(path));
        return t.load(reader, path);
    });
}

lmrt_status lmrt_tokenizer_from_gguf(const lmrt_gguf *gguf, lmrt_tokenizer **out, lmrt_error *err) {
    if (gguf == nullptr) return invalid(err, "lmrt_tokenizer_from_gguf: gguf is null");
    return create(out, err, [&](lmrt::Tokenizer &t) { return t.load(gguf->reader, "<gguf>"); });
}

void lmrt_tokenizer_free(lmrt_tokenizer *tokenizer) { delete tokenizer; }

void lmrt_tokenizer_info_get(const lmrt_tokenizer *t, lmrt_tokenizer_info *info) {
    if (t == nullptr || info == nullptr) return;
    const lmrt::Vocab &v = t->tokenizer.vocab();
    const lmrt::SpecialTokens &s = v.special();
    info->type = v.type() == lmrt::VocabType::kSpm ? LMRT_VOCAB_SPM : v.type() == lmrt::VocabType::kBpe ? LMRT_VOCAB_BPE : LMRT_VOCAB_WPM;
    info->n_vocab = v.size();
    info->bos = s.bos, info->eos = s.eos, info->eot = s.eot, info->eom = s.eom, info->unk = s.unk, info->sep = s.sep;
    info->pad = s.pad, info->mask = s.mask;
    info->fim_pre = s.fim_pre, info->fim_suf = s.fim_suf, info->fim_mid = s.fim_mid, info->fim_pad = s.fim_pad;
    info->fim_rep = s.fim_rep, info->fim_sep = s.fim_sep;
    info->add_bos = v.add_bos(), info->add_eos = v.add_eos(), info->add_sep = v.add_sep();
    info->add_space_prefix = v.add_space_prefix();
    info->clean_spaces = v.clean_spaces();
    info->model = lmrt_string{v.model_name().data(), v.model_name().size()};
    info->pre = lmrt_string{v.pre_name().data(), v.pre_name().size()};
}

void lmrt_tokenizer_eog(const lmrt_tokenizer *t, const int32_t **ids, uint64_t *n) {
    if (t == nullptr || ids == nullptr || n == nullptr) return;
    const auto &eog = t->tokenizer.vocab().end_of_generation();
    *ids = eog.data();
    *n = eog.size();
}

lmrt_status lmrt_tokenize(const lmrt_tokenizer *t, const char *text, uint64_t len, uint32_t flags, int32_t *out,
                          uint64_t capacity, uint64_t *n_out, lmrt_error *err) {
    if (t == nullptr || n_out == nullptr || (text == nullptr && len != 0) || (out == nullptr && capacity != 0)) {
        return invalid(err, "lmrt_tokenize: null argument");
    }
    try {
        std::vector<int32_t> ids;
        t->tokenizer.tokenize(std::string_view(text == nullptr ? "" : text, len), (flags & LMRT_TOKENIZE_ADD_SPECIAL) != 0,
                              (flags & LMRT_TOKENIZE_PARSE_SPECIAL) != 0, &ids);
        *n_out = ids.size();
        if (ids.size() <= capacity && !ids.empty()) std::memcpy(out, ids.data(), ids.size() * sizeof(int32_t));
        return LMRT_OK;
    } catch (const std::bad_alloc &) {
        return lmrt::Status::error(LMRT_E_OUT_OF_MEMORY, "out of memory while tokenizing %llu bytes",
                                   static_cast<unsigned long long>(len)).to_c(err);
    } catch (...) {
        return lmrt::Status::error(LMRT_E_INTERNAL, "unexpected exception while tokenizing").to_c(err);
    }
}

lmrt_status lmrt_token_piece(const lmrt_tokenizer *t, int32_t id, int special, lmrt_string *piece, lmrt_error *err) {
    if (t == nullptr || piece == nullptr) return invalid(err, "lmrt_token_piece: null argument");
    if (!t->tokenizer.vocab().valid(id)) {
        return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT, "token id %d is out of range (the vocabulary has %u tokens)", id,
                                   t->tokenizer.vocab().size()).to_c(err);
    }
    const std::string &p = t->tokenizer.piece(id, special != 0);
    *piece = lmrt_string{p.data(), p.size()};
    return LMRT_OK;
}

lmrt_status lmrt_detokenize(const lmrt_tokenizer *t, const int32_t *ids, uint64_t n, uint32_t flags, char *out,
                            uint64_t capacity, uint64_t *n_out, lmrt_error *err) {
    if (t == nullptr || n_out == nullptr || (ids == nullptr && n != 0) || (out == nullptr && capacity != 0)) {
        return invalid(err, "lmrt_detokenize: null argument");
    }
    try {
        std::string text;
        size_t bad = 0;
        if (!t->tokenizer.detokenize(ids, n, (flags & LMRT_DETOKENIZE_REMOVE_SPECIAL) != 0,
                                     (flags & LMRT_DETOKENIZE_UNPARSE_SPECIAL) != 0, &text, &bad)) {
            return lmrt::Status::error(LMRT_E_INVALID_ARGUMENT,
                                       "token id %d at index %zu is out of range (the vocabulary has %u tokens)", ids[bad], bad,
                                       t->tokenizer.vocab().size()).to_c(err);
        }
        *n_out = text.size();
        if (text.size() <= capacity && !text.empty()) std::memcpy(out, text.data(), text.size());
        return LMRT_OK;
    } catch (const std::bad_alloc &) {
        return lmrt::Status::error(LMRT_E_OUT_OF_MEMORY, "out of memory while detokenizing").to_c(err);
    }
}

} // extern "C"
