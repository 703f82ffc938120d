#!/usr/bin/env bash
# Installs NVIDIA's CUDA compiler from PyPI into a virtual environment, for machines with no
# CUDA toolkit (CI, laptops). Prints the path of the nvcc it installed.
#   kernels-jcuda/toolchain/install-nvcc.sh [VENV_DIR]      (default: .venv-nvcc at the repo root)
#
# Pinned to CUDA 13.0: the GPU machines run driver 580 (CUDA 13.0), and a driver refuses PTX whose
# ISA version is newer than its own, which a newer nvcc would write. nvcc needs, besides itself:
# cicc (nvvm), the crt and runtime headers, and cccl (cuda_bf16.h includes <nv/target>).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=${1:-$(cd "$here/../.." && pwd)/.venv-nvcc}
cuda_version=13.0

packages=(
  nvidia-cuda-nvcc==13.0.88
  nvidia-nvvm==13.0.88
  nvidia-cuda-crt==13.0.88
  nvidia-cuda-runtime==13.0.96
  nvidia-cuda-cccl==13.0.85
)

nvcc=$venv/nvcc-bin/nvcc
if [ ! -x "$nvcc" ]; then
  python=$(command -v python3 || command -v python || true)
  if [ -z "$python" ]; then
    echo "install-nvcc: no python3 to install nvcc with; install a CUDA $cuda_version toolkit or python3" >&2
    exit 1
  fi
  echo "install-nvcc: installing CUDA $cuda_version nvcc from PyPI into $venv" >&2
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}"
  # The wheels put the toolkit under site-packages/nvidia/cu13; a stable link keeps callers
  # independent of the Python version.
  toolkit=$("$venv/bin/python" -c 'import nvidia, os; print(os.path.join(nvidia.__path__[0], "cu13"))')
  ln -sfn "$toolkit/bin" "$venv/nvcc-bin"
fi
"$nvcc" --version | grep -q "release $cuda_version" || {
  echo "install-nvcc: $nvcc is not CUDA $cuda_version" >&2
  exit 1
}
echo "$nvcc"
