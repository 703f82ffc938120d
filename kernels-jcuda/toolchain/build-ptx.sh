#!/usr/bin/env bash
# Compiles the CUDA C sources of kernels-jcuda to PTX, which the jar ships and the driver
# compiles for the GPU it runs on. Maven calls this in generate-resources.
#   build-ptx.sh SOURCE_DIR OUTPUT_DIR REPORT
#
# X.cu becomes X.ptx for compute_80 (runs on A100, H100 and later); X.sm90a.cu becomes
# X.sm90a.ptx for compute_90a (Hopper-only instructions such as wgmma; loaded only on CC 9.0).
# OUTPUT_DIR/modules.txt lists the modules for the Java loader. ptxas checks each PTX here, so
# a bad inline-asm line fails the build rather than the first GPU run; its resource report
# (registers, spills) goes to REPORT. Nothing is done when every PTX is
# newer than every source, and nvcc is installed (install-nvcc.sh) only when one is needed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$1
out=$2
report=$3
mkdir -p "$out"

sources=("$src"/*.cu)
up_to_date=true
for cu in "${sources[@]}"; do
  ptx=$out/$(basename "${cu%.cu}").ptx
  if [ ! -f "$ptx" ] || [ -n "$(find "$src" "$here/build-ptx.sh" -newer "$ptx" -print -quit)" ]; then
    up_to_date=false
  fi
done
if $up_to_date && [ -f "$out/modules.txt" ]; then
  exit 0
fi

# nvcc from CUDA 12.x or 13.0 writes PTX that driver 580 (CUDA 13.0) accepts; anything else is
# replaced by the pinned PyPI install.
nvcc=${NVCC:-$(command -v nvcc || true)}
if [ -z "$nvcc" ] || ! "$nvcc" --version | grep -Eq 'release (12\.[0-9]+|13\.0),'; then
  nvcc=$("$here/install-nvcc.sh")
fi
ptxas=$(dirname "$nvcc")/ptxas
mkdir -p "$(dirname "$report")"
: > "$report"
: > "$out/modules.txt.tmp"

for cu in "${sources[@]}"; do
  name=$(basename "${cu%.cu}")
  case "$name" in
    *.sm90a) arch=(-gencode=arch=compute_90a,code=compute_90a); sm=sm_90a; level=90a ;;
    *) arch=(-arch=compute_80); sm=sm_80; level=80 ;;
  esac
  # A source may add nvcc flags on a line "// nvcc-flags: ...", e.g. -fmad=false where every float
  # operation must round as the CPU reference's does.
  read -r -a flags <<< "$(sed -n 's:^//[[:space:]]*nvcc-flags\:\(.*\)$:\1:p' "$cu")"
  echo "build-ptx: $name.cu -> $name.ptx ($level${flags[*]:+, ${flags[*]}})" >&2
  "$nvcc" -ptx -std=c++17 -O3 "${arch[@]}" ${flags[@]+"${flags[@]}"} -I"$src" "$cu" \
    -o "$out/$name.ptx.tmp"
  echo "== $name.ptx on $sm" >> "$report"
  if ! "$ptxas" -arch="$sm" -v "$out/$name.ptx.tmp" -o /dev/null >> "$report" 2>&1; then
    echo "build-ptx: ptxas rejects $name.ptx:" >&2
    grep -v "^ptxas info" "$report" >&2
    exit 1
  fi
  mv "$out/$name.ptx.tmp" "$out/$name.ptx"
  echo "$name.ptx $level" >> "$out/modules.txt.tmp"
done
mv "$out/modules.txt.tmp" "$out/modules.txt"
if grep -q "bytes spill" "$report" && grep "bytes spill" "$report" | grep -vq " 0 bytes spill stores, 0 bytes spill loads"; then
  echo "build-ptx: some kernels spill registers, see $report" >&2
fi
