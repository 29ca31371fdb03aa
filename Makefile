# nmpu: two commands do everything.
#   make        the main job on the default configuration
#   make test   every check: format, lints, unit/property/CLI tests
# External tools (Verilator, Yosys, Icarus) are installed from Debian packages when missing.

CARGO   ?= cargo
CONFIG  ?= configs/default.toml
NMPU    := target/release/nmpu

.PHONY: all build run compare test fmt-check clippy unit deps bench clean help

all: run

help:
	@echo "make          build and run the main job on $(CONFIG)"
	@echo "make test     format check, clippy -D warnings, all tests (installs EDA tools if missing)"
	@echo "make compare  fixed point vs FP16 vs f64 on $(CONFIG) (CONFIG=... to change)"
	@echo "make bench    golden-model throughput (elements/s)"
	@echo "make deps     install Verilator, Yosys, Icarus from Debian packages if missing"

build:
	$(CARGO) build --release --locked -p nmpu-cli

# The main job. Until the RTL generator lands it validates the config and compares the
# three models on it.
run: build
	$(NMPU) config --config $(CONFIG) > /dev/null
	$(NMPU) compare --config $(CONFIG)

compare: build
	$(NMPU) compare --config $(CONFIG)

deps:
	@scripts/install-tools.sh

fmt-check:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --locked --workspace

test: deps fmt-check clippy unit

bench:
	$(CARGO) bench --locked -p nmpu-model

clean:
	$(CARGO) clean
