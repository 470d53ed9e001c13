#!/usr/bin/env bash
# PyTorch (CPU wheels) for the export agreement test (test/export-pytorch.test.ts): a virtual
# environment with torch and numpy, made once and reused. Debian's python3 needs python3-venv
# (and its ensurepip) for `python3 -m venv`; it is installed when missing.
# Usage:  eval "$(bash scripts/setup-torch.sh)"   (prints GRAPH_RUN_PYTHON and GRAPH_RUN_REQUIRE_TORCH)
# GRAPH_RUN_TORCH_VENV chooses the folder (default: graph-run-torch-venv in $TMPDIR or /tmp).
set -euo pipefail
venv="${GRAPH_RUN_TORCH_VENV:-${TMPDIR:-/tmp}/graph-run-torch-venv}"
if ! "$venv/bin/python" -c 'import torch, numpy' >/dev/null 2>&1; then
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "setup-torch: installing python3-venv" >&2
    sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends python3-venv >&2
  fi
  echo "setup-torch: making $venv with torch and numpy (CPU)" >&2
  python3 -m venv "$venv" >&2
  # From pip's configured sources (a local wheelhouse in CI). On a machine with internet access,
  # PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu gives the CPU build; PyPI's Linux
  # wheel brings CUDA libraries (gigabytes) that the CPU test does not use.
  "$venv/bin/pip" install --quiet torch numpy >&2
fi
"$venv/bin/python" -c 'import torch, numpy' >&2
echo "export GRAPH_RUN_PYTHON=$venv/bin/python"
echo "export GRAPH_RUN_REQUIRE_TORCH=1"
