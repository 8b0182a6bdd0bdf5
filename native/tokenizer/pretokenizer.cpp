// Pre-tokenizer rules by name. The regular expressions are the ones
// llama.cpp applies (they come from each model family's tokenizer.json);
// three of them are also run by llama.cpp through hand-written splitters,
// whose exact behaviour (including where it differs from the pattern) is
// reproduced here.
#include "pretokenizer.h"

#include <cstring>

#include "unicode.h"

namespace lmrt {

namespace {

// Patterns llama.cpp routes to its hand-written splitters.
const char *const kGpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const char *const kLlama3Pattern =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char *const kQwen2Pattern =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const char *const kDefaultPatterns[] = {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2Pattern, "\\p{N}+", "[0-9][0-9][0-9]", nullptr};
const char *const kGpt2Patterns[] = {kGpt2Pattern, nullptr};
const char *const kLlama3Patterns[] = {kLlama3Pattern, nullptr};
const char *const kQwen2Patterns[] = {kQwen2Pattern, nullptr};
const char *const kStarcoderPatterns[] = {"\\p{N}", kGpt2Pattern, nullptr};
const char *const kFalconPatterns[] = {"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2Pattern, "[0-9][0-9][0-9]", nullptr};
const char *const kDeepseekLlmPatterns[] = {
    "[\r\n]",
    "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943]+",
    "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+",
    "\\s+$",
    "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+",
    "\\p{N}+",
    nullptr};
const char *const kDeepseekCoderPatterns[] = {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+", "\\p{N}", nullptr};
const char *const kDeepseekV3Patterns[] = {
    "\\p{N}{1,3}",
    "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
    "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
    nullptr};
const char *const kBloomPatterns[] = {" ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+", nullptr};
const char *const kVikingPatterns[] = {" ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+", "\\p{N}", nullptr};
const char *const kTekkenPatterns[] = {
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?="
    "[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    nullptr};
const char *const kChameleonPatterns[] = {"<sentinel:[0-9]+>",
                                          "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
                                          "([\\t\\n]|    |  )",
                                          "\\p{N}",
                                          "[\\p{P}!-/:-@\\[-`{-~]",
                                          kGpt2Pattern,
                                          nullptr};
const char *const kGpt4oPatterns[] = {
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL]["
    "lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'["
    "mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    nullptr};
const char *const kSeedCoderPatterns[] = {
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    nullptr};

struct Spec {
    const char *names; // space-separated
    const char *const *patterns;
    PreTokenizerTraits traits;
};

constexpr PreTokenizerTraits kPlain{};
constexpr PreTokenizerTraits kNoClean{false, false, false, false};
constexpr PreTokenizerTraits kLlama3Traits{true, true, true, false};
constexpr PreTokenizerTraits kSepTraits{false, true, false, true};
constexpr PreTokenizerTraits kTekkenTraits{true, false, true, false};
constexpr PreTokenizerTraits kChameleonTraits{false, false, true, false};

const Spec kSpecs[] = {
    {"default", kDefaultPatterns, kPlain},
    {"llama3 llama-v3 llama-bpe falcon3 falcon-h1 pixtral midm-2.0 lfm2 jina-v5-nano", kLlama3Patterns, kLlama3Traits},
    {"dbrx smaug-bpe", kLlama3Patterns, kPlain},
    {"deepseek-llm", kDeepseekLlmPatterns, kNoClean},
    {"deepseek-coder", kDeepseekCoderPatterns, kNoClean},
    {"deepseek-v3 hunyuan-dense joyai-llm hy_v4", kDeepseekV3Patterns, kNoClean},
    {"falcon", kFalconPatterns, kPlain},
    {"starcoder refact codeshell exaone minerva-7b mellum2", kStarcoderPatterns, kPlain},
    {"command-r smollm", kStarcoderPatterns, kNoClean},
    {"gpt-2 phi-2 jina-es jina-de gigachat jina-v2-es jina-v2-de a.x-4.0 mellum modern-bert mpt olmo jais exaone4",
     kGpt2Patterns, kPlain},
    {"jina-v1-en jina-v2-code roberta-bpe", kGpt2Patterns, kSepTraits},
    {"trillion granite-docling", kGpt2Patterns, kNoClean},
    {"stablelm2 megrez", kQwen2Patterns, kPlain},
    {"qwen2 deepseek-r1-qwen kormo f2llmv2 hunyuan solar-open", kQwen2Patterns, kNoClean},
    {"poro-chat", kBloomPatterns, kNoClean},
    {"bloom gpt3-finnish", kBloomPatterns, kPlain},
    {"viking", kVikingPatterns, kNoClean},
    {"tekken", kTekkenPatterns, kTekkenTraits},
    {"chameleon", kChameleonPatterns, kChameleonTraits},
    {"gpt-4o llama4 kanana2 talkie minimax-m2", kGpt4oPatterns, kNoClean},
    {"seed-coder", kSeedCoderPatterns, kNoClean},
};

bool name_in(const char *names, const std::string &name) {
    const char *p = names;
    while (*p != '\0') {
        const char *end = std::strchr(p, ' ');
        const size_t len = end != nullptr ? static_cast<size_t>(end - p) : std::strlen(p);
        if (len == name.size() && name.compare(0, len, p, len) == 0) return true;
        if (end == nullptr) break;
        p = end + 1;
    }
    return false;
}

// Collapsed alphabet: ASCII stays itself; every other code point becomes
// one symbol for its category, so that \p{..} can be written as a class.
enum CollapsedSymbol : uint32_t {
    kCollapsedOther = 0xD0,
    kCollapsedNumber = 0xD1,
    kCollapsedLetter = 0xD2,
    kCollapsedPunctuation = 0xD3,
    kCollapsedMark = 0xD4,
    kCollapsedSymbolCat = 0xD5,
};

uint32_t collapse(uint32_t cpt) {
    if (cpt < 128) return cpt;
    const uint16_t flags = unicode_flags(cpt);
    if (flags & kUnicodeWhitespace) return 0x0B; // a whitespace \s matches
    switch (flags & kUnicodeCategoryMask) {
    case kUnicodeNumber: return kCollapsedNumber;
    case kUnicodeLetter: return kCollapsedLetter;
    case kUnicodePunctuation: return kCollapsedPunctuation;
    case kUnicodeMark: return kCollapsedMark;
    case kUnicodeSymbol: return kCollapsedSymbolCat;
    default: return kCollapsedOther;
    }
}

// The class body standing for \p{name} in collapsed text: the category
// symbol plus the ASCII characters of that category.
const char *category_class(const std::string &name, uint32_t *symbol) {
    if (name == "N") return *symbol = kCollapsedNumber, "0-9";
    if (name == "L" || name == "Lu" || name == "Ll" || name == "Lt" || name == "Lm" || name == "Lo")
        return *symbol = kCollapsedLetter, "A-Za-z";
    if (name == "P") return *symbol = kCollapsedPunctuation, "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}";
    if (name == "M") return *symbol = kCollapsedMark, "";
    if (name == "S") return *symbol = kCollapsedSymbolCat, "\\$\\+<->\\^`\\|~";
    return nullptr;
}

// Rewrites \p{..} into collapsed classes; false when the pattern has none.
Status collapse_pattern(const std::vector<uint32_t> &pattern, std::vector<uint32_t> *out, bool *collapsed) {
    *collapsed = false;
    out->clear();
    bool inside = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
        const uint32_t c = pattern[i];
        if (c == '[' && (i == 0 || pattern[i - 1] != '\\')) inside = true;
        if (c == ']' && inside && pattern[i - 1] != '\\') inside = false;
        if (c == '\\' && i + 3 < pattern.size() && pattern[i + 1] == 'p' && pattern[i + 2] == '{') {
            size_t close = i + 3;
            std::string name;
            while (close < pattern.size() && pattern[close] != '}' && close < i + 10) name.push_back(static_cast<char>(pattern[close++]));
            uint32_t symbol;
            const char *ascii = close < pattern.size() && pattern[close] == '}' ? category_class(name, &symbol) : nullptr;
            if (ascii == nullptr) {
                return Status::error(LMRT_E_GGUF_UNSUPPORTED, "pre-tokenizer pattern uses \\p{%s}, which lmrt does not support",
                                     name.c_str());
            }
            if (!inside) out->push_back('[');
            out->push_back(symbol);
            for (const char *a = ascii; *a != '\0'; ++a) out->push_back(static_cast<uint8_t>(*a));
            if (!inside) out->push_back(']');
            *collapsed = true;
            i = close;
            continue;
        }
        out->push_back(c);
    }
    if (*collapsed) {
        for (uint32_t c : pattern) {
            if (c >= 128) return Status::error(LMRT_E_INTERNAL, "pattern mixes \\p{} with non-ASCII characters");
        }
    }
    return Status::ok();
}

using Offsets = std::vector<size_t>;

// One segment [ini, end) of the code points being split by a hand-written
// splitter: lookups outside it read as "no code point" (flags 0), and
// add(e) closes the word that runs up to e.
struct Segment {
    static constexpr uint32_t kOutside = 0xFFFFFFFFu;
    const std::vector<uint32_t> &cpts;
    size_t ini, end, prev;
    Offsets *out;

    uint32_t cpt_at(size_t p) const { return p >= ini && p < end ? cpts[p] : kOutside; }
    uint16_t flags_at(size_t p) const { return p >= ini && p < end ? unicode_flags(cpts[p]) : 0; }
    size_t add(size_t e) {
        const size_t len = e - prev;
        if (len > 0) out->push_back(len);
        prev = e;
        return len;
    }
    // Length of the English contraction ('s 't 'm 'd 're 've 'll) at an
    // apostrophe at pos, or 0; fold_case also takes 'S, 'RE, ...
    size_t contraction(size_t pos, bool fold_case) const {
        if (cpt_at(pos) != '\'' || pos + 1 >= end) return 0;
        const auto at = [&](size_t p) { return fold_case ? unicode_tolower(cpt_at(p)) : cpt_at(p); };
        const uint32_t n1 = at(pos + 1);
        if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') return 2;
        if (pos + 2 >= end) return 0;
        const uint32_t n2 = at(pos + 2);
        return (n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l') ? 3 : 0;
    }
};

// llama.cpp's hand-written GPT-2 splitter.
void split_gpt2(const std::vector<uint32_t> &cpts, const Offsets &in, Offsets *out) {
    size_t start = 0;
    for (const size_t length : in) {
        Segment seg{cpts, start, start + length, start, out};
        start += length;
        const size_t end = seg.end;
        const auto cpt_at = [&](size_t p) { return seg.cpt_at(p); };
        const auto flags_at = [&](size_t p) { return seg.flags_at(p); };
        const auto add = [&](size_t e) { return seg.add(e); };
        for (size_t pos = seg.ini; pos < end;) {
            const uint32_t cpt = cpt_at(pos);
            const uint16_t flags = flags_at(pos);
            if (const size_t c = seg.contraction(pos, false)) {
                pos += add(pos + c);
                continue;
            }
            uint16_t f2 = cpt == ' ' ? flags_at(pos + 1) : flags;
            if (f2 & kUnicodeLetter) {
                pos += cpt == ' ';
                while (f2 & kUnicodeLetter) f2 = flags_at(++pos);
                add(pos);
                continue;
            }
            if (f2 & kUnicodeNumber) {
                pos += cpt == ' ';
                while (f2 & kUnicodeNumber) f2 = flags_at(++pos);
                add(pos);
                continue;
            }
            const auto other = [](uint16_t f) {
                return !(f & (kUnicodeWhitespace | kUnicodeLetter | kUnicodeNumber)) && f != 0;
            };
            if (other(f2)) {
                pos += cpt == ' ';
                while (other(f2)) f2 = flags_at(++pos);
                add(pos);
                continue;
            }
            size_t spaces = 0;
            while (flags_at(pos + spaces) & kUnicodeWhitespace) ++spaces;
            if (spaces > 1 && cpt_at(pos + spaces) != Segment::kOutside) {
                pos += spaces - 1;
                add(pos);
                continue;
            }
            if (spaces > 0) {
                pos += spaces;
                add(pos);
                continue;
            }
            add(++pos);
        }
    }
}

// llama.cpp's hand-written Llama 3 splitter; with max_digits = 1 its Qwen2 one.
void split_llama3(const std::vector<uint32_t> &cpts, const Offsets &in, Offsets *out, size_t max_digits) {
    size_t start = 0;
    for (const size_t length : in) {
        Segment seg{cpts, start, start + length, start, out};
        start += length;
        const size_t end = seg.end;
        const auto cpt_at = [&](size_t p) { return seg.cpt_at(p); };
        const auto flags_at = [&](size_t p) { return seg.flags_at(p); };
        const auto add = [&](size_t e) { return seg.add(e); };
        for (size_t pos = seg.ini; pos < end;) {
            const uint32_t cpt = cpt_at(pos);
            const uint16_t flags = flags_at(pos);
            if (const size_t c = seg.contraction(pos, true)) {
                pos += add(pos + c);
                continue;
            }
            if (!(cpt == '\r' || cpt == '\n' || (flags & kUnicodeNumber))) {
                if ((flags & kUnicodeLetter) || (flags_at(pos + 1) & kUnicodeLetter)) {
                    ++pos;
                    while (flags_at(pos) & kUnicodeLetter) ++pos;
                    add(pos);
                    continue;
                }
            }
            if (flags & kUnicodeNumber) {
                size_t run = pos;
                while (flags_at(pos) & kUnicodeNumber) {
                    if (++pos - run >= max_digits) {
                        add(pos);
                        run = pos;
                    }
                }
                add(pos);
                continue;
            }
            uint16_t f2 = cpt == ' ' ? flags_at(pos + 1) : flags;
            // llama.cpp tests the current code point's flags here, not f2's
            if (!(f2 & (kUnicodeWhitespace | kUnicodeLetter | kUnicodeNumber)) && flags != 0) {
                pos += cpt == ' ';
                while (!(f2 & (kUnicodeWhitespace | kUnicodeLetter | kUnicodeNumber)) && f2 != 0) f2 = flags_at(++pos);
                uint32_t c2 = cpt_at(pos);
                while (c2 == '\r' || c2 == '\n') c2 = cpt_at(++pos);
                add(pos);
                continue;
            }
            size_t spaces = 0, last_newline_end = 0;
            while (flags_at(pos + spaces) & kUnicodeWhitespace) {
                const uint32_t c2 = cpt_at(pos + spaces);
                if (c2 == '\r' || c2 == '\n') last_newline_end = pos + spaces + 1;
                ++spaces;
            }
            if (last_newline_end > 0) {
                pos = last_newline_end;
                add(pos);
                continue;
            }
            if (spaces > 1 && cpt_at(pos + spaces) != Segment::kOutside) {
                pos += spaces - 1;
                add(pos);
                continue;
            }
            if (spaces > 0) {
                pos += spaces;
                add(pos);
                continue;
            }
            add(++pos);
        }
    }
}

// std::regex_iterator over each segment: matches and the gaps between them
// both become words.
void split_regex(const Regex &re, const std::vector<uint32_t> &symbols, const Offsets &in, Offsets *out) {
    size_t start = 0;
    for (const size_t length : in) {
        const size_t begin = start, end = start + length;
        start = end;
        size_t last = begin, from = begin;
        size_t mb, me;
        while (from <= end && re.search(symbols.data(), begin, end, from, &mb, &me)) {
            if (mb > last) out->push_back(mb - last);
            out->push_back(me - mb);
            last = me;
            from = me > mb ? me : mb + 1;
        }
        if (last < end) out->push_back(end - last);
    }
}

} // namespace

Status PreTokenizer::create(const std::string &name, PreTokenizer *out, PreTokenizerTraits *traits) {
    const std::string key = name.empty() ? "default" : name;
    const Spec *spec = nullptr;
    for (const Spec &s : kSpecs) {
        if (name_in(s.names, key)) {
            spec = &s;
            break;
        }
    }
    if (spec == nullptr) {
        return Status::error(LMRT_E_GGUF_UNSUPPORTED, "unknown pre-tokenizer '%s' (tokenizer.ggml.pre)", name.c_str());
    }
    PreTokenizer pre;
    for (const char *const *p = spec->patterns; *p != nullptr; ++p) {
        Step step;
        if (std::strcmp(*p, kGpt2Pattern) == 0) {
            step.kind = StepKind::kGpt2;
        } else if (std::strcmp(*p, kLlama3Pattern) == 0) {
            step.kind = StepKind::kLlama3;
        } else if (std::strcmp(*p, kQwen2Pattern) == 0) {
            step.kind = StepKind::kQwen2;
        } else {
            std::vector<uint32_t> symbols;
            bool collapsed;
            LMRT_RETURN_IF_ERROR(collapse_pattern(utf8_to_codepoints(*p), &symbols, &collapsed));
            auto re = std::make_shared<Regex>();
            Status s = Regex::compile(symbols, re.get());
            if (!s.is_ok()) {
                return Status::error(LMRT_E_INTERNAL, "pre-tokenizer '%s': %s", key.c_str(), s.message().c_str());
            }
            step.kind = collapsed ? StepKind::kRegexCollapsed : StepKind::kRegexCodepoints;
            step.regex = std::move(re);
        }
        pre.steps_.push_back(std::move(step));
    }
    *out = std::move(pre);
    *traits = spec->traits;
    return Status::ok();
}

void PreTokenizer::split(std::string_view text, std::vector<std::string> *words) const {
    words->clear();
    const std::vector<uint32_t> cpts = utf8_to_codepoints(text);
    std::vector<uint32_t> collapsed, plain;
    Offsets offsets{cpts.size()}, next;
    for (const Step &step : steps_) {
        next.clear();
        switch (step.kind) {
        case StepKind::kGpt2: split_gpt2(cpts, offsets, &next); break;
        case StepKind::kLlama3: split_llama3(cpts, offsets, &next, 3); break;
        case StepKind::kQwen2: split_llama3(cpts, offsets, &next, 1); break;
        case StepKind::kRegexCollapsed:
            if (collapsed.empty() && !cpts.empty()) {
                collapsed.resize(cpts.size());
                for (size_t i = 0; i < cpts.size(); ++i) collapsed[i] = collapse(cpts[i]);
            }
            split_regex(*step.regex, collapsed, offsets, &next);
            break;
        case StepKind::kRegexCodepoints:
            if (plain.empty() && !cpts.empty()) {
                plain = cpts;
                for (uint32_t &c : plain) {
                    if (c > 0x7F && unicode_is_whitespace(c)) c = 0x0B;
                }
            }
            split_regex(*step.regex, plain, offsets, &next);
            break;
        }
        offsets.swap(next);
    }
    size_t pos = 0;
    for (const size_t length : offsets) {
        std::string word;
        for (size_t i = pos; i < pos + length; ++i) utf8_append(word, cpts[i]);
        pos += length;
        words->push_back(std::move(word));
    }
}

} // namespace lmrt
