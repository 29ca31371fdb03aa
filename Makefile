# nmpu: two commands do everything.
#   make        the main job: generate the NMPU's Verilog from the default configuration
#   make test   every check: format, clippy, all tests, RTL lint
# External tools (Verilator, Yosys, Icarus) are installed from Debian packages when missing.

CARGO   ?= cargo
DEFAULT := configs/default.toml
CONFIG  ?= $(DEFAULT)
NMPU    := target/release/nmpu
# The default config's Verilog is the tracked rtl_out/; any other config's goes to the
# ignored build/rtl/<config name>/.
RTL_OUT ?= $(if $(filter $(DEFAULT),$(CONFIG)),rtl_out,build/rtl/$(basename $(notdir $(CONFIG))))
# The tests that run Verilator, Icarus, Yosys or nextpnr.
TOOLS   := --features nmpu-verification/tools,nmpu-cli/tools,nmpu-eda/tools

.PHONY: all build run rtl lint compare cosim synth report lanes tune accuracy tune-accuracy prove prove-netlist test check pure fmt-check clippy unit deps bench clean help

all: rtl

help:
	@echo "make          generate rtl_out/ from $(DEFAULT) (make rtl CONFIG=c.toml: into build/rtl/c/)"
	@echo "make lint     Verilator -Wall, Icarus -Wall, Yosys check + synth (no latches) on $(RTL_OUT)/"
	@echo "make test     format check, clippy -D warnings, all tests (installs EDA tools if missing)"
	@echo "make check    the fast tier: format check, clippy, the tests that need no EDA tool (minutes)"
	@echo "make compare  fixed point vs FP16 vs f64 on $(CONFIG) (CONFIG=... to change)"
	@echo "make cosim    Verilator co-simulation of $(CONFIG)'s RTL against the golden model"
	@echo "make synth    Yosys + iCE40 synthesis of every block of $(CONFIG) -> synth_out/ (minutes)"
	@echo "make report   fixed point vs FP16 side by side: area, depth, latency, accuracy -> synth_out/ (minutes)"
	@echo "make lanes    generated lane vs the hand-written reference on the four reference configs (about 1 min)"
	@echo "make tune     precision search on $(CONFIG)'s synthetic tile -> synth_out/tuned.toml (+ Pareto CSV/JSON/SVG; minutes)"
	@echo "make accuracy Fashion-MNIST through the tiles with the f64, FP16 and $(CONFIG)'s NMPU, 5 seeds -> synth_out/ (a minute)"
	@echo "make tune-accuracy  the precision search judged by that accuracy (0.1 points below FP16) -> synth_out/ (minutes)"
	@echo "make prove    formal proof (Yosys SAT) of $(CONFIG)'s lanes, banks and stream (a minute)"
	@echo "make prove-netlist  the same proof of $(CONFIG)'s post-synthesis netlist (Yosys synth; minutes)"
	@echo "make bench    golden-model, co-simulation and network-accuracy throughput, model build time"
	@echo "make deps     install Verilator, Yosys, Icarus, nextpnr-ice40, the osu018 cell library if missing"

build:
	$(CARGO) build --release --locked -p nmpu-cli

# The main job: the Verilog of the configured NMPU into $(RTL_OUT).
rtl: build
	$(NMPU) generate --config $(CONFIG) --out $(RTL_OUT)

run: rtl

lint: deps rtl
	scripts/lint-rtl.sh $(RTL_OUT)

compare: build
	$(NMPU) compare --config $(CONFIG)

cosim: deps build
	$(NMPU) cosim --config $(CONFIG)

# Opt-in: the default config's synthesis takes several minutes per block.
synth: deps build
	mkdir -p synth_out
	$(NMPU) synth --config $(CONFIG) --block all --ice40 --json synth_out/synth.json | tee synth_out/synth.txt

# Opt-in: fixed-point vs FP16 side by side (synthesis of both, accuracy); minutes.
report: deps build
	mkdir -p synth_out
	$(NMPU) report --config $(CONFIG) --ice40 --json synth_out/report.json | tee synth_out/report.txt

# The generated lane against the hand-written reference (verification/reference/) on the four
# reference configs: area, timing, synthesis time.
LANE_CONFIGS := default fused8 narrow wide
lanes: deps build
	@for c in $(LANE_CONFIGS); do \
		echo "== verification/reference/$$c.toml"; \
		$(NMPU) synth --config verification/reference/$$c.toml --block nmpu,nmpu_ref 2>/dev/null || exit 1; \
	done

# Opt-in: the precision search, with the tuned, FP16 and base lanes synthesized to confirm.
tune: deps build
	mkdir -p synth_out
	$(NMPU) tune --config $(CONFIG) --out synth_out/tuned.toml | tee synth_out/tune.txt

# Opt-in: the network's test accuracy through the tiles (trains the network once, cached).
accuracy: deps build
	mkdir -p synth_out
	$(NMPU) accuracy --config $(CONFIG) --json synth_out/accuracy.json --plot synth_out/accuracy.svg | tee synth_out/accuracy.txt

# Opt-in: the precision search with the network's accuracy as its budget, lanes confirmed.
tune-accuracy: deps build
	mkdir -p synth_out
	$(NMPU) tune --config $(CONFIG) --budget accuracy=0.1 --out synth_out/tuned-accuracy.toml | tee synth_out/tune-accuracy.txt

# Opt-in: the formal proof of the config's NMPU (lanes, banks, stream); about a minute.
prove: deps build
	$(NMPU) prove --config $(CONFIG)

# The same proof on the post-synthesis netlist (Yosys synth, hierarchy kept).
prove-netlist: deps build
	$(NMPU) prove --netlist --config $(CONFIG)

deps:
	@scripts/install-tools.sh

fmt-check:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --locked --workspace --all-targets $(TOOLS) -- -D warnings

# Every test, the tool tiers included. Optimised: the co-simulation tests compute and
# compare millions of golden-model outputs.
unit:
	$(CARGO) test --release --locked --workspace $(TOOLS)

# The tests that need no EDA tool (what `cargo test` runs on a machine without them).
pure:
	$(CARGO) test --locked --workspace

# The fast tier for the edit loop.
check: fmt-check clippy pure

# The lint lints the committed rtl_out/, which a test has just found equal to the
# generator's output for the default config; nothing writes into it.
test: deps fmt-check clippy unit
	scripts/lint-rtl.sh rtl_out

bench: deps
	$(CARGO) bench --locked -p nmpu-model -p nmpu-tune -p nmpu-verification -p nmpu-net --features nmpu-verification/tools

clean:
	$(CARGO) clean
