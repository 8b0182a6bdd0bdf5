#include "status.h"

#include <cstdio>
#include <cstring>
#include <vector>

namespace lmrt {

std::string format_string(const char *fmt, va_list args) {
    va_list copy;
    va_copy(copy, args);
    const int needed = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    if (needed <= 0) return std::string();
    std::vector<char> buf(static_cast<size_t>(needed) + 1);
    std::vsnprintf(buf.data(), buf.size(), fmt, args);
    return std::string(buf.data(), static_cast<size_t>(needed));
}

Status Status::error(lmrt_status code, const char *fmt, ...) {
    Status s;
    s.code_ = code == LMRT_OK ? LMRT_E_INTERNAL : code;
    va_list args;
    va_start(args, fmt);
    s.message_ = format_string(fmt, args);
    va_end(args);
    return s;
}

lmrt_status Status::to_c(lmrt_error *err) const {
    if (err != nullptr && code_ != LMRT_OK) {
        err->status = code_;
        const size_t n = std::min(message_.size(), sizeof(err->message) - 1);
        std::memcpy(err->message, message_.data(), n);
        err->message[n] = '\0';
    }
    return code_;
}

} // namespace lmrt
