// Unicode helpers for the tokenizers: lenient UTF-8 decoding that matches
// llama.cpp (an invalid byte becomes U+FFFD and decoding moves on by one
// byte), category flags, lowercase and NFD lookups, and GPT-2's byte-level
// symbol alphabet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "unicode_data.h"

namespace lmrt {

constexpr uint32_t kReplacementChar = 0xFFFD;

// Byte length of the UTF-8 sequence that `lead` starts (1 for stray
// continuation bytes), as llama.cpp's SPM tokenizer splits text.
inline size_t utf8_sequence_length(uint8_t lead) {
    static constexpr uint8_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return kLengths[lead >> 4];
}

// Decodes the code point at text[*pos] and advances *pos. Malformed input
// (bad lead or continuation byte, truncation, a value above U+10FFFF) yields
// U+FFFD and advances one byte. Overlong forms and surrogates decode as
// their values, as in llama.cpp.
uint32_t utf8_decode(std::string_view text, size_t *pos);

std::vector<uint32_t> utf8_to_codepoints(std::string_view text);
void utf8_append(std::string &out, uint32_t cpt);

// Category flags (UnicodeFlag) of a code point; kUnicodeUndefined beyond U+10FFFF.
uint16_t unicode_flags(uint32_t cpt);
inline bool unicode_is_whitespace(uint32_t cpt) { return (unicode_flags(cpt) & kUnicodeWhitespace) != 0; }

uint32_t unicode_tolower(uint32_t cpt);
// First code point of the canonical decomposition (the base letter of an accented one).
uint32_t unicode_nfd_first(uint32_t cpt);

// GPT-2 byte-level encoding: each byte maps to one printable code point
// (printable Latin-1 bytes to themselves, the rest to U+0100 onwards).
uint32_t byte_to_symbol(uint8_t byte);
// The byte a symbol stands for, or -1 when the code point is not one of the 256.
int symbol_to_byte(uint32_t cpt);

} // namespace lmrt
