#!/usr/bin/env bash
# Configures and builds cpp/ (CMakeLists.txt at the top level) into libvladapt.so.
#   cmake-build.sh BUILD_DIR TORCH_INCLUDE LIBTORCH_DIR OUTPUT_DIR CUDA(ON|OFF|AUTO)
set -euo pipefail
build=$1; inc=$2; libs=$3; outdir=$4; cuda=${5:-OFF}
root=$(cd "$(dirname "$0")/.." && pwd)
command -v cmake >/dev/null || { echo "cmake-build: cmake is not on the PATH (apt-get install cmake)" >&2; exit 1; }
for f in libtorch_cpu.so libc10.so; do
  [ -f "$libs/$f" ] || { echo "cmake-build: $libs/$f is missing (the maven-dependency-plugin unpacks it from the pytorch jar)" >&2; exit 1; }
done
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DTORCH_INCLUDE_DIR="$inc" -DLIBTORCH_DIR="$libs" -DVLADAPT_OUTPUT_DIR="$outdir" -DVLADAPT_CUDA="$cuda" >/dev/null
cmake --build "$build" -j "$(nproc)"
