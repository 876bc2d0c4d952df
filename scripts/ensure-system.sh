#!/usr/bin/env bash
# Installs the system tools the tests need if they are missing (Debian/Ubuntu): the openssl CLI,
# with which the https tests (webhooks_tls, sso_tls) make their certificate authorities.
# Idempotent; does nothing when everything is there.
set -euo pipefail
if command -v openssl >/dev/null; then
  echo "system tools present: openssl"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "missing the openssl CLI and no apt-get: install it with the system's package manager" >&2
  exit 1
fi
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq openssl
