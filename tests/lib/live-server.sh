# Shared by the runners that test a live server from Python (schemathesis, the generated client,
# the MCP client). Source it after `cd` to the checkout; it sets BIN, WORK and the cleanup trap.
# Env: HITKEEP_BIN (default $CARGO_TARGET_DIR/release/hitkeep; built if missing).

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hitkeep/target}"
BIN=${HITKEEP_BIN:-$CARGO_TARGET_DIR/release/hitkeep}
if [ ! -x "$BIN" ]; then cargo build --release --locked --bin hitkeep; fi

WORK=$(mktemp -d)
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# hk_venv VENV REQUIREMENTS CHECK: a venv with the pinned requirements, reinstalled when they
# change or when the executable CHECK (relative to the venv) is missing.
hk_venv() {
  local venv=$1 req=$2 check=$3
  if [ ! -x "$venv/$check" ] || ! cmp -s "$req" "$venv/requirements.txt"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    cp "$req" "$venv/requirements.txt"
  fi
}

# hk_serve [serve flags...]: starts `hitkeep serve` on a free port with the data directory
# $WORK/data, sets PORT, BASE and SERVER, and waits until /readyz answers 200.
hk_serve() {
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  BASE=http://127.0.0.1:$PORT
  "$BIN" serve --http "127.0.0.1:$PORT" --data-dir "$WORK/data" --log-level warn "$@" > "$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 150); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz")" = 200 ] && return 0
    kill -0 "$SERVER" 2>/dev/null || { echo "server exited:"; cat "$WORK/server.log"; exit 1; }
    sleep 0.1
  done
  echo "server not ready"; cat "$WORK/server.log"; exit 1
}
