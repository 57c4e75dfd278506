#!/bin/bash
# One run, back to back, 2 threads: VLAdapt's quantised kernels (`bench quant`: bandwidth, GEMV, GEMM on
# LLaMA-7B shapes) and llama.cpp through node-llama-cpp on Q8_0 and Q4_0 GGUFs of the same shape (written by
# `bench gguf` when missing). Needs about 8 GB of memory: run it under the big-memory and bench locks:
#   flock /tmp/vladapt-bigmem.lock flock /tmp/vladapt-bench.lock bench/quant-vs-llamacpp.sh [GGUF_DIR] [NODE_MODULES]
# node-llama-cpp is installed outside the repository (see bench/llamacpp-bench.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-/work/big/quant}
MODULES=${2:-/work/big/llamacpp/node_modules}
JAR=target/vladapt.jar
mkdir -p "$DIR"
for t in q8_0 q4_0; do
  [ -f "$DIR/llama7b-random-$t.gguf" ] || java -jar $JAR bench gguf --type $t --out "$DIR/llama7b-random-$t.gguf"
done
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "VLAdapt bench quant: peak RSS %M KB, wall %e s" \
  java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -jar $JAR bench quant --threads 2
for t in q8_0 q4_0; do
  echo
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "llama.cpp $t: peak RSS %M KB, wall %e s" \
    node bench/llamacpp-bench.mjs "$DIR/llama7b-random-$t.gguf" --modules "$MODULES" --threads 2 --prefill 128,512 --decode 32 --rounds 3
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
