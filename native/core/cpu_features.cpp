#include "cpu_features.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace lmrt {

const CpuFeatures &cpu_features() {
    static const CpuFeatures features = [] {
        CpuFeatures f;
#if defined(__x86_64__) && defined(__GNUC__)
        // CPUID for the instructions, XGETBV for the OS saving their registers
        // (compilers' __builtin_cpu_supports lacks f16c before GCC 11, which
        // the Debian 11 prebuilt binaries are built with)
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (__get_cpuid(1, &a, &b, &c, &d) == 0) return f;
        const bool fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
        if (!osxsave || !avx) return f;
        unsigned xcr0 = 0, xcr0_high = 0;
        __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(xcr0_high) : "c"(0));
        if ((xcr0 & 0x6) != 0x6) return f; // XMM and YMM state
        if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return f;
        const bool avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
        f.avx2 = avx2 && fma && f16c;
        f.avx512 = f.avx2 && avx512f && avx512bw && avx512vl && (xcr0 & 0xe0) == 0xe0; // opmask and ZMM state
#endif
#if defined(__aarch64__)
        f.neon = true;
#if defined(__APPLE__)
        int dotprod = 0;
        size_t size = sizeof dotprod;
        f.neon_dotprod = sysctlbyname("hw.optional.arm.FEAT_DotProd", &dotprod, &size, nullptr, 0) == 0 && dotprod != 0;
#elif defined(__linux__)
        f.neon_dotprod = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
#endif
        return f;
    }();
    return features;
}

} // namespace lmrt
