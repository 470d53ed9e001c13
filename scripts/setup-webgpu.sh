#!/usr/bin/env bash
# WebGPU without a GPU, for CI and Debian/Ubuntu machines: Debian's `chromium` ships SwiftShader's
# Vulkan driver and `libvulkan1` is the loader; the `webgpu` package (Dawn) then finds a software
# adapter once VK_ICD_FILENAMES names SwiftShader's ICD (Mesa's lavapipe in Debian 12 is rejected by Dawn).
# Usage:  eval "$(bash scripts/setup-webgpu.sh)"   (installs what is missing, prints the exports to eval)
set -euo pipefail
icd=/usr/lib/chromium/vk_swiftshader_icd.json
missing=()
dpkg -s libvulkan1 >/dev/null 2>&1 || missing+=(libvulkan1)
[ -f "$icd" ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-webgpu: installing ${missing[*]}" >&2
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
[ -f "$icd" ] || { echo "setup-webgpu: $icd is still missing after installing chromium" >&2; exit 1; }
# Dawn warns "XDG_RUNTIME_DIR is invalid" unless it names a writable folder.
runtime_dir="${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}"
export VK_ICD_FILENAMES="$icd" XDG_RUNTIME_DIR="$runtime_dir"
echo "export VK_ICD_FILENAMES=$icd"
echo "export XDG_RUNTIME_DIR=$runtime_dir"
