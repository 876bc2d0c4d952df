#!/usr/bin/env bash
# Installs Debian's Chromium for the tracker's end-to-end tests, if it is not there yet.
# Idempotent: does nothing when /usr/bin/chromium (or $CHROMIUM) already exists.
set -euo pipefail
bin="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$bin" ]; then
  echo "chromium present: $bin"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
"$bin" --version
