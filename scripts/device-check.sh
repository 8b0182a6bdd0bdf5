#!/usr/bin/env bash
# The CUDA backend on a GPU machine, in one run (under 8 minutes on an
# H100/H200; needs nvcc, cmake and a C++ compiler, not Node):
#   1. builds liblmrt_cuda, its tests and its benchmark for this GPU;
#   2. runs every kernel test and the whole-model comparison with the CPU
#      backend (models from LMRT_TEST_MODELS, default ../shared/models, and
#      LMRT_CUDA_SYNTH_MODELS, default .device/models when it exists; where
#      ../shared is absent, .device/stories: `node scripts/device-models.mjs`
#      writes both folders where Node is, to carry to the GPU machine);
#   3. benchmarks (bench/cuda/device_bench.cu) and PyTorch's SDPA on the same
#      attention shapes where PyTorch is installed;
#   4. prints the benchmark's table last.
# OUT (default build/device-check/out) receives the logs.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/device-check}
OUT=${OUT:-$BUILD/out}
mkdir -p "$OUT"
start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start )) s"; }

if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH=/usr/local/cuda/bin:$PATH; fi
echo "nvcc: $(nvcc --version | tail -1); cmake: $(cmake --version | head -1); c++: $(c++ --version | head -1)"
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ' || true)
arch=${arch:-90}
echo "== build for sm_$arch ($(nproc) cores)"
cmake -S . -B "$BUILD" -DLMRT_CUDA=ON -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$arch" --log-level=WARNING > "$OUT/configure.log"
cmake --build "$BUILD" --parallel "$(nproc)" --target lmrt_cuda lmrt_cuda_tests lmrt_cuda_bench > "$OUT/build.log" 2>&1 ||
  { tail -40 "$OUT/build.log"; exit 1; }
echo "built in $(elapsed)"

echo "== kernel and whole-model tests"
if [ -z "${LMRT_TEST_MODELS:-}" ]; then
  LMRT_TEST_MODELS=../shared/models
  [ -d "$LMRT_TEST_MODELS" ] || [ ! -d .device/stories ] || LMRT_TEST_MODELS=$PWD/.device/stories
fi
export LMRT_TEST_MODELS
if [ -z "${LMRT_CUDA_SYNTH_MODELS:-}" ] && [ -d .device/models ]; then export LMRT_CUDA_SYNTH_MODELS=$PWD/.device/models; fi
tests_status=0
"$BUILD/lmrt_cuda_tests" 2>&1 | tee "$OUT/tests.log" || tests_status=$?
echo "tests done in $(elapsed) (exit $tests_status)"

echo "== PyTorch SDPA on the attention shapes"
sdpa_args=()
if python3 -c 'import torch' 2>/dev/null; then
  if timeout 120 python3 bench/cuda/sdpa.py > "$OUT/sdpa.txt" 2> "$OUT/sdpa.err"; then
    cat "$OUT/sdpa.txt"
    sdpa_args=(--sdpa "$OUT/sdpa.txt")
  else
    echo "sdpa.py failed:"; tail -5 "$OUT/sdpa.err"
  fi
else
  echo "no PyTorch here: the SDPA column stays empty"
fi

echo "== benchmark (after $(elapsed))"
# what is left of 7 minutes for writing and timing the synthetic models
budget=$(( 420 - ($(date +%s) - start) ))
echo "tests exit $tests_status; the table comes last"
"$BUILD/lmrt_cuda_bench" --dir "${BENCH_DIR:-/tmp/lmrt-cuda-bench}" --budget "$budget" ${sdpa_args[@]+"${sdpa_args[@]}"} 2>&1 | tee "$OUT/bench.log"
exit "$tests_status"
