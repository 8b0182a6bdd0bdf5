// Status: the error currency of lmrt's C++ code. A function that can fail
// returns a Status (or fills an out-parameter and returns one); the C API
// copies it into the caller's lmrt_error. No exceptions cross module edges.
#pragma once

#include <cstdarg>
#include <string>

#include "lmrt.h"

namespace lmrt {

class Status {
  public:
    Status() = default;
    static Status ok() { return Status(); }

    // printf-style message; the code says which kind of failure it is.
    static Status error(lmrt_status code, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 2, 3)))
#endif
        ;

    bool is_ok() const { return code_ == LMRT_OK; }
    lmrt_status code() const { return code_; }
    const std::string &message() const { return message_; }

    // Fills a caller's lmrt_error (which may be NULL) and returns the code.
    lmrt_status to_c(lmrt_error *err) const;

  private:
    lmrt_status code_ = LMRT_OK;
    std::string message_;
};

std::string format_string(const char *fmt, va_list args);

} // namespace lmrt

#define LMRT_RETURN_IF_ERROR(expr)                                                                 \
    do {                                                                                           \
        ::lmrt::Status lmrt_status_ = (expr);                                                      \
        if (!lmrt_status_.is_ok()) return lmrt_status_;                                            \
    } while (0)
