#!/usr/bin/env bash
# npm run prebuild:linux: the Linux prebuilt binaries,
#   prebuilds/linux-x64/lmrt.glibc.node and prebuilds/linux-arm64/lmrt.glibc.node,
# built inside a Debian 11 (bullseye) root with its own g++ 10, its AArch64
# cross g++ and its glibc 2.31, so that nothing in them asks for a newer
# glibc than Debian 11's (libstdc++ and libgcc are linked in statically).
# The x86-64 binary's baseline code targets plain x86-64; its AVX2 and
# AVX-512 kernels are compiled per function and chosen at run time.
#
# The root is made once with debootstrap (as root; about 1.5 GB, a few
# minutes) under LMRT_BUILD_ROOT (default build/bullseye) and reused; the
# build folders inside it are kept, so later runs rebuild what changed.
# Needs: root, debootstrap (installed with apt-get when missing), and
# access to a Debian mirror (LMRT_DEBIAN_MIRROR, default deb.debian.org).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
root=${LMRT_BUILD_ROOT:-build/bullseye}
mirror=${LMRT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
jobs=$(nproc)

if [ "$(id -u)" != 0 ]; then
  echo "prebuild:linux: needs root (debootstrap and chroot)" >&2
  exit 1
fi
if [ ! -x "$root/usr/bin/aarch64-linux-gnu-g++" ] || [ ! -x "$root/usr/bin/cmake" ]; then
  if ! command -v debootstrap >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q debootstrap >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q debootstrap >/dev/null; }
  fi
  echo "prebuild:linux: making a Debian 11 build root in $root (once)"
  rm -rf "$root"
  mkdir -p "$root"
  debootstrap --variant=minbase --include=g++,cmake,make,binutils,g++-aarch64-linux-gnu bullseye "$root" "$mirror" >"$root.log" 2>&1 ||
    { tail -20 "$root.log" >&2; echo "prebuild:linux: debootstrap failed (log: $root.log)" >&2; exit 1; }
fi

# the sources, copied with their times so that the kept build folders rebuild what changed
src="$root/src"
mkdir -p "$src/node_modules"
rm -rf "$src/native" "$src/cmake" "$src/node_modules/node-api-headers" "$src/node_modules/node-addon-api"
cp -a native cmake CMakeLists.txt "$src/"
cp -a node_modules/node-api-headers node_modules/node-addon-api "$src/node_modules/"

build() { # <platform-arch> <strip> [cmake args...]
  local target=$1 strip=$2
  shift 2
  echo "prebuild:linux: $target"
  chroot "$root" /bin/sh -c "cd /src && cmake -S . -B build-$target -DCMAKE_BUILD_TYPE=Release -DCMAKE_JS_VERSION=prebuild \
      '-DCMAKE_JS_INC=/src/node_modules/node-api-headers/include;/src/node_modules/node-addon-api' \
      -DNODE_ADDON_API_DIR=/src/node_modules/node-addon-api -DCMAKE_LIBRARY_OUTPUT_DIRECTORY=/src/out/$target $* >/dev/null &&
    cmake --build build-$target --target lmrt_addon -j $jobs >/dev/null && $strip -o /src/out/$target/lmrt.glibc.node /src/out/$target/lmrt.node"
  mkdir -p "$repo/prebuilds/$target"
  cp "$src/out/$target/lmrt.glibc.node" "$repo/prebuilds/$target/lmrt.glibc.node"
  echo "  prebuilds/$target/lmrt.glibc.node ($(du -k "$repo/prebuilds/$target/lmrt.glibc.node" | cut -f1) KiB)"
}
build linux-x64 strip
build linux-arm64 aarch64-linux-gnu-strip -DCMAKE_TOOLCHAIN_FILE=/src/cmake/aarch64-linux-gnu.cmake
