#!/usr/bin/env bash
# Lints the generated Verilog (nmpu.v, and adc_capture.v, pwm_dac.v, nmpu_fp16.v, tile_io.v when present) with the three tools, failing on any warning that is not
# waived in constraints/verilator.vlt:
#   Verilator --lint-only -Wall; Icarus -g2005 -Wall; Yosys hierarchy -check, proc,
#   check -assert, and (unless --no-synth) a hierarchical synth with an assertion of no latches
#   (not flattened: a latch is inferred inside the module that describes it, so every module
#   synthesized once is enough, and the 256-column blocks take seconds instead of minutes);
#   then every lint target of the FuseSoC core file nmpu.core through FuseSoC.
# Usage: scripts/lint-rtl.sh DIR [--no-synth]     (DIR holds nmpu.v and the interface blocks)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$1"; synth=1
[ "${2:-}" = "--no-synth" ] && synth=0
[ -f "$dir/nmpu.v" ] || { echo "lint-rtl: $dir/nmpu.v not found (run: make rtl)" >&2; exit 1; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

# lint_one "FILES" TOP [SYNTH]: the three tools on one generated block (SYNTH 0: no synthesis).
lint_one() {
    local v="$1" top="$2" synth="${3:-$synth}"
    verilator --lint-only -Wall "$root/constraints/verilator.vlt" --top-module "$top" $v 2>"$tmp/verilator.log" || {
        cat "$tmp/verilator.log" >&2; echo "lint-rtl: $top: verilator failed" >&2; exit 1; }
    if grep -q '%Warning' "$tmp/verilator.log"; then cat "$tmp/verilator.log" >&2; exit 1; fi
    echo "lint-rtl: $top: verilator -Wall clean (waivers: constraints/verilator.vlt)"

    iverilog -g2005 -Wall -o "$tmp/a.out" $v 2>"$tmp/iverilog.log" || { cat "$tmp/iverilog.log" >&2; exit 1; }
    if [ -s "$tmp/iverilog.log" ]; then cat "$tmp/iverilog.log" >&2; echo "lint-rtl: $top: iverilog warnings" >&2; exit 1; fi
    echo "lint-rtl: $top: iverilog -g2005 -Wall clean"

    local script="read_verilog $v; hierarchy -check -top $top; proc; check -assert"
    if [ "$synth" = 1 ]; then
        script="$script; synth -top $top; select -assert-none t:\$dlatch t:\$adlatch t:\$_DLATCH_* t:\$_DLATCHSR_*; tee -o $tmp/stat.txt stat"
    fi
    yosys -q -p "$script" >"$tmp/yosys.log" 2>&1 || { cat "$tmp/yosys.log" >&2; echo "lint-rtl: $top: yosys failed" >&2; exit 1; }
    if [ "$synth" = 1 ]; then
        local cells ffs
        # Totals of the whole hierarchy (the section after "design hierarchy"; a design of
        # one module has no such section).
        sed -n '/design hierarchy/,$p' "$tmp/stat.txt" >"$tmp/total.txt"
        [ -s "$tmp/total.txt" ] || cp "$tmp/stat.txt" "$tmp/total.txt"
        cells=$(grep -m1 "Number of cells" "$tmp/total.txt" | awk '{print $4}')
        ffs=$(grep -E '\$_(S?DFF|DFFE|SDFFE|SDFFCE)[A-Z0-9_]*' "$tmp/total.txt" | awk '{s+=$2} END {print s+0}')
        echo "lint-rtl: $top: yosys check -assert clean; synth: no latches, $cells cells, $ffs flip-flops"
    else
        echo "lint-rtl: $top: yosys hierarchy/proc/check -assert clean"
    fi
}

lint_one "$dir/nmpu.v" nmpu
if [ -f "$dir/adc_capture.v" ]; then lint_one "$dir/adc_capture.v" adc_capture; fi
if [ -f "$dir/pwm_dac.v" ]; then lint_one "$dir/pwm_dac.v" pwm_dac; fi
if [ -f "$dir/nmpu_fp16.v" ]; then lint_one "$dir/nmpu_fp16.v" nmpu_fp16; fi
# The chain is structural: its parts are synthesized above, so it is only checked.
if [ -f "$dir/tile_io.v" ]; then lint_one "$dir/nmpu.v $dir/adc_capture.v $dir/tile_io.v" tile_io 0; fi

# The FuseSoC core file: every lint target runs through FuseSoC (edalize -> Verilator).
if [ -f "$dir/nmpu.core" ]; then
    fusesoc="${NMPU_FUSESOC_VENV:-/opt/nmpu-fusesoc}/bin/fusesoc"
    [ -x "$fusesoc" ] || { echo "lint-rtl: $fusesoc not found (run: make deps)" >&2; exit 1; }
    core=$(sed -n 's/^name: //p' "$dir/nmpu.core")
    cores="$(cd "$dir" && pwd)"
    for target in $(sed -n 's/^  \(lint_[a-z0-9_]*\):$/\1/p' "$dir/nmpu.core"); do
        (cd "$tmp" && "$fusesoc" --cores-root "$cores" run --build-root "$tmp/fusesoc" \
            --target "$target" "$core") >"$tmp/fusesoc.log" 2>&1 || {
            cat "$tmp/fusesoc.log" >&2; echo "lint-rtl: fusesoc $target failed" >&2; exit 1; }
        echo "lint-rtl: fusesoc run --target $target $core: clean"
    done
fi
