#!/usr/bin/env bash
# The browser for the end-to-end test, on Debian/Ubuntu (CI runs it before npm test): chromium,
# driven headless by playwright-core (its SwiftShader gives WebGPU without a GPU). Graph
# pictures need nothing: Graphviz is WebAssembly (@viz-js/viz). Installs only what is missing.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  echo "setup-browser: installing chromium" >&2
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends chromium >&2
fi
echo "setup-browser: $(/usr/bin/chromium --version 2>/dev/null | head -1)" >&2
