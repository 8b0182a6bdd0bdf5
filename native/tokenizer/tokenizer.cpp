#include "tokenizer.h"

#include <algorithm>
#include <queue>

#include "unicode.h"

namespace lmrt {

namespace {

const std::string kEmpty;

bool is_c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// A run of text in a merge session: a linked list over the word.
struct Symbol {
    int prev, next;
    size_t offset, length;
};

// Joins symbol `right` into its left neighbour `left` (right becomes empty).
void merge_symbols(std::vector<Symbol> &symbols, int left, int right) {
    Symbol &l = symbols[static_cast<size_t>(left)];
    Symbol &r = symbols[static_cast<size_t>(right)];
    l.length += r.length;
    r.length = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<size_t>(r.next)].prev = left;
}

void split_utf8_chars(std::string_view text, std::vector<Symbol> *symbols) {
    symbols->clear();
    for (size_t pos = 0; pos < text.size();) {
        const size_t len = std::min(utf8_sequence_length(static_cast<uint8_t>(text[pos])), text.size() - pos);
        const int index = static_cast<int>(symbols->size());
        symbols->push_back({index - 1, pos + len == text.size() ? -1 : index + 1, pos, len});
        pos += len;
    }
}

} // namespace

void Tokenizer::partition(std::string_view text, bool parse_special, std::vector<Fragment> *fragments) const {
    fragments->clear();
    if (text.empty()) return;
    fragments->push_back({false, kNoToken, 0, text.size()});
    std::vector<Fragment> next;
    for (const TokenId id : vocab_.special_by_length()) {
        const TokenData &data = vocab_.token(id);
        if (!parse_special && (data.attr & (kAttrControl | kAttrUnknown))) continue;
        const std::string &needle = data.text;
        next.clear();
        bool changed = false;
        for (const Fragment &f : *fragments) {
            if (f.is_token) {
                next.push_back(f);
                continue;
            }
            size_t offset = f.offset, length = f.length;
            for (;;) {
                const size_t match = text.substr(0, offset + length).find(needle, offset);
                if (match == std::string_view::npos) break;
                changed = true;
                size_t left_length = match - offset;
                if (data.attr & kAttrLstrip) {
                    while (left_length > 0 && is_c_space(text[offset + left_length - 1])) --left_length;
                }
                if (left_length > 0) next.push_back({false, kNoToken, offset, left_length});
                next.push_back({true, id, 0, 0});
                size_t right_offset = match + needle.size();
                size_t right_length = offset + length - right_offset;
                if (data.attr & kAttrRstrip) {
                    while (right_length > 0 && is_c_space(text[right_offset])) ++right_offset, --right_length;
                }
                offset = right_offset;
                length = right_length;
                if (length == 0) break;
            }
            if (length > 0) next.push_back({false, kNoToken, offset, length});
        }
        if (changed) fragments->swap(next);
    }
}

void Tokenizer::tokenize(std::string_view text, bool add_special, bool parse_special, std::vector<TokenId> *out) const {
    out->clear();
    std::vector<Fragment> fragments;
    partition(text, parse_special, &fragments);
    const SpecialTokens &sp = vocab_.special();
    switch (vocab_.type()) {
    case VocabType::kSpm: {
        if (add_special && vocab_.add_bos() && sp.bos != kNoToken) out->push_back(sp.bos);
        bool previous_special = true; // the first fragment gets the space prefix
        std::string buffer;
        for (const Fragment &f : fragments) {
            if (f.is_token) {
                out->push_back(f.token);
                previous_special = true;
                continue;
            }
            buffer.clear();
            if (vocab_.add_space_prefix() && previous_special) buffer.push_back(' ');
            buffer.append(text.substr(f.offset, f.length));
            std::string escaped; // spaces become U+2581
            escaped.reserve(buffer.size() + 16);
            for (char c : buffer) {
                if (c == ' ') {
                    escaped += "\xE2\x96\x81";
                } else {
                    escaped.push_back(c);
                }
            }
            tokenize_spm(escaped, out);
            previous_special = false;
        }
        if (add_special && vocab_.add_eos() && sp.eos != kNoToken) out->push_back(sp.eos);
        break;
    }
    case VocabType::kBpe: {
        if (add_special && vocab_.add_bos() && sp.bos != kNoToken) out->push_back(sp.bos);
        for (const Fragment &f : fragments) {
            if (f.is_token) {
                out->push_back(f.token);
            } else {
                tokenize_bpe(text.substr(f.offset, f.length), out);
            }
        }
        if (add_special && vocab_.add_eos() && sp.eos != kNoToken) out->push_back(sp.eos);
        break;
    }
    case VocabType::kWpm: {
        if (add_special && sp.bos != kNoToken) out->push_back(sp.bos);
        for (const Fragment &f : fragments) {
            if (f.is_token) {
                out->push_back(f.token);
            } else {
                tokenize_wpm(text.substr(f.offset, f.length), out);
            }
        }
        if (add_special && sp.sep != kNoToken) out->push_back(sp.sep);
        break;
    }
    }
}

void Tokenizer::tokenize_spm(std::string_view text, std::vector<TokenId> *out) const {
    // score-driven merges: repeatedly join the adjacent pair whose joined
    // text is the best-scoring token (ties: leftmost first)
    struct Bigram {
        int left, right;
        float score;
        size_t length;
    };
    const auto worse = [](const Bigram &a, const Bigram &b) {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    };
    std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
    std::vector<Symbol> symbols;
    split_utf8_chars(text, &symbols);
    const auto try_add = [&](int left, int right) {
        if (left < 0 || right < 0) return;
        const Symbol &l = symbols[static_cast<size_t>(left)];
        const Symbol &r = symbols[static_cast<size_t>(right)];
        const TokenId id = vocab_.find(text.substr(l.offset, l.length + r.length));
        if (id == kNoToken) return;
        queue.push({left, right, vocab_.token(id).score, l.length + r.length});
    };
    for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int>(i - 1), static_cast<int>(i));
    while (!queue.empty()) {
        const Bigram b = queue.top();
        queue.pop();
        Symbol &l = symbols[static_cast<size_t>(b.left)];
        Symbol &r = symbols[static_cast<size_t>(b.right)];
        if (l.length == 0 || r.length == 0 || l.length + r.length != b.length) continue; // stale
        merge_symbols(symbols, b.left, b.right);
        try_add(l.prev, b.left);
        try_add(b.left, l.next);
    }
    for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[static_cast<size_t>(i)].next) {
        const Symbol &s = symbols[static_cast<size_t>(i)];
        const std::string_view piece = text.substr(s.offset, s.length);
        const TokenId id = vocab_.find(piece);
        if (id != kNoToken) {
            out->push_back(id);
            continue;
        }
        for (const char c : piece) { // byte fallback
            const TokenId byte = vocab_.byte_token(static_cast<uint8_t>(c));
            if (byte != kNoToken) {
                out->push_back(byte);
            } else if (vocab_.special().unk != kNoToken) {
                out->push_back(vocab_.special().unk);
            }
        }
    }
}

void Tokenizer::tokenize_bpe(std::string_view text, std::vector<TokenId> *out) const {
    // a queued pair is stale once either side has changed length (sides
    // only grow by absorbing a neighbour, so same lengths mean same text)
    struct Bigram {
        int left, right;
        int rank;
        size_t left_length, right_length;
    };
    const auto worse = [](const Bigram &a, const Bigram &b) { return a.rank > b.rank || (a.rank == b.rank && a.left > b.left); };
    std::vector<std::string> words;
    vocab_.pre_tokenizer().split(text, &words);
    std::vector<Symbol> symbols;
    std::string word, scratch;
    for (const std::string &raw : words) {
        // byte-level encoding: every byte becomes its printable symbol
        word.clear();
        for (const char c : raw) utf8_append(word, byte_to_symbol(static_cast<uint8_t>(c)));
        if (word.empty()) continue;
        const std::string_view w = word;
        if (vocab_.ignore_merges()) {
            const TokenId whole = vocab_.find(w);
            if (whole != kNoToken) {
                out->push_back(whole);
                continue;
            }
        }
        split_utf8_chars(w, &symbols);
        std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
        const auto try_add = [&](int left, int right) {
            if (left < 0 || right < 0) return;
            const Symbol &l = symbols[static_cast<size_t>(left)];
            const Symbol &r = symbols[static_cast<size_t>(right)];
            const int rank = vocab_.merge_rank(w.substr(l.offset, l.length), w.substr(r.offset, r.length), &scratch);
            if (rank < 0) return;
            queue.push({left, right, rank, l.length, r.length});
        };
        for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int>(i - 1), static_cast<int>(i));
        while (!queue.empty()) {
            const Bigram b = queue.top();
            queue.pop();
            Symbol &l = symbols[static_cast<size_t>(b.left)];
            Symbol &r = symbols[static_cast<size_t>(b.right)];
            if (l.length != b.left_length || r.length != b.right_length || l.next != b.right) continue; // stale
            merge_symbols(symbols, b.left, b.right);
            try_add(l.prev, b.left);
            try_add(b.left, l.next);
        }
        for (const Symbol &s : symbols) {
            if (s.length == 0) continue;
            const std::string_view piece = w.substr(s.offset, s.length);
            const TokenId id = vocab_.find(piece);
            if (id != kNoToken) {
                out->push_back(id);
                continue;
            }
            // llama.cpp looks up each byte of the unknown piece on its own
            for (const char c : piece) {
                const TokenId single = vocab_.find(std::string_view(&c, 1));
                if (single != kNoToken) out->push_back(single);
            }
        }
    }
}

void Tokenizer::tokenize_wpm(std::string_view text, std::vector<TokenId> *out) const {
    static const auto is_chinese = [](uint32_t c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
               (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
               (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    };
    // normalise (NFD base letters, lowercase, no accents/controls) and split
    // into words at whitespace and around punctuation and CJK characters
    std::vector<std::string> words(1);
    for (size_t pos = 0; pos < text.size();) {
        uint32_t cpt = utf8_decode(text, &pos);
        if (vocab_.strip_accents()) cpt = unicode_nfd_first(cpt);
        const uint16_t flags = unicode_flags(cpt);
        if (flags & kUnicodeWhitespace) {
            if (!words.back().empty()) words.emplace_back();
            continue;
        }
        if (cpt == 0 || cpt == kReplacementChar || (flags & kUnicodeControl)) continue;
        if (vocab_.strip_accents() && (flags & kUnicodeMark)) continue;
        std::string s;
        utf8_append(s, vocab_.lowercase() ? unicode_tolower(cpt) : cpt);
        if ((flags & kUnicodePunctuation) || (cpt < 0x7F && (flags & kUnicodeSymbol)) || is_chinese(cpt)) {
            if (!words.back().empty()) words.emplace_back();
            words.back() = std::move(s);
            words.emplace_back();
        } else {
            words.back() += s;
        }
    }
    const size_t max_len = vocab_.max_token_length();
    for (const std::string &word : words) {
        if (word.empty()) continue;
        const std::string phantom = "\xE2\x96\x81" + word; // words start with U+2581
        const size_t n = phantom.size();
        const size_t before = out->size();
        // greedy longest match from each position; a word that cannot be
        // covered becomes the unknown token
        for (size_t i = 0; i < n; ++i) {
            bool matched = false;
            for (size_t j = std::min(n, i + max_len + 1); j > i; --j) {
                const TokenId id = vocab_.find(std::string_view(phantom).substr(i, j - i));
                if (id != kNoToken) {
                    out->push_back(id);
                    matched = true;
                    i = j - 1;
                    break;
                }
            }
            if (!matched) {
                out->resize(before);
                break;
            }
        }
        if (out->size() == before && vocab_.special().unk != kNoToken) out->push_back(vocab_.special().unk);
    }
}

const std::string &Tokenizer::piece(TokenId id, bool special) const {
    if (!special && (vocab_.token(id).attr & (kAttrUnknown | kAttrControl))) return kEmpty;
    return vocab_.piece(id);
}

bool Tokenizer::detokenize(const TokenId *ids, size_t n, bool remove_special, bool unparse_special, std::string *out,
                           size_t *bad_index) const {
    for (size_t i = 0; i < n; ++i) {
        if (!vocab_.valid(ids[i])) {
            *bad_index = i;
            return false;
        }
    }
    const SpecialTokens &sp = vocab_.special();
    bool remove_space = vocab_.add_space_prefix();
    if (remove_special && vocab_.add_bos() && n > 0 && ids[0] == sp.bos) {
        remove_space = false;
        ++ids;
        --n;
    }
    if (remove_special && vocab_.add_eos() && n > 0 && ids[n - 1] == sp.eos) --n;
    std::string text;
    for (size_t i = 0; i < n; ++i) {
        const std::string &p = piece(ids[i], unparse_special);
        const size_t skip = remove_space && !p.empty() && p[0] == ' ' ? 1 : 0;
        text.append(p, skip, std::string::npos);
        remove_space = false;
    }
    if (vocab_.clean_spaces() && !text.empty()) {
        // 1: " ?", " !", " .", " ," lose the space
        std::string a;
        a.push_back(text[0]);
        for (size_t i = 1; i < text.size(); ++i) {
            const char x = text[i];
            if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) a.pop_back();
            a.push_back(x);
        }
        // 2: " ' " becomes "'"
        std::string b;
        b.push_back(a[0]);
        for (size_t i = 1; i < a.size(); ++i) {
            const char x = a[i];
            if (x == '\'' && i + 1 < a.size() && a[i - 1] == ' ' && a[i + 1] == ' ') {
                b.pop_back();
                a[++i] = '\0'; // the space after is dropped; the next test sees NUL before it
            }
            b.push_back(x);
        }
        // 3: " 's", " 'm", " 're", " 've" lose the space
        std::string c;
        c.push_back(b[0]);
        for (size_t i = 1; i < b.size(); ++i) {
            const char x = b[i];
            if (b[i - 1] == ' ' && x == '\'' && i + 1 < b.size()) {
                const char x1 = b[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    c.pop_back();
                } else if (i + 2 < b.size()) {
                    const char x2 = b[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) c.pop_back();
                }
            }
            c.push_back(x);
        }
        text.swap(c);
    }
    *out = std::move(text);
    return true;
}

} // namespace lmrt
