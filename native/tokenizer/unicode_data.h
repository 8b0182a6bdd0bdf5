// Unicode tables the tokenizers need (generated into unicode_data.cpp by
// tools/gen-unicode-data.mjs). Flags follow the categories the
// pre-tokenizer regexes test.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lmrt {

enum UnicodeFlag : uint16_t {
    kUnicodeUndefined = 0x0001,   // unassigned (Cn)
    kUnicodeNumber = 0x0002,      // \p{N}
    kUnicodeLetter = 0x0004,      // \p{L}
    kUnicodeSeparator = 0x0008,   // \p{Z}
    kUnicodeMark = 0x0010,        // \p{M}
    kUnicodePunctuation = 0x0020, // \p{P}
    kUnicodeSymbol = 0x0040,      // \p{S}
    kUnicodeControl = 0x0080,     // \p{C}
    kUnicodeCategoryMask = 0x00FF,
    kUnicodeWhitespace = 0x0100,  // White_Space property
};

struct UnicodeFlagRange {
    uint32_t start; // flags hold from here to the next range's start - 1
    uint16_t flags;
};

struct UnicodeMapping {
    uint32_t from;
    uint32_t to;
};

struct UnicodeNfdRange {
    uint32_t first;
    uint32_t last;
    uint32_t nfd; // first code point of the canonical decomposition
};

extern const UnicodeFlagRange kUnicodeFlagRanges[];
extern const size_t kUnicodeFlagRangeCount;
extern const uint32_t kUnicodeWhitespaceList[];
extern const size_t kUnicodeWhitespaceListCount;
extern const UnicodeMapping kUnicodeLowercase[]; // sorted by `from`
extern const size_t kUnicodeLowercaseCount;
extern const UnicodeNfdRange kUnicodeNfdRanges[]; // sorted by `first`
extern const size_t kUnicodeNfdRangeCount;

} // namespace lmrt
