#include "regex.h"

#include <memory>
#include <utility>

#include "unicode.h"

namespace lmrt {

namespace {

bool is_word(uint32_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// A parsed pattern, turned into VM instructions by emit().
struct Node {
    enum Kind { kEmpty, kSymbol, kClassRef, kAnySymbol, kBeginAnchor, kEndAnchor, kWordB, kLookahead, kConcat, kAlt, kRepeat };
    Kind kind = kEmpty;
    uint32_t value = 0; // symbol, class index
    bool flag = false;  // negated \B or (?!
    int min = 0, max = 0; // kRepeat; max < 0 = unbounded
    std::vector<std::unique_ptr<Node>> kids;
};

bool nullable(const Node &n) {
    switch (n.kind) {
    case Node::kEmpty:
    case Node::kBeginAnchor:
    case Node::kEndAnchor:
    case Node::kWordB:
    case Node::kLookahead: return true;
    case Node::kConcat:
        for (const auto &k : n.kids)
            if (!nullable(*k)) return false;
        return true;
    case Node::kAlt:
        for (const auto &k : n.kids)
            if (nullable(*k)) return true;
        return false;
    case Node::kRepeat: return n.min == 0 || nullable(*n.kids[0]);
    default: return false;
    }
}

} // namespace

class Regex::Parser {
  public:
    Parser(const std::vector<uint32_t> &p, Regex &re) : p_(p), re_(re) {}

    Status parse(std::unique_ptr<Node> *out) {
        LMRT_RETURN_IF_ERROR(alternation(out));
        if (i_ != p_.size()) return error("unbalanced ')'");
        return Status::ok();
    }

  private:
    Status error(const char *what) const {
        return Status::error(LMRT_E_INTERNAL, "regex: %s at position %zu", what, i_);
    }
    bool at(uint32_t c) const { return i_ < p_.size() && p_[i_] == c; }

    Status alternation(std::unique_ptr<Node> *out) {
        auto alt = std::make_unique<Node>();
        alt->kind = Node::kAlt;
        for (;;) {
            std::unique_ptr<Node> seq;
            LMRT_RETURN_IF_ERROR(sequence(&seq));
            alt->kids.push_back(std::move(seq));
            if (!at('|')) break;
            ++i_;
        }
        *out = alt->kids.size() == 1 ? std::move(alt->kids[0]) : std::move(alt);
        return Status::ok();
    }

    Status sequence(std::unique_ptr<Node> *out) {
        auto seq = std::make_unique<Node>();
        seq->kind = Node::kConcat;
        while (i_ < p_.size() && !at('|') && !at(')')) {
            std::unique_ptr<Node> atom;
            LMRT_RETURN_IF_ERROR(this->atom(&atom));
            LMRT_RETURN_IF_ERROR(quantifier(&atom));
            seq->kids.push_back(std::move(atom));
        }
        *out = std::move(seq);
        return Status::ok();
    }

    Status number(int *out) {
        if (i_ >= p_.size() || p_[i_] < '0' || p_[i_] > '9') return error("expected a number");
        int v = 0;
        while (i_ < p_.size() && p_[i_] >= '0' && p_[i_] <= '9') {
            v = v * 10 + static_cast<int>(p_[i_++] - '0');
            if (v > 100000) return error("repeat count too large");
        }
        *out = v;
        return Status::ok();
    }

    Status quantifier(std::unique_ptr<Node> *atom) {
        int min = 0, max = 0;
        if (at('?')) {
            min = 0, max = 1;
        } else if (at('*')) {
            min = 0, max = -1;
        } else if (at('+')) {
            min = 1, max = -1;
        } else if (at('{')) {
            ++i_;
            LMRT_RETURN_IF_ERROR(number(&min));
            max = min;
            if (at(',')) {
                ++i_;
                max = -1;
                if (!at('}')) LMRT_RETURN_IF_ERROR(number(&max));
            }
            if (!at('}') || (max >= 0 && max < min)) return error("bad {n,m}");
        } else {
            return Status::ok();
        }
        ++i_;
        if (at('?')) return error("lazy quantifiers are not supported");
        if ((*atom)->kind == Node::kBeginAnchor || (*atom)->kind == Node::kEndAnchor) return error("quantified anchor");
        if (max != 1 && max != 0 && nullable(**atom)) return error("a repeated group that can match empty");
        auto rep = std::make_unique<Node>();
        rep->kind = Node::kRepeat;
        rep->min = min;
        rep->max = max;
        rep->kids.push_back(std::move(*atom));
        *atom = std::move(rep);
        return Status::ok();
    }

    Status atom(std::unique_ptr<Node> *out) {
        auto n = std::make_unique<Node>();
        const uint32_t c = p_[i_++];
        switch (c) {
        case '(': {
            if (at('?')) {
                ++i_;
                if (at(':')) {
                    ++i_;
                } else if (at('=') || at('!')) {
                    n->kind = Node::kLookahead;
                    n->flag = at('!');
                    ++i_;
                } else {
                    return error("unsupported group");
                }
            }
            std::unique_ptr<Node> inner;
            LMRT_RETURN_IF_ERROR(alternation(&inner));
            if (!at(')')) return error("missing ')'");
            ++i_;
            if (n->kind == Node::kLookahead) {
                n->kids.push_back(std::move(inner));
            } else {
                n = std::move(inner);
            }
            break;
        }
        case '[': LMRT_RETURN_IF_ERROR(bracket(n.get())); break;
        case '.': n->kind = Node::kAnySymbol; break;
        case '^': n->kind = Node::kBeginAnchor; break;
        case '$': n->kind = Node::kEndAnchor; break;
        case ')':
        case '|': return error("unexpected character");
        case '*':
        case '+':
        case '?':
        case '{': return error("nothing to repeat");
        case '\\': {
            if (i_ >= p_.size()) return error("trailing backslash");
            const uint32_t e = p_[i_];
            if (e == 'b' || e == 'B') {
                ++i_;
                n->kind = Node::kWordB;
                n->flag = e == 'B';
                break;
            }
            Class cls;
            bool is_class = false;
            uint32_t symbol = 0;
            LMRT_RETURN_IF_ERROR(escape(&cls, &is_class, &symbol));
            if (is_class) {
                n->kind = Node::kClassRef;
                n->value = static_cast<uint32_t>(re_.classes_.size());
                re_.classes_.push_back(std::move(cls));
            } else {
                n->kind = Node::kSymbol;
                n->value = symbol;
            }
            break;
        }
        default:
            n->kind = Node::kSymbol;
            n->value = c;
        }
        *out = std::move(n);
        return Status::ok();
    }

    // Parses the escape after a backslash: a class (\s \d \w and negations)
    // or one symbol.
    Status escape(Class *cls, bool *is_class, uint32_t *symbol) {
        const uint32_t e = p_[i_++];
        *is_class = true;
        switch (e) {
        case 's': cls->ranges = {{9, 13}, {32, 32}}; return Status::ok();
        case 'd': cls->ranges = {{'0', '9'}}; return Status::ok();
        case 'w': cls->ranges = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; return Status::ok();
        case 'S': cls->ranges = {{9, 13}, {32, 32}}; cls->negate = true; return Status::ok();
        case 'D': cls->ranges = {{'0', '9'}}; cls->negate = true; return Status::ok();
        case 'W': cls->ranges = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; cls->negate = true; return Status::ok();
        default: break;
        }
        *is_class = false;
        switch (e) {
        case 'r': *symbol = '\r'; return Status::ok();
        case 'n': *symbol = '\n'; return Status::ok();
        case 't': *symbol = '\t'; return Status::ok();
        case 'f': *symbol = '\f'; return Status::ok();
        case 'v': *symbol = '\v'; return Status::ok();
        case '0': *symbol = 0; return Status::ok();
        case 'x':
        case 'u': {
            const int digits = e == 'x' ? 2 : 4;
            uint32_t v = 0;
            for (int k = 0; k < digits; ++k, ++i_) {
                if (i_ >= p_.size()) return error("short hex escape");
                const uint32_t h = p_[i_];
                const int d = h >= '0' && h <= '9' ? static_cast<int>(h - '0')
                              : h >= 'a' && h <= 'f' ? static_cast<int>(h - 'a' + 10)
                              : h >= 'A' && h <= 'F' ? static_cast<int>(h - 'A' + 10)
                                                     : -1;
                if (d < 0) return error("bad hex escape");
                v = v * 16 + static_cast<uint32_t>(d);
            }
            *symbol = v;
            return Status::ok();
        }
        default:
            if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '1' && e <= '9')) {
                return error("unsupported escape");
            }
            *symbol = e; // escaped punctuation or any other symbol stands for itself
            return Status::ok();
        }
    }

    Status bracket(Node *n) {
        Class cls;
        if (at('^')) {
            cls.negate = true;
            ++i_;
        }
        bool first = true;
        while (i_ < p_.size() && (!at(']') || first)) {
            first = false;
            uint32_t lo;
            if (at('\\')) {
                ++i_;
                if (i_ >= p_.size()) return error("trailing backslash");
                Class sub;
                bool is_class;
                LMRT_RETURN_IF_ERROR(escape(&sub, &is_class, &lo));
                if (is_class) {
                    if (sub.negate) {
                        sub.negate = false;
                        cls.negated_escapes.push_back(static_cast<int>(re_.classes_.size()));
                        re_.classes_.push_back(std::move(sub));
                    } else {
                        cls.ranges.insert(cls.ranges.end(), sub.ranges.begin(), sub.ranges.end());
                    }
                    continue;
                }
            } else {
                lo = p_[i_++];
            }
            uint32_t hi = lo;
            if (at('-') && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
                ++i_;
                if (at('\\')) {
                    ++i_;
                    if (i_ >= p_.size()) return error("trailing backslash");
                    Class sub;
                    bool is_class;
                    LMRT_RETURN_IF_ERROR(escape(&sub, &is_class, &hi));
                    if (is_class) return error("class escape as a range end");
                } else {
                    hi = p_[i_++];
                }
                if (hi < lo) return error("range out of order");
            }
            cls.ranges.push_back({lo, hi});
        }
        if (!at(']')) return error("missing ']'");
        ++i_;
        n->kind = Node::kClassRef;
        n->value = static_cast<uint32_t>(re_.classes_.size());
        re_.classes_.push_back(std::move(cls));
        return Status::ok();
    }

    const std::vector<uint32_t> &p_;
    Regex &re_;
    size_t i_ = 0;
};

static void emit(const Node &n, std::vector<Regex::Inst> &, std::vector<std::vector<Regex::Inst>> &);

Status Regex::compile(const std::vector<uint32_t> &pattern, Regex *out) {
    Regex re;
    Parser parser(pattern, re);
    std::unique_ptr<Node> root;
    LMRT_RETURN_IF_ERROR(parser.parse(&root));
    re.programs_.emplace_back();
    std::vector<Program> looks;
    emit(*root, re.programs_[0], looks);
    re.programs_[0].push_back({kMatch});
    for (auto &l : looks) re.programs_.push_back(std::move(l));
    *out = std::move(re);
    return Status::ok();
}

// Appends the instructions for `n`; lookahead bodies become programs of
// their own (index 1 + position in `looks`).
static void emit(const Node &n, std::vector<Regex::Inst> &code, std::vector<std::vector<Regex::Inst>> &looks) {
    using I = Regex::Inst;
    const auto here = [&] { return static_cast<uint32_t>(code.size()); };
    switch (n.kind) {
    case Node::kEmpty: break;
    case Node::kSymbol: code.push_back({Regex::kChar, false, n.value}); break;
    case Node::kClassRef: code.push_back({Regex::kClass, false, n.value}); break;
    case Node::kAnySymbol: code.push_back({Regex::kAny}); break;
    case Node::kBeginAnchor: code.push_back({Regex::kBegin}); break;
    case Node::kEndAnchor: code.push_back({Regex::kEnd}); break;
    case Node::kWordB: code.push_back({Regex::kWordBoundary, n.flag}); break;
    case Node::kLookahead: {
        std::vector<I> body;
        emit(*n.kids[0], body, looks);
        body.push_back({Regex::kMatch});
        looks.push_back(std::move(body));
        code.push_back({Regex::kLook, n.flag, static_cast<uint32_t>(looks.size())});
        break;
    }
    case Node::kConcat:
        for (const auto &k : n.kids) emit(*k, code, looks);
        break;
    case Node::kAlt: {
        std::vector<size_t> jumps;
        for (size_t k = 0; k < n.kids.size(); ++k) {
            size_t split = 0;
            if (k + 1 < n.kids.size()) {
                split = code.size();
                code.push_back({Regex::kSplit, false, here() + 1, 0});
            }
            emit(*n.kids[k], code, looks);
            if (k + 1 < n.kids.size()) {
                jumps.push_back(code.size());
                code.push_back({Regex::kJmp});
                code[split].b = here();
            }
        }
        for (size_t j : jumps) code[j].a = here();
        break;
    }
    case Node::kRepeat: {
        const Node &body = *n.kids[0];
        for (int k = 0; k < n.min; ++k) emit(body, code, looks);
        if (n.max < 0) {
            // L: split body, out; body; jmp L
            const uint32_t loop = here();
            code.push_back({Regex::kSplit, false, loop + 1, 0});
            emit(body, code, looks);
            code.push_back({Regex::kJmp, false, loop});
            code[loop].b = here();
        } else {
            // (body(body(...)?)?)? for the optional max - min copies
            std::vector<size_t> splits;
            for (int k = n.min; k < n.max; ++k) {
                splits.push_back(code.size());
                code.push_back({Regex::kSplit, false, here() + 1, 0});
                emit(body, code, looks);
            }
            for (size_t s : splits) code[s].b = here();
        }
        break;
    }
    }
}

bool Regex::class_matches(uint32_t index, uint32_t symbol) const {
    const Class &c = classes_[index];
    bool in = false;
    for (const Range &r : c.ranges) {
        if (symbol >= r.lo && symbol <= r.hi) {
            in = true;
            break;
        }
    }
    if (!in) {
        for (int sub : c.negated_escapes) {
            if (!class_matches(static_cast<uint32_t>(sub), symbol)) {
                in = true;
                break;
            }
        }
    }
    return in != c.negate;
}

bool Regex::run(uint32_t program, const uint32_t *text, size_t begin, size_t end, size_t at, size_t *match_end) const {
    const Program &code = programs_[program];
    struct Thread {
        uint32_t pc;
        size_t sp;
    };
    std::vector<Thread> stack;
    stack.push_back({0, at});
    while (!stack.empty()) {
        Thread t = stack.back();
        stack.pop_back();
        for (;;) {
            const Inst &in = code[t.pc];
            bool ok = true;
            switch (in.op) {
            case kChar: ok = t.sp < end && text[t.sp] == in.a; if (ok) ++t.sp, ++t.pc; break;
            case kClass: ok = t.sp < end && class_matches(in.a, text[t.sp]); if (ok) ++t.sp, ++t.pc; break;
            case kAny: {
                ok = t.sp < end;
                if (ok) {
                    const uint32_t c = text[t.sp];
                    ok = c != '\n' && c != '\r' && c != 0x2028 && c != 0x2029;
                }
                if (ok) ++t.sp, ++t.pc;
                break;
            }
            case kSplit:
                stack.push_back({in.b, t.sp});
                t.pc = in.a;
                break;
            case kJmp: t.pc = in.a; break;
            case kMatch: *match_end = t.sp; return true;
            case kBegin: ok = t.sp == begin; ++t.pc; break;
            case kEnd: ok = t.sp == end; ++t.pc; break;
            case kWordBoundary: {
                const bool before = t.sp > begin && is_word(text[t.sp - 1]);
                const bool after = t.sp < end && is_word(text[t.sp]);
                ok = (before != after) != in.flag;
                ++t.pc;
                break;
            }
            case kLook: {
                size_t ignored;
                ok = run(in.a, text, begin, end, t.sp, &ignored) != in.flag;
                ++t.pc;
                break;
            }
            }
            if (!ok) break;
        }
    }
    return false;
}

bool Regex::search(const uint32_t *text, size_t begin, size_t end, size_t from, size_t *match_begin,
                   size_t *match_end) const {
    for (size_t at = from; at <= end; ++at) {
        if (run(0, text, begin, end, at, match_end)) {
            *match_begin = at;
            return true;
        }
    }
    return false;
}

std::vector<uint32_t> regex_symbols(const std::string &utf8_pattern) { return utf8_to_codepoints(utf8_pattern); }

} // namespace lmrt
