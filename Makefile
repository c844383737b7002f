# The two commands of the README, plus the benchmark.
CARGO ?= cargo
DATA_DIR ?= data

.PHONY: run test bench deps build lint fuzz

deps:
	scripts/install-deps

build: deps
	$(CARGO) build --release --locked

# Installs what is missing, builds, loads the sample curriculum and serves it on 127.0.0.1:8080.
run: build
	YJ__STORAGE__DATA_DIR=$(DATA_DIR) target/release/yuanjiao ingest media
	YJ__STORAGE__DATA_DIR=$(DATA_DIR) exec target/release/yuanjiao serve

# Installs what is missing and runs every test.
test: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	if cargo nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --locked --no-tests=fail; \
	else \
		$(CARGO) test --locked; \
	fi

# Fuzzes every parser of untrusted input for FUZZ_SECONDS each (default 60; scripts/fuzz).
fuzz: deps
	scripts/fuzz

lint:
	$(CARGO) clippy --all-targets -- -D warnings

bench:
	scripts/bench-delivery
	scripts/bench-media
	scripts/bench-people
	scripts/bench-catalog
	scripts/bench-ledger
	scripts/bench-upload
