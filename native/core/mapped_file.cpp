#include "mapped_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lmrt {

namespace {

// Closes the descriptor on every return path; the mapping outlives it.
struct FdCloser {
    int fd;
    ~FdCloser() {
        if (fd >= 0) ::close(fd);
    }
};

} // namespace

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
}

void MappedFile::release(const void *p, uint64_t n) const {
    const auto begin = reinterpret_cast<uintptr_t>(p), base = reinterpret_cast<uintptr_t>(data_);
    if (data_ == nullptr || begin < base || n > size_ || begin - base > size_ - n) return;
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t first = (begin + page - 1) / page * page, last = (begin + n) / page * page;
    if (first < last) ::madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED);
}

Status MappedFile::open(const std::string &path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        return Status::error(LMRT_E_IO, "%s: cannot open: %s", path.c_str(), std::strerror(e));
    }
    FdCloser closer{fd};
    struct stat st;
    if (::fstat(fd, &st) != 0) {
        const int e = errno;
        return Status::error(LMRT_E_IO, "%s: cannot stat: %s", path.c_str(), std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        return Status::error(LMRT_E_IO, "%s: not a regular file", path.c_str());
    }
    size_ = static_cast<uint64_t>(st.st_size);
    if (size_ == 0) return Status::ok();
    void *p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        const int e = errno;
        size_ = 0;
        return Status::error(LMRT_E_IO, "%s: cannot map %llu bytes: %s", path.c_str(),
                             static_cast<unsigned long long>(st.st_size), std::strerror(e));
    }
    data_ = static_cast<uint8_t *>(p);
    return Status::ok();
}

} // namespace lmrt
