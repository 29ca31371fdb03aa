#!/usr/bin/env bash
# Lints generated NMPU Verilog with the three tools, failing on any warning that is not
# waived in constraints/verilator.vlt:
#   Verilator --lint-only -Wall; Icarus -g2005 -Wall; Yosys hierarchy -check, proc,
#   check -assert, and (unless --no-synth) synth -flatten with an assertion of no latches.
# Usage: scripts/lint-rtl.sh DIR [--no-synth]     (DIR holds nmpu.v)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$1"; synth=1
[ "${2:-}" = "--no-synth" ] && synth=0
v="$dir/nmpu.v"
[ -f "$v" ] || { echo "lint-rtl: $v not found (run: make rtl)" >&2; exit 1; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

verilator --lint-only -Wall "$root/constraints/verilator.vlt" --top-module nmpu "$v" 2>"$tmp/verilator.log" || {
    cat "$tmp/verilator.log" >&2; echo "lint-rtl: verilator failed" >&2; exit 1; }
if grep -q '%Warning' "$tmp/verilator.log"; then cat "$tmp/verilator.log" >&2; exit 1; fi
echo "lint-rtl: verilator -Wall clean (waivers: constraints/verilator.vlt)"

iverilog -g2005 -Wall -o "$tmp/a.out" "$v" 2>"$tmp/iverilog.log" || { cat "$tmp/iverilog.log" >&2; exit 1; }
if [ -s "$tmp/iverilog.log" ]; then cat "$tmp/iverilog.log" >&2; echo "lint-rtl: iverilog warnings" >&2; exit 1; fi
echo "lint-rtl: iverilog -g2005 -Wall clean"

script="read_verilog $v; hierarchy -check -top nmpu; proc; check -assert"
if [ "$synth" = 1 ]; then
    script="$script; synth -flatten -top nmpu; select -assert-none t:\$dlatch t:\$adlatch t:\$_DLATCH_* t:\$_DLATCHSR_*; tee -o $tmp/stat.txt stat"
fi
yosys -q -p "$script" >"$tmp/yosys.log" 2>&1 || { cat "$tmp/yosys.log" >&2; echo "lint-rtl: yosys failed" >&2; exit 1; }
if [ "$synth" = 1 ]; then
    cells=$(grep -m1 "Number of cells" "$tmp/stat.txt" | awk '{print $4}')
    ffs=$(grep -E '\$_(S?DFF|DFFE|SDFFE|SDFFCE)[A-Z0-9_]*' "$tmp/stat.txt" | awk '{s+=$2} END {print s+0}')
    echo "lint-rtl: yosys check -assert clean; synth -flatten: no latches, $cells cells, $ffs flip-flops"
else
    echo "lint-rtl: yosys hierarchy/proc/check -assert clean"
fi
