#!/usr/bin/env bash
# Installs the system packages the build and the tests need if they are missing (Debian/Ubuntu):
# OpenSSL headers and pkg-config for webauthn-rs (passkeys), the openssl CLI that the https tests
# use to make their certificates. Idempotent; does nothing when everything is there.
set -euo pipefail
missing=()
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v openssl >/dev/null || missing+=(openssl)
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages present: pkg-config, openssl, libssl-dev"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "missing ${missing[*]} and no apt-get: install them with the system's package manager" >&2
  exit 1
fi
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
