// How fast this machine streams memory into the cores: the denominator of
// the decode roofline (a decode step reads every weight once).
#pragma once

#include <cstdint>

namespace lmrt {

// Reads a buffer of `bytes` (touched first, so it is resident) with
// `n_threads` threads, each its own contiguous slice, `passes` times, and
// returns the best pass's rate in bytes per second.
double measure_read_bandwidth(uint64_t bytes, int n_threads, int passes);

} // namespace lmrt
