#include "unicode.h"

#include <algorithm>
#include <array>
#include <memory>
#include <unordered_map>

namespace lmrt {

uint32_t utf8_decode(std::string_view text, size_t *pos) {
    const size_t i = *pos;
    const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[i + k]); };
    const auto continuation = [&](size_t k) { return i + k < text.size() && (byte(k) & 0xC0) == 0x80; };
    const uint8_t lead = byte(0);
    uint32_t cpt;
    size_t len;
    if (lead < 0x80) {
        cpt = lead;
        len = 1;
    } else if ((lead & 0xE0) == 0xC0 && continuation(1)) {
        cpt = (lead & 0x1Fu) << 6 | (byte(1) & 0x3Fu);
        len = 2;
    } else if ((lead & 0xF0) == 0xE0 && continuation(1) && continuation(2)) {
        cpt = (lead & 0x0Fu) << 12 | (byte(1) & 0x3Fu) << 6 | (byte(2) & 0x3Fu);
        len = 3;
    } else if ((lead & 0xF8) == 0xF0 && continuation(1) && continuation(2) && continuation(3)) {
        cpt = (lead & 0x07u) << 18 | (byte(1) & 0x3Fu) << 12 | (byte(2) & 0x3Fu) << 6 | (byte(3) & 0x3Fu);
        len = 4;
        if (cpt > 0x10FFFF) {
            cpt = kReplacementChar;
            len = 1;
        }
    } else {
        cpt = kReplacementChar;
        len = 1;
    }
    *pos = i + len;
    return cpt;
}

std::vector<uint32_t> utf8_to_codepoints(std::string_view text) {
    std::vector<uint32_t> out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) out.push_back(utf8_decode(text, &pos));
    return out;
}

void utf8_append(std::string &out, uint32_t cpt) {
    if (cpt < 0x80) {
        out.push_back(static_cast<char>(cpt));
    } else if (cpt < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cpt >> 6)));
        out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
    } else if (cpt < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cpt >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
    } else if (cpt <= 0x10FFFF) {
        out.push_back(static_cast<char>(0xF0 | (cpt >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cpt >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
    } else {
        utf8_append(out, kReplacementChar);
    }
}

namespace {

constexpr uint32_t kMaxCodepoint = 0x110000;
constexpr uint32_t kBlockBits = 8;
constexpr uint32_t kBlockSize = 1u << kBlockBits;

// Two-level lookup built once from the generated ranges: block index per
// 256 code points, and the distinct 256-entry blocks (about 160 KiB).
struct FlagTable {
    std::vector<uint16_t> block_of;
    std::vector<uint16_t> blocks;

    FlagTable() {
        std::vector<uint16_t> flat(kMaxCodepoint, kUnicodeUndefined);
        for (size_t r = 0; r < kUnicodeFlagRangeCount; ++r) {
            const uint32_t end = r + 1 < kUnicodeFlagRangeCount ? kUnicodeFlagRanges[r + 1].start : kMaxCodepoint;
            std::fill(flat.begin() + kUnicodeFlagRanges[r].start, flat.begin() + end, kUnicodeFlagRanges[r].flags);
        }
        for (size_t i = 0; i < kUnicodeWhitespaceListCount; ++i) flat[kUnicodeWhitespaceList[i]] |= kUnicodeWhitespace;
        block_of.resize(kMaxCodepoint / kBlockSize);
        std::unordered_map<std::string, uint16_t> seen;
        for (uint32_t b = 0; b < block_of.size(); ++b) {
            const uint16_t *block = flat.data() + b * kBlockSize;
            std::string key(reinterpret_cast<const char *>(block), kBlockSize * sizeof(uint16_t));
            auto it = seen.find(key);
            if (it == seen.end()) {
                it = seen.emplace(std::move(key), static_cast<uint16_t>(blocks.size() / kBlockSize)).first;
                blocks.insert(blocks.end(), block, block + kBlockSize);
            }
            block_of[b] = it->second;
        }
    }
};

const FlagTable &flag_table() {
    static const FlagTable table; // immutable after its thread-safe construction
    return table;
}

struct ByteSymbols {
    std::array<uint32_t, 256> symbol{};
    std::array<int16_t, 324> byte_of{}; // symbols are all below U+0144

    ByteSymbols() {
        byte_of.fill(-1);
        uint32_t next = 256;
        for (uint32_t b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            symbol[b] = printable ? b : next++;
            byte_of[symbol[b]] = static_cast<int16_t>(b);
        }
    }
};

const ByteSymbols &byte_symbols() {
    static const ByteSymbols table;
    return table;
}

} // namespace

uint16_t unicode_flags(uint32_t cpt) {
    if (cpt >= kMaxCodepoint) return kUnicodeUndefined;
    const FlagTable &t = flag_table();
    return t.blocks[static_cast<size_t>(t.block_of[cpt >> kBlockBits]) * kBlockSize + (cpt & (kBlockSize - 1))];
}

uint32_t unicode_tolower(uint32_t cpt) {
    const UnicodeMapping *end = kUnicodeLowercase + kUnicodeLowercaseCount;
    const UnicodeMapping *it =
        std::lower_bound(kUnicodeLowercase, end, cpt, [](const UnicodeMapping &m, uint32_t c) { return m.from < c; });
    return it != end && it->from == cpt ? it->to : cpt;
}

uint32_t unicode_nfd_first(uint32_t cpt) {
    const UnicodeNfdRange *end = kUnicodeNfdRanges + kUnicodeNfdRangeCount;
    const UnicodeNfdRange *it =
        std::upper_bound(kUnicodeNfdRanges, end, cpt, [](uint32_t c, const UnicodeNfdRange &r) { return c < r.first; });
    if (it == kUnicodeNfdRanges) return cpt;
    --it;
    return cpt <= it->last ? it->nfd : cpt;
}

uint32_t byte_to_symbol(uint8_t byte) { return byte_symbols().symbol[byte]; }

int symbol_to_byte(uint32_t cpt) {
    const ByteSymbols &t = byte_symbols();
    return cpt < t.byte_of.size() ? t.byte_of[cpt] : -1;
}

} // namespace lmrt
