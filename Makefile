# One cargo profile (release) for the server, the tests and the benchmarks, so DuckDB's C++ is
# compiled once per machine. The target directory lives outside the clone so fresh clones (CI)
# reuse it.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/hitkeep/target
BIN := $(CARGO_TARGET_DIR)/release/hitkeep

.PHONY: run build test test-rust test-tracker assets fielddata tracker openapi fmt lint

## Build everything and run the server on :8080 with ./data
run: build
	$(BIN) serve $(ARGS)

build: assets
	cargo build --release --locked

## Every test: Rust unit + integration tests (with fuzz smoke), schemathesis against the live API,
## a generated Python client, then the tracker in Chromium against the binary
test: assets
	cargo build --release --locked
	cargo test --release --locked
	bash tests/schemathesis/run.sh
	bash tests/client-python/run.sh
	bash tracker/scripts/ensure-chromium.sh
	HITKEEP_BIN=$(BIN) npm test --prefix tracker

test-rust: assets
	cargo test --release --locked

assets: fielddata tracker

fielddata: fielddata/node_modules/.package-lock.json

fielddata/node_modules/.package-lock.json: fielddata/package.json fielddata/package-lock.json
	npm ci --prefix fielddata --no-audit --no-fund

tracker: tracker/dist/hk.js

tracker/dist/hk.js: tracker/package.json tracker/package-lock.json $(wildcard tracker/src/*.ts)
	npm ci --prefix tracker --no-audit --no-fund
	npm run --prefix tracker build

## Regenerate the committed OpenAPI spec from the code
openapi: build
	$(BIN) openapi > openapi/openapi.json

fmt:
	cargo fmt

lint:
	cargo clippy --release --locked --all-targets -- -D warnings
