// A small backtracking regular-expression engine with ECMAScript semantics
// (what std::regex gives llama.cpp), for the pre-tokenizer patterns.
//
// Text and patterns are sequences of 32-bit symbols: code points, or the
// "collapsed" symbols standing for whole Unicode categories (see
// pretokenizer.cpp). Supported: literals and escapes (\r \n \t \f \v \0
// \xHH \uHHHH, escaped punctuation), classes with ranges and negation,
// \s \S \d \D \w \W (ASCII, as std::regex in the C locale), '.', '^', '$',
// \b \B, groups (?:...) and (...) (captures are not kept), alternation,
// greedy ? * + {n} {n,} {n,m}, and lookahead (?=...) (?!...). Loops whose
// body can match empty are rejected at compile time, so matching always
// terminates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/status.h"

namespace lmrt {

class Regex {
  public:
    // Compiles `pattern` (symbols). On failure returns a Status naming the
    // problem and its position.
    static Status compile(const std::vector<uint32_t> &pattern, Regex *out);

    // Leftmost match in text[begin, end) starting at or after `from`, as
    // std::regex_search: the first alternative in priority order wins, not
    // the longest. `^` and `$` anchor to begin and end.
    bool search(const uint32_t *text, size_t begin, size_t end, size_t from, size_t *match_begin,
                size_t *match_end) const;

    // The compiled form: a backtracking VM program per pattern and lookahead.
    enum Op : uint8_t { kChar, kClass, kAny, kSplit, kJmp, kMatch, kBegin, kEnd, kWordBoundary, kLook };
    struct Inst {
        Op op;
        bool flag = false; // kWordBoundary: negated (\B); kLook: negative lookahead
        uint32_t a = 0;    // kChar: symbol; kClass: class index; kSplit/kJmp: target; kLook: program index
        uint32_t b = 0;    // kSplit: second target
    };
    using Program = std::vector<Inst>;

  private:
    struct Range {
        uint32_t lo, hi;
    };
    struct Class {
        std::vector<Range> ranges;
        std::vector<int> negated_escapes; // \S \D \W inside brackets: indices of classes
        bool negate = false;
    };
    class Parser;

    bool class_matches(uint32_t index, uint32_t symbol) const;
    bool run(uint32_t program, const uint32_t *text, size_t begin, size_t end, size_t at, size_t *match_end) const;

    std::vector<Program> programs_; // [0] is the main program, the rest are lookaheads
    std::vector<Class> classes_;
};

// Symbols of a UTF-8 pattern (code points).
std::vector<uint32_t> regex_symbols(const std::string &utf8_pattern);

} // namespace lmrt
