// What this CPU can run, detected once at first use. The one piece of
// process-wide state lmrt keeps (it never changes after detection).
#pragma once

namespace lmrt {

struct CpuFeatures {
    bool avx2 = false; // with FMA and F16C
    bool avx512 = false; // F, BW, VL
    bool neon = false; // AArch64's Advanced SIMD (always there)
    bool neon_dotprod = false; // with SDOT/UDOT (the ARMv8.2 dot product extension)
};

const CpuFeatures &cpu_features();

} // namespace lmrt
