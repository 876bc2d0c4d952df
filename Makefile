# One cargo profile (release) for the server, the tests and the benchmarks, so DuckDB's C++ is
# compiled once per machine. The target directory lives outside the clone so fresh clones (CI)
# reuse it.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/hitkeep/target
BIN := $(CARGO_TARGET_DIR)/release/hitkeep

.PHONY: system run build test test-rust test-tracker test-spa assets fielddata tracker spa oidc openapi fmt lint

## Build everything and run the server on :8080 with ./data
run: build
	$(BIN) serve $(ARGS)

build: assets
	cargo build --release --locked

## Every test: Rust unit + integration tests (with fuzz smoke), schemathesis against the live API,
## a generated Python client, then the tracker and the dashboard in Chromium against the binary
test: system assets oidc
	cargo build --release --locked
	bash scripts/ensure-nats.sh
	cargo test --release --locked
	bash tests/schemathesis/run.sh
	bash tests/client-python/run.sh
	bash tests/mcp-python/run.sh
	bash tracker/scripts/ensure-chromium.sh
	HITKEEP_BIN=$(BIN) npm test --prefix tracker
	npm test --prefix spa
	HITKEEP_BIN=$(BIN) npm run e2e --prefix spa

test-rust: system assets oidc
	bash scripts/ensure-nats.sh
	cargo test --release --locked

assets: fielddata tracker spa

# The openssl CLI (the https tests make their certificates with it), from apt if missing.
system:
	bash scripts/ensure-system.sh

fielddata: fielddata/node_modules/.package-lock.json

# The OpenID Connect provider the single sign-on tests start (node-oidc-provider, pinned).
oidc: tests/oidc/node_modules/.package-lock.json

tests/oidc/node_modules/.package-lock.json: tests/oidc/package.json tests/oidc/package-lock.json
	npm ci --prefix tests/oidc --no-audit --no-fund

fielddata/node_modules/.package-lock.json: fielddata/package.json fielddata/package-lock.json
	npm ci --prefix fielddata --no-audit --no-fund

tracker: tracker/dist/hk.js

tracker/dist/hk.js: tracker/package.json tracker/package-lock.json $(wildcard tracker/src/*.ts)
	npm ci --prefix tracker --no-audit --no-fund
	npm run --prefix tracker build

spa: spa/dist/browser/index.html

# The dashboard, embedded by the binary. Its API client is generated from openapi/openapi.json,
# so an API change that breaks the SPA fails here.
spa/dist/browser/index.html: spa/package.json spa/package-lock.json spa/angular.json openapi/openapi.json \
		$(shell find spa/src spa/public spa/scripts -type f -not -name schema.d.ts 2>/dev/null)
	npm ci --prefix spa --no-audit --no-fund
	npm run --prefix spa build

## Dashboard unit tests and end-to-end tests (needs the release binary)
test-spa: spa oidc
	npm test --prefix spa
	bash tracker/scripts/ensure-chromium.sh
	HITKEEP_BIN=$(BIN) npm run e2e --prefix spa

## Regenerate the committed OpenAPI spec from the code
openapi: build
	$(BIN) openapi > openapi/openapi.json

fmt:
	cargo fmt

lint:
	cargo clippy --release --locked --all-targets -- -D warnings
