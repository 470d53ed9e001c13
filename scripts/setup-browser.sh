#!/usr/bin/env bash
# System packages for the browser end-to-end test and the graph pictures, on Debian/Ubuntu
# (CI runs it before npm test): chromium, driven headless by playwright-core (its SwiftShader
# gives WebGPU without a GPU), and graphviz (`graph-run dot --svg`). Installs only what is missing.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-browser: installing ${missing[*]}" >&2
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
echo "setup-browser: $(/usr/bin/chromium --version 2>/dev/null | head -1); $(dot -V 2>&1)" >&2
