#!/usr/bin/env bash
# Puts the part of torch/include that libtorch's stable C ABI needs under OUT/include.
#   torch-headers.sh OUT VERSION [GIVEN]
# GIVEN: a folder that already holds torch/include (or include/torch): copied, no download.
# Otherwise the torch VERSION wheel is fetched with pip (no deps; a local wheel store is used
# first when pip is configured with one) and only the stable-ABI closure is extracted.
# Headers are never committed: they land under target/ and are reused while target/ lives.
set -euo pipefail
out=$1; version=$2; given=${3:-}
stamp="$out/.complete-$version"
closure=(torch/csrc/stable torch/csrc/inductor/aoti_torch torch/headeronly)

if [ -f "$stamp" ] && [ -z "$given" ]; then
  exit 0
fi
rm -rf "$out"; mkdir -p "$out/include"

if [ -n "$given" ]; then
  src=""
  for cand in "$given" "$given/include" "$given/torch/include"; do
    [ -d "$cand/torch/csrc/stable" ] && src=$cand && break
  done
  if [ -z "$src" ]; then
    echo "torch-headers: -Dtorch.headers=$given holds no torch/csrc/stable (expected DIR/torch/csrc/stable or DIR/include/torch/csrc/stable)" >&2
    exit 1
  fi
  for d in "${closure[@]}"; do mkdir -p "$out/include/$(dirname "$d")"; cp -r "$src/$d" "$out/include/$d"; done
  touch "$stamp"; exit 0
fi

command -v python3 >/dev/null || { echo "torch-headers: python3 (with pip) is needed to fetch the torch $version wheel, or pass -Dtorch.headers=DIR" >&2; exit 1; }
wheel_dir="$out/wheel"; mkdir -p "$wheel_dir"
echo "torch-headers: fetching torch==$version (no deps) for its headers"
# --no-index first: machines with a local wheel store answer in seconds without touching the network.
if ! python3 -m pip download -q "torch==$version" --no-deps --no-index -d "$wheel_dir" 2>/dev/null; then
  python3 -m pip download -q "torch==$version" --no-deps -d "$wheel_dir" \
    || { echo "torch-headers: pip could not fetch torch==$version; pass -Dtorch.headers=DIR" >&2; exit 1; }
fi
wheel=$(ls "$wheel_dir"/torch-*.whl | head -n 1)
patterns=()
for d in "${closure[@]}"; do patterns+=("torch/include/$d/*"); done
# unzip -d extracts torch/include/...; move include up one level so OUT/include/torch/... exists.
python3 - "$wheel" "$out/x" "${patterns[@]}" <<'PY'
import fnmatch, sys, zipfile
wheel, dest, pats = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if any(fnmatch.fnmatch(n, p) for p in pats)]
    if not names:
        sys.exit("torch-headers: the wheel holds none of the stable-ABI headers")
    for n in names:
        z.extract(n, dest)
PY
mv "$out/x/torch/include/torch" "$out/include/torch"
rm -rf "$out/x" "$wheel_dir"
touch "$stamp"
echo "torch-headers: $(find "$out/include" -type f | wc -l) headers in $out/include"
